"""`HFColumns`: which column of a Hugging Face dataset feeds which `Sample` field.

Used for `datasets` files and folders (`DataFile.columns`, `load_samples(columns=...)`) and for in-memory
datasets given to `edtune.adapt`. A column named here must exist. An optional field left at None is read
from the column named like it when the dataset has one, and is left out otherwise (a name given
explicitly, rather than through "set or not", survives the round trip through a run's config.json).
"""

from __future__ import annotations

from pydantic import Field

from edtune.errors import DataError
from edtune.records import Record

OPTIONAL = ("choices", "rationale", "required_skills", "metadata")
"""Sample fields read only when their column is there (or named explicitly)."""
FAMILY = "family"
"""The mapping key of the family column (not a Sample field: it lands in `metadata[family_field]`)."""


class HFColumns(Record):
    """Which dataset column feeds which Sample field."""

    id: str | None = "id"
    """Column with the sample id (integers are turned into text); None: the row index is the id."""
    images: str | None = None
    """Column with one image or a list of images; None: `images` if present, else `image`, else none."""
    question: str = "question"
    """Column with the question text."""
    answer: str = "answer"
    """Column with the reference answer."""
    choices: str | None = None
    """Column with the answer options; None: `choices` when the dataset has it."""
    rationale: str | None = None
    """Column with the gold rationale (strings or {text, skill} objects); None: `rationale` when present."""
    required_skills: str | None = None
    """Column with the required-skills phrases; None: `required_skills` when the dataset has it."""
    metadata: str | None = None
    """Column holding a metadata object; None: `metadata` when the dataset has it."""
    family: str | None = None
    """Column with each sample's question family, stored in `metadata` under the data file's
    `family_field` ("skill" unless set; see docs/data.md); None: no family column."""
    extra_metadata: list[str] = Field(default_factory=list)
    """Further columns copied into `metadata` under their own names."""


def column_mapping(columns: HFColumns, present: set[str], *, source: str) -> dict[str, str]:
    """Sample field (or FAMILY) -> column, for every field that will be read; DataError naming `source`
    and the field for a named column the dataset lacks."""
    wanted: dict[str, str] = {"question": columns.question, "answer": columns.answer}
    if columns.id is not None:
        wanted["id"] = columns.id
    for name in OPTIONAL:
        col = getattr(columns, name)
        if col is not None or name in present:
            wanted[name] = col or name
    image_col = columns.images or next((c for c in ("images", "image") if c in present), None)
    if image_col is not None:
        wanted["images"] = image_col
    if columns.family is not None:
        wanted[FAMILY] = columns.family
    for name, col in [*wanted.items(), *((c, c) for c in columns.extra_metadata)]:
        if col not in present:
            raise DataError(f"the dataset has no column {col!r} (columns: {sorted(present)})", file=source,
                            field=name)
    return wanted
