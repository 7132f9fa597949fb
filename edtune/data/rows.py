"""The common step of every format: a raw row (a dict shaped like `Sample`) becomes a validated `Sample`.

Each format reader yields `RawRow`s; `to_sample` turns pydantic's ValidationError into a DataError that
names the file, the row and the field as the *source* file spells it (a LLaVA file has no `question`
field, so an empty question is reported at `conversations.0.value`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from edtune.errors import DataError
from edtune.records import Sample


@dataclass(frozen=True)
class RawRow:
    """One would-be Sample read from a file, with where it came from."""

    file: str
    row: int
    data: dict[str, Any]
    source_fields: dict[str, str] = field(default_factory=dict)
    """Sample field name -> the name of the field in the source file, where they differ."""

    def source_field(self, sample_field: str) -> str:
        """How the source file names `sample_field`: an exact entry wins, else a dotted path such as
        `images.0` is mapped by its head."""
        if sample_field in self.source_fields:
            return self.source_fields[sample_field]
        head, _, rest = sample_field.partition(".")
        mapped = self.source_fields.get(head, head)
        return f"{mapped}.{rest}" if rest else mapped


def describe_validation_error(exc: ValidationError) -> tuple[str, str | None]:
    """(message, dotted field path) of the first error pydantic found, with a count of the others."""
    errors = exc.errors()
    first = errors[0]
    loc = ".".join(str(p) for p in first["loc"]) or None
    msg = "missing required field" if first["type"] == "missing" else first["msg"]
    if first["type"] not in ("missing", "extra_forbidden"):
        msg = f"{msg}, got {_short(first.get('input'))}"
    if len(errors) > 1:
        msg = f"{msg} (and {len(errors) - 1} more error(s) in this row)"
    return msg, loc


def to_sample(raw: RawRow) -> Sample:
    """Validate one raw row; DataError with file, row and the source's field name when it does not fit."""
    try:
        return Sample.model_validate(raw.data)
    except ValidationError as exc:
        msg, loc = describe_validation_error(exc)
        raise DataError(f"invalid sample: {msg}", file=raw.file, row=raw.row,
                        field=raw.source_field(loc) if loc else None) from exc


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
