"""Build, save and load a sparse BM25 index; refuse one that does not match its pool or settings.

An index folder (`CorpusSpec.index_dir`) holds:

    manifest.json     IndexManifest: the spec it was built from, tokenizer version, pool hash and file stats
    vocab.json        the terms, by term id
    ids.json          the sample id of each document
    texts.json        the indexed text of each document (read only on demand, for display)
    indptr.npy docs.npy weights.npy doc_len.npy idf.npy    the `Postings` arrays

Loading reads the arrays with `numpy.load` and two JSON lists: no tokenizing, no pool reading. It refuses
(IndexMismatch) an index whose tokenizer settings, tokenizer version, BM25 parameters, indexed fields or
pool files differ from the spec it is opened with, and one built from different pool content. The pool
check is cheap by default (`verify="stat"`): when every pool file has the size and modification time
recorded at build time it is trusted; otherwise the pool is read again and its content hash compared, so
touching a file is not a mismatch but editing a skill is. `verify="content"` always hashes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import ValidationError

from edtune.atomic import atomic_folder
from edtune.errors import DataError, UserError
from edtune.records import Record
from edtune.retrieval.base import Corpus
from edtune.retrieval.corpus import corpus_hash, read_pool
from edtune.retrieval.sparse import Postings, SparseBM25
from edtune.retrieval.spec import CorpusSpec
from edtune.retrieval.tokenize import TOKENIZER_VERSION, Tokenizer

INDEX_FORMAT = 1
_ARRAYS = ("indptr", "docs", "weights", "doc_len", "idf")
Verify = Literal["stat", "content"]


class IndexMismatch(UserError):
    """An index that does not belong to the spec, pool or code it is opened with; `differences` lists why."""

    def __init__(self, index_dir: Path, differences: list[str]) -> None:
        self.index_dir = index_dir
        self.differences = differences
        super().__init__(f"index {index_dir} does not match: {'; '.join(differences)}; "
                         "rebuild it with `edtune index build SPEC`")


class PoolFile(Record):
    """A pool file as it was when the index was built."""

    path: str
    """Absolute path."""
    size: int
    """Size in bytes."""
    mtime_ns: int
    """Modification time, nanoseconds since the epoch."""


class IndexManifest(Record):
    """What an index was built from; compared with the opening spec and the pool on every load."""

    format: int
    """Layout version of the index folder (`INDEX_FORMAT`)."""
    spec: CorpusSpec
    """The corpus spec the index was built from, paths absolute."""
    tokenizer_version: int
    """`TOKENIZER_VERSION` of the code that built it."""
    pool_hash: str
    """`edtune.retrieval.corpus.corpus_hash` of the indexed documents."""
    pool_files: list[PoolFile]
    """Stats of the pool files at build time (for the cheap pool check)."""
    documents: int
    """Number of indexed documents."""
    skipped: int
    """Samples left out for having no required skills."""
    vocabulary: int
    """Number of distinct terms."""
    postings: int
    """Number of (term, document) pairs."""


def _pool_files(spec: CorpusSpec) -> list[PoolFile]:
    return [PoolFile(path=str(p), size=p.stat().st_size, mtime_ns=p.stat().st_mtime_ns) for p in spec.pool]


def build_index(spec: CorpusSpec) -> SparseBM25:
    """Read the pool, build the sparse index, write it to `spec.index_dir` (replacing any old one)."""
    pool = read_pool(spec)
    retriever = SparseBM25.build(pool.corpus, Tokenizer(spec.tokenizer), spec.bm25)
    manifest = IndexManifest(format=INDEX_FORMAT, spec=spec, tokenizer_version=TOKENIZER_VERSION,
                             pool_hash=corpus_hash(pool.corpus.ids, pool.corpus.texts),
                             pool_files=_pool_files(spec), documents=retriever.size, skipped=pool.skipped,
                             vocabulary=len(retriever.vocab), postings=int(retriever.postings.docs.size))
    save_index(retriever, pool.corpus, manifest, spec.index_dir)
    return retriever


def save_index(retriever: SparseBM25, corpus: Corpus, manifest: IndexManifest, index_dir: Path) -> None:
    """Write the index into a fresh sibling folder, then swap it in, so readers never see half an index."""
    with atomic_folder(index_dir) as tmp:
        for name in _ARRAYS:
            np.save(tmp / f"{name}.npy", getattr(retriever.postings, name), allow_pickle=False)
        vocab = sorted(retriever.vocab, key=retriever.vocab.__getitem__)
        for name, values in (("vocab", vocab), ("ids", corpus.ids), ("texts", corpus.texts)):
            (tmp / f"{name}.json").write_text(json.dumps(values, ensure_ascii=False), encoding="utf-8")
        (tmp / "manifest.json").write_text(manifest.model_dump_json(indent=2) + "\n", encoding="utf-8")


def read_manifest(index_dir: Path) -> IndexManifest:
    """The manifest of the index in `index_dir`; UserError when there is no index there."""
    path = index_dir / "manifest.json"
    if not path.is_file():
        raise UserError(f"no index at {index_dir}: build it with `edtune index build SPEC`")
    try:
        return IndexManifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise DataError(f"invalid index manifest: {first['msg']}", file=str(path),
                        field=".".join(str(p) for p in first["loc"]) or None) from exc


def _setting_differences(manifest: IndexManifest, spec: CorpusSpec) -> list[str]:
    built = manifest.spec
    out = [f"{what}: index has {a}, expected {b}" for what, a, b in (
        ("index format", manifest.format, INDEX_FORMAT),
        ("tokenizer version", manifest.tokenizer_version, TOKENIZER_VERSION),
        ("tokenizer settings", built.tokenizer.model_dump(), spec.tokenizer.model_dump()),
        ("BM25 parameters", built.bm25.model_dump(), spec.bm25.model_dump()),
        ("indexed fields", built.fields, spec.fields),
        ("on_missing_skills", built.on_missing_skills, spec.on_missing_skills),
        ("pool files", [str(p) for p in built.pool], [str(p) for p in spec.pool]),
    ) if a != b]
    return out


def _pool_difference(manifest: IndexManifest, spec: CorpusSpec, verify: Verify) -> str | None:
    missing = [str(p) for p in spec.pool if not p.is_file()]
    if missing:
        return f"pool file(s) missing: {', '.join(missing)}"
    if verify == "stat" and _pool_files(spec) == manifest.pool_files:
        return None
    pool = read_pool(spec)
    if corpus_hash(pool.corpus.ids, pool.corpus.texts) != manifest.pool_hash:
        return "the pool's documents changed since the index was built (content hash differs)"
    return None


def open_index(spec: CorpusSpec | Path, *, verify: Verify = "stat") -> SparseBM25:
    """Load the index of `spec` (or the index folder itself, checked against the spec it was built with).

    Raises IndexMismatch as described in the module docstring, UserError when no index exists.
    """
    index_dir = spec.index_dir if isinstance(spec, CorpusSpec) else Path(spec)
    manifest = read_manifest(index_dir)
    expected = spec if isinstance(spec, CorpusSpec) else manifest.spec
    differences = _setting_differences(manifest, expected)
    pool_problem = None if differences else _pool_difference(manifest, expected, verify)
    if differences or pool_problem:
        raise IndexMismatch(index_dir, differences or [str(pool_problem)])
    arrays = {name: np.load(index_dir / f"{name}.npy", allow_pickle=False) for name in _ARRAYS}
    vocab_list = json.loads((index_dir / "vocab.json").read_text(encoding="utf-8"))
    ids = json.loads((index_dir / "ids.json").read_text(encoding="utf-8"))
    return SparseBM25(ids, {term: i for i, term in enumerate(vocab_list)}, Postings(**arrays),
                      Tokenizer(expected.tokenizer), expected.bm25)


def read_texts(index_dir: Path) -> list[str]:
    """The indexed text of every document (for display; not needed to search)."""
    return list(json.loads((index_dir / "texts.json").read_text(encoding="utf-8")))
