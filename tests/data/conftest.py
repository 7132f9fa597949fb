"""Helpers for the data-loader tests: tiny images drawn with PIL in the test's tmp folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image


def make_png(path: Path, colour: str = "red", size: int = 8) -> Path:
    """Write a small solid-colour PNG and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), colour).save(path, format="PNG")
    return path


@pytest.fixture
def png(tmp_path: Path) -> Callable[..., Path]:
    """`png("a.png")` draws an image at tmp_path/a.png."""
    return lambda name, colour="red": make_png(tmp_path / name, colour)


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[[list[Any]], Path]:
    """Write rows (dicts, or raw strings written as they are) to tmp_path/data.jsonl."""

    def write(rows: list[Any]) -> Path:
        path = tmp_path / "data.jsonl"
        path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
        return path

    return write
