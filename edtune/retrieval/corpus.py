"""From pool files to the documents BM25 indexes, and the content hash that identifies them.

Document i is the i-th sample read (files in spec order, lines in file order). Its text is the sample's
`required_skills` joined by "; " and, with `fields = "skills+question"`, followed by " | " and the
question. The pool hash is SHA-256 over the (sample id, text) pairs in order, so it changes exactly when
what BM25 sees changes (ids, order, skills, or the question when indexed) and not for other fields.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from edtune.data.jsonl import iter_jsonl_rows
from edtune.data.rows import to_sample
from edtune.errors import DataError
from edtune.records import Sample
from edtune.retrieval.base import Corpus
from edtune.retrieval.spec import CorpusSpec, TextFields


@dataclass(frozen=True)
class PoolDocuments:
    """The corpus read from a spec's pool, with bookkeeping for the index manifest."""

    corpus: Corpus
    skipped: int
    """Samples left out for having no required skills (only with on_missing_skills = "skip")."""


def document_text(sample: Sample, fields: TextFields) -> str | None:
    """The indexed text of `sample`, or None when it has no required skills."""
    if not sample.required_skills:
        return None
    text = "; ".join(sample.required_skills)
    return f"{text} | {sample.question}" if fields == "skills+question" else text


def _samples(path: Path) -> Iterator[tuple[int, Sample]]:
    if not path.is_file():
        raise DataError("pool file not found", file=str(path))
    for raw in iter_jsonl_rows(path):
        yield raw.row, to_sample(raw)


def read_pool(spec: CorpusSpec) -> PoolDocuments:
    """Read every pool file of `spec`; DataError (file, row, field) for a bad row, a duplicate id, or a
    sample without required skills when the spec says "error"."""
    ids: list[str] = []
    texts: list[str] = []
    first_seen: dict[str, str] = {}
    skipped = 0
    for path in spec.pool:
        for row, sample in _samples(path):
            where = f"{path}:{row}"
            if sample.id in first_seen:
                raise DataError(f"duplicate id {sample.id!r}, first seen at {first_seen[sample.id]}",
                                file=str(path), row=row, field="id")
            first_seen[sample.id] = where
            text = document_text(sample, spec.fields)
            if text is None:
                if spec.on_missing_skills == "error":
                    raise DataError("sample has no required skills to index (set on_missing_skills = \"skip\" "
                                    "in the corpus spec to leave such samples out)",
                                    file=str(path), row=row, field="required_skills")
                skipped += 1
                continue
            ids.append(sample.id)
            texts.append(text)
    return PoolDocuments(Corpus(ids, texts), skipped)


def corpus_hash(ids: Sequence[str], texts: Sequence[str]) -> str:
    """SHA-256 (hex) over the (id, text) pairs in order; see the module docstring."""
    digest = hashlib.sha256()
    for sample_id, text in zip(ids, texts, strict=True):
        digest.update(json.dumps([sample_id, text], ensure_ascii=False).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()
