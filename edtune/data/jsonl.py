"""JSONL of `Sample` records: one JSON object per line, rows numbered by 1-based line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from edtune.data.rows import RawRow
from edtune.errors import DataError


def iter_jsonl_rows(path: Path) -> Iterator[RawRow]:
    """Stream the file line by line; blank lines are skipped, anything else must be a JSON object."""
    file = str(path)
    with path.open("rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                raise DataError(f"not UTF-8 text: {exc.reason} at byte {exc.start}", file=file, row=line_no) from exc
            except json.JSONDecodeError as exc:
                raise DataError(f"invalid JSON: {exc.msg} at column {exc.colno}", file=file, row=line_no) from exc
            if not isinstance(data, dict):
                raise DataError(f"expected a JSON object, got {type(data).__name__}", file=file, row=line_no)
            yield RawRow(file=file, row=line_no, data=data)
