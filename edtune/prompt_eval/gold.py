"""Gold sets for prompt evaluation: student errors with the true first wrong step and missing skill(s).

A gold set is a JSONL file. The first line may be a header `{"header": {...}}` (`GoldSetMeta`: where the
items came from, the image root, the skill catalogue); every other line is one `GoldItem`:

    {"id": "e1",
     "sample": {"id": "s1", "question": "Is the red-circle small or large?", "choices": ["small", "large"],
                "answer": "small", "images": ["images/s1.png"]},
     "student_steps": ["I see red-circle.", "The red-circle is large."],
     "student_answer": "large",
     "first_wrong_step": 2,
     "missing_skills": ["size_recognition"],
     "skill_text": ["telling whether an object is small or large"],
     "gold_verdict": "incorrect"}

Instead of a nested `sample`, the sample's fields (`question`, `answer`, `choices`, `images`, `rationale`,
`required_skills`, `metadata`) may sit at the top level of the line; the sample id is then the item id.
Steps are 1-based, as the teacher sees them. `first_wrong_step` is needed to score localisation,
`missing_skills` to score skill analysis and `gold_verdict` to score judge templates; an item without
one of them is left out of that score. Every bad line is a DataError naming the file, row and field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from edtune.atomic import atomic_write_text
from edtune.errors import DataError
from edtune.records import Record, Sample, StudentOutput

GoldSource = Literal["student", "corrupted", "user", "mixed"]
SAMPLE_FIELDS = frozenset({"question", "answer", "choices", "images", "rationale", "required_skills", "metadata"})
"""Sample fields a gold line may give at its top level instead of a nested `sample`."""


class GoldItem(Record):
    """One student error with its ground truth."""

    id: str = Field(min_length=1)
    """Unique within the gold set; results and diffs are keyed by it."""
    sample: Sample
    """The question the student answered (images relative to the gold set's image root)."""
    student_steps: list[str] = Field(min_length=1)
    """The student's rationale steps, in order (shown to the teacher as Step 1, Step 2, ...)."""
    student_answer: str | None = None
    """The student's final answer; None when it gave none."""
    first_wrong_step: int | None = Field(default=None, ge=1)
    """1-based index of the true first wrong step (at most the number of steps); None: not known."""
    missing_skills: list[str] = Field(default_factory=list)
    """The true missing skill(s), as names or short phrases; empty when not known."""
    skill_text: list[str] = Field(default_factory=list)
    """Other phrasings of the missing skill(s) (descriptions, paraphrases): a teacher phrase equal to one
    of them counts as exact agreement, and word overlap is measured against them too."""
    gold_verdict: Literal["correct", "incorrect"] | None = None
    """For judge gold sets: whether `student_answer` is correct; None when not judged."""
    origin: Literal["student", "corrupted", "user"] = "user"
    """Where the error came from: a real student, a corrupted gold rationale, or the user's own file."""

    @model_validator(mode="after")
    def _step_in_range(self) -> GoldItem:
        if self.first_wrong_step is not None and self.first_wrong_step > len(self.student_steps):
            raise ValueError(f"first_wrong_step {self.first_wrong_step} is beyond the {len(self.student_steps)} "
                             f"student steps")
        return self

    def student_output(self) -> StudentOutput:
        """The student's reply as the teacher tasks take it."""
        return StudentOutput(sample_id=self.sample.id, raw_text="\n".join(self.student_steps),
                             steps=list(self.student_steps), answer=self.student_answer)


class GoldSetMeta(Record):
    """The header line of a gold set file."""

    name: str = "gold"
    """A short name shown in reports."""
    source: GoldSource = "user"
    """Where the errors came from: student (a real student's outputs), corrupted (gold rationales
    corrupted at a chosen step), user (hand-made), or mixed."""
    description: str = ""
    """How the set was made (for exported sets: world, split, seed and corruption rule)."""
    image_root: str | None = None
    """Folder the samples' image paths are relative to; a relative path is read from the gold file's
    folder. None: the gold file's folder."""
    skills: dict[str, list[str]] = Field(default_factory=dict)
    """Skill catalogue: skill name -> phrasings. BM25 agreement ranks these skills for each teacher
    phrase; when empty, it is built from the items' `missing_skills` and `skill_text`."""
    seed: int | None = None
    """Seed of the export that made the set, when it was made by one."""


class _Header(Record):
    """The wrapper of the header line."""

    header: GoldSetMeta
    """The gold set's metadata."""


@dataclass(frozen=True)
class GoldSet:
    """A loaded gold set: its metadata, items, resolved image root and content hash."""

    meta: GoldSetMeta
    items: tuple[GoldItem, ...]
    image_root: Path
    hash: str
    """First 16 hex digits of the SHA-256 of the file's bytes: results are compared per gold hash."""
    path: Path | None = None

    def skill_catalogue(self) -> dict[str, list[str]]:
        """The header's catalogue, or one built from the items (each gold skill with its phrasings)."""
        if self.meta.skills:
            return self.meta.skills
        catalogue: dict[str, list[str]] = {}
        for item in self.items:
            for skill in item.missing_skills:
                phrases = catalogue.setdefault(skill, [])
                phrases.extend(p for p in item.skill_text if p not in phrases)
        return catalogue

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[GoldItem]:
        return iter(self.items)


def _problem(exc: ValidationError) -> tuple[str, str]:
    first = exc.errors(include_url=False)[0]
    return ".".join(str(part) for part in first["loc"]) or "(line)", str(first["msg"]).removeprefix("Value error, ")


def _lift_sample(row: dict[str, Any]) -> dict[str, Any]:
    """A line with top-level sample fields, rewritten with a nested `sample` (id = the item id)."""
    if "sample" in row:
        return row
    sample = {key: row[key] for key in SAMPLE_FIELDS if key in row}
    rest = {key: value for key, value in row.items() if key not in SAMPLE_FIELDS}
    return {**rest, "sample": {"id": row.get("id", ""), **sample}}


def _parse_line(line: str, path: Path, row: int, first: bool) -> GoldItem | GoldSetMeta:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON ({exc.msg})", file=str(path), row=row) from exc
    if not isinstance(data, dict):
        raise DataError("a gold line must be a JSON object", file=str(path), row=row)
    if "header" in data:
        if not first:
            raise DataError("a header is only allowed on the first line", file=str(path), row=row, field="header")
        record: type[Record] = _Header
    else:
        record, data = GoldItem, _lift_sample(data)
    try:
        parsed = record.model_validate(data)
    except ValidationError as exc:
        field, message = _problem(exc)
        raise DataError(f"invalid gold {'header' if record is _Header else 'item'}: {message}", file=str(path),
                        row=row, field=field) from exc
    return parsed.header if isinstance(parsed, _Header) else parsed  # type: ignore[return-value]


def load_gold(path: str | Path, *, image_root: str | Path | None = None) -> GoldSet:
    """Read and validate a gold set file; `image_root` overrides the header's. Duplicate ids, an empty
    file, or any bad line is a DataError naming the file and row."""
    file = Path(path)
    if not file.is_file():
        raise DataError("gold set file not found", file=str(file))
    data = file.read_bytes()
    meta, items, seen = GoldSetMeta(), list[GoldItem](), set[str]()
    for row, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        parsed = _parse_line(line, file, row, first=not items and row == 1)
        if isinstance(parsed, GoldSetMeta):
            meta = parsed
            continue
        if parsed.id in seen:
            raise DataError(f"duplicate item id '{parsed.id}'", file=str(file), row=row, field="id")
        seen.add(parsed.id)
        items.append(parsed)
    if not items:
        raise DataError("the gold set has no items", file=str(file))
    root = Path(image_root) if image_root is not None else file.parent / (meta.image_root or ".")
    return GoldSet(meta=meta, items=tuple(items), image_root=root, hash=_digest(data), path=file)


def write_gold(path: str | Path, meta: GoldSetMeta, items: Sequence[GoldItem]) -> Path:
    """Write a gold set (header line, then one item per line) atomically; returns the path."""
    lines = [_Header(header=meta).model_dump_json(exclude_defaults=False)]
    lines += [item.model_dump_json(exclude_none=True) for item in items]
    atomic_write_text(path, "\n".join(lines) + "\n")
    return Path(path)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]
