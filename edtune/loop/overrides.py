"""Command-line overrides of a run config: `edtune run CONFIG --set training.lora.min_steps=300`.

An override is `DOTTED.KEY=VALUE`. The value is read as JSON when it parses (`300`, `0.5`, `true`,
`["a", "b"]`, `{"path": "x.jsonl"}`), else taken as a plain string (`method=random`). It replaces the key in
the config file's table before validation, creating tables on the way, so a misspelt key fails validation
as it would in the file. A relative path given on the command line (a key named `path`, `image_root`,
`index` or `accelerate_config`) is resolved against the working directory, not the config file's folder:
it was typed where the command runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from edtune.errors import ConfigError

PATH_KEYS = ("path", "image_root", "index", "accelerate_config")
"""Keys whose string values are file paths (resolved against the working directory when overridden)."""


def parse_override(text: str) -> tuple[list[str], Any]:
    """(key parts, value) of one `DOTTED.KEY=VALUE`; ConfigError naming the override when malformed."""
    key, sep, raw = text.partition("=")
    parts = key.strip().split(".")
    if not sep or not all(part.strip() for part in parts):
        raise ConfigError(f"--set {text!r}: expected DOTTED.KEY=VALUE, e.g. training.lora.min_steps=300")
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return [part.strip() for part in parts], _absolute(parts, value)


def _absolute(parts: list[str], value: Any) -> Any:
    """`value` with relative paths made absolute against the working directory (see the module docstring)."""
    if isinstance(value, dict):
        return {k: _absolute([*parts, k], v) for k, v in value.items()}
    if isinstance(value, str) and parts[-1] in PATH_KEYS and not (parts[0] == "student" and value == "bundled"):
        return str(Path(value).resolve())
    return value


def apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """`data` (a config file's table) with each override applied in order; a later one wins."""
    for text in overrides:
        parts, value = parse_override(text)
        table = data
        for depth, part in enumerate(parts[:-1]):
            child = table.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"--set {text!r}: {'.'.join(parts[:depth + 1])} is a value, not a table")
            table = child
        table[parts[-1]] = value
    return data


def override_label(overrides: Iterable[str]) -> str:
    """A folder-name-safe label of the overrides (the default run directory's suffix)."""
    return "+".join(re.sub(r"[^\w.=-]+", "_", text).strip("_") for text in overrides)[:120]
