"""Annotations on demand: selectors see only unlabelled `PoolItem`s; labels come from an oracle, per id.

PROGRESS's accounting is "how many labels were read". Selectors and feature code are given `PoolItem`s
(id, images, question, options: no answer, rationale or metadata), so they cannot look at a label; the
training loop asks the `AnnotationOracle` for exactly the ids a selector chose, and the oracle counts each
distinct id once. `JsonlOracle` keeps only the unlabelled fields and the byte offset of each line of a
JSONL data set; a `Sample` (with its answer) is built from the line only when that id is annotated, so a
bad label surfaces then, with its row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from edtune.errors import DataError, UserError
from edtune.records import Record, Sample


class PoolItem(Record):
    """What may be seen of a sample before it is annotated."""

    id: str
    """The `Sample.id`."""
    images: list[str]
    """Image paths relative to the data set's image root; empty for a text-only sample."""
    question: str
    """The question as shown to the student."""
    choices: list[str] | None = None
    """Answer options of a multiple-choice question; None for an open question."""

    @classmethod
    def of(cls, sample: Sample) -> PoolItem:
        """The unlabelled view of `sample`."""
        return cls(id=sample.id, images=list(sample.images), question=sample.question, choices=sample.choices)


class AnnotationOracle(Protocol):
    """Hands out labelled samples by id and counts how many distinct ids it has annotated."""

    def pool(self) -> list[PoolItem]:
        """Every sample, unlabelled, in data-set order."""
        ...

    def annotate(self, ids: Sequence[str]) -> list[Sample]:
        """The labelled samples for `ids`, in that order; UserError for an unknown id."""
        ...

    @property
    def annotations(self) -> int:
        """Distinct ids annotated so far (asking twice for one id costs one annotation)."""
        ...


class InMemoryOracle:
    """An oracle over samples already in memory (tests, small data sets)."""

    def __init__(self, samples: Iterable[Sample]) -> None:
        self._samples: dict[str, Sample] = {}
        for row, sample in enumerate(samples, start=1):
            if sample.id in self._samples:
                raise DataError(f"duplicate sample id '{sample.id}'", row=row, field="id")
            self._samples[sample.id] = sample
        self._seen: set[str] = set()

    def pool(self) -> list[PoolItem]:
        """Every sample, unlabelled, in the order given."""
        return [PoolItem.of(s) for s in self._samples.values()]

    def annotate(self, ids: Sequence[str]) -> list[Sample]:
        """Labelled samples for `ids`; each new id adds one annotation."""
        unknown = [i for i in ids if i not in self._samples]
        if unknown:
            raise UserError(f"cannot annotate unknown sample ids: {unknown[:5]}")
        self._seen.update(ids)
        return [self._samples[i] for i in ids]

    @property
    def annotations(self) -> int:
        """Distinct ids annotated so far."""
        return len(self._seen)


class JsonlOracle:
    """An oracle over a JSONL file of `Sample`s; a labelled `Sample` is built only when its id is annotated."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._offsets: dict[str, tuple[int, int]] = {}
        self._pool: list[PoolItem] = []
        self._seen: set[str] = set()
        self._index()

    def _index(self) -> None:
        offset = 0
        with self.path.open("rb") as fh:
            for row, line in enumerate(fh, start=1):
                if line.strip():
                    item = self._pool_item(line, row)
                    if item.id in self._offsets:
                        raise DataError(f"duplicate sample id '{item.id}'", file=str(self.path), row=row, field="id")
                    self._offsets[item.id] = (offset, row)
                    self._pool.append(item)
                offset += len(line)

    def _pool_item(self, line: bytes, row: int) -> PoolItem:
        try:
            data = json.loads(line)
            visible = {k: data[k] for k in ("id", "images", "question", "choices") if k in data}
            visible.setdefault("images", [])
            return PoolItem.model_validate(visible)
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
            raise DataError(f"not a JSON object: {exc}", file=str(self.path), row=row) from exc
        except ValidationError as exc:
            field = ".".join(str(p) for p in exc.errors()[0]["loc"]) or None
            raise DataError(exc.errors()[0]["msg"], file=str(self.path), row=row, field=field) from exc

    def pool(self) -> list[PoolItem]:
        """Every sample, unlabelled, in file order."""
        return list(self._pool)

    def annotate(self, ids: Sequence[str]) -> list[Sample]:
        """Labelled samples for `ids`, read from their lines now; each new id adds one annotation."""
        unknown = [i for i in ids if i not in self._offsets]
        if unknown:
            raise UserError(f"cannot annotate unknown sample ids: {unknown[:5]}")
        out = []
        with self.path.open("rb") as fh:
            for sample_id in ids:
                offset, row = self._offsets[sample_id]
                fh.seek(offset)
                out.append(self._sample(fh.readline(), row))
        self._seen.update(ids)
        return out

    def _sample(self, line: bytes, row: int) -> Sample:
        try:
            return Sample.model_validate_json(line)
        except ValidationError as exc:
            field = ".".join(str(p) for p in exc.errors()[0]["loc"]) or None
            raise DataError(exc.errors()[0]["msg"], file=str(self.path), row=row, field=field) from exc

    @property
    def annotations(self) -> int:
        """Distinct ids annotated so far."""
        return len(self._seen)
