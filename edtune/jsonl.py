"""Crash-safe append-only JSONL logs that survive kill -9 (whole-file writes: `edtune.atomic`).

A JSONL log is appended one record per line, flushed and fsynced per batch. A process killed mid-write
leaves at most one partial last line; `read_jsonl` drops exactly that line (and only when it is the last
one), so a resumed run sees every record that was completely written and nothing else.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from edtune.atomic import atomic_write_json, atomic_write_text
from edtune.errors import DataError

__all__ = ["append_jsonl", "atomic_write_json", "atomic_write_text", "read_jsonl"]
"""`atomic_write_text` and `atomic_write_json` live in `edtune.atomic`; they are re-exported here for
code written before that module existed."""

R = TypeVar("R", bound=BaseModel)


def append_jsonl(path: str | Path, records: Iterable[BaseModel | dict[str, Any]]) -> int:
    """Append records as JSON lines, fsync once at the end; returns how many were written."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = [r.model_dump_json() if isinstance(r, BaseModel) else json.dumps(r, sort_keys=True)
             for r in records]
    if not lines:
        return 0
    with target.open("a", encoding="utf-8") as fh:
        fh.write("".join(line + "\n" for line in lines))
        fh.flush()
        os.fsync(fh.fileno())
    return len(lines)


def _lines(path: Path) -> Iterator[tuple[int, str, bool]]:
    """(1-based row, text, is_last_and_unterminated) for every non-blank line."""
    data = path.read_text(encoding="utf-8")
    lines = data.split("\n")
    terminated = data.endswith("\n")
    for i, line in enumerate(lines, start=1):
        if line.strip():
            yield i, line, (i == len(lines) and not terminated)


def read_jsonl(path: str | Path, model: type[R]) -> list[R]:
    """Every complete record of a JSONL log; a torn final line (from a crash) is dropped.

    Any other malformed line is a DataError naming the file, row and (for schema errors) the field.
    """
    source = Path(path)
    if not source.exists():
        return []
    out: list[R] = []
    for row, line, torn in _lines(source):
        try:
            out.append(model.model_validate_json(line))
        except ValidationError as exc:
            if torn:
                break
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or None
            raise DataError(f"invalid record: {first['msg']}", file=str(source), row=row, field=field) from exc
    return out
