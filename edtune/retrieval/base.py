"""What every retrieval backend shares: BM25 settings, the corpus it indexes, hits, and the `Retriever` protocol.

Ranking rule, identical for every backend: hits are ordered by score, highest first, and equal scores by
document index (the sample's position in the pool), lowest first. Documents that share no term with the
query score exactly 0 and still rank (so a query may return zero-score hits when fewer than k documents
match); callers that want matches only drop hits with `score <= 0` (see `edtune.retrieval.select`).

The IDF floor of rank-bm25's BM25Okapi, which every backend reproduces: idf(t) = ln(N - n + 0.5) -
ln(n + 0.5) for a term in n of N documents, and a negative idf (a term in more than half the documents) is
replaced by `epsilon` times the mean idf over the vocabulary. Consequences worth knowing:

- a term in exactly half the documents has idf 0 and adds nothing to any score;
- in a tiny corpus most terms are in half or more of the documents, the mean idf can be <= 0, and then the
  floor makes frequent terms score 0 or below: a 1- or 2-document corpus scores every match <= 0
  (rank-bm25 issues #29, #39, #43). `TinyCorpusWarning` is raised (as a warning) for such corpora.

One deliberate difference: with b = 1 a document with no terms gets 0/0 = NaN from rank-bm25 for every
query term; every edtune backend scores it 0 (rank-bm25's NaN would also break its own ranking).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from pydantic import Field

from edtune.errors import DataError
from edtune.records import Record

TINY_CORPUS = 20
"""Corpora with fewer documents than this get a `TinyCorpusWarning`."""


class TinyCorpusWarning(UserWarning):
    """The corpus is so small (or so uniform) that BM25Okapi's IDF floor distorts or zeroes its scores."""


class BM25Params(Record):
    """BM25Okapi's three knobs, with rank-bm25's defaults."""

    k1: float = Field(default=1.5, gt=0)
    """Term-frequency saturation (> 0): small values ignore repeats, larger let repeated terms count more.
    (At 0 rank-bm25 computes 0/0 = NaN for every document without the term.)"""
    b: float = Field(default=0.75, ge=0, le=1)
    """Length normalisation: 0 ignores document length, 1 normalises fully by length / average length."""
    epsilon: float = 0.25
    """IDF floor factor: a negative idf is replaced by epsilon x the vocabulary's mean idf."""


@dataclass(frozen=True)
class Corpus:
    """The documents a backend indexes, in pool order: `ids[i]` is the sample whose text is `texts[i]`."""

    ids: list[str]
    texts: list[str]

    def __post_init__(self) -> None:
        if len(self.ids) != len(self.texts):
            raise ValueError(f"{len(self.ids)} ids but {len(self.texts)} texts")


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved document. A plain dataclass, not a Record: searches build them by the hundred
    thousand in-process and validation would cost more than the search; selections that leave the
    process are `edtune.retrieval.select.ChosenSample` records."""

    doc: int
    """Position of the document in the pool (0-based)."""
    sample_id: str
    """The `Sample.id` of the document."""
    score: float
    """BM25Okapi score of the document for the query."""


@runtime_checkable
class Retriever(Protocol):
    """A BM25 index over one corpus that answers batches of queries with the module's ranking rule."""

    @property
    def size(self) -> int:
        """Number of documents."""
        ...

    def scores(self, query: str) -> np.ndarray:
        """BM25Okapi score of every document for `query` (float64, length `size`)."""
        ...

    def search(self, queries: Sequence[str], k: int) -> list[list[Hit]]:
        """The top `min(k, size)` hits of each query, in the module's ranking order."""
        ...


def check_corpus(n_docs: int, n_tokens: int) -> None:
    """Refuse a corpus BM25 cannot score: no documents, or no terms at all (the mean length would be 0)."""
    if n_docs == 0:
        raise DataError("cannot index an empty corpus: no documents")
    if n_tokens == 0:
        raise DataError(f"cannot index a corpus whose {n_docs} documents have no terms after tokenizing")


def warn_if_tiny(n_docs: int, mean_idf: float, epsilon: float) -> None:
    """Warn (TinyCorpusWarning) when the IDF floor makes scores misleading; see the module docstring."""
    floor = epsilon * mean_idf
    if n_docs < TINY_CORPUS or floor <= 0:
        below = "; the floor is <= 0, so those terms score 0 or below" if floor <= 0 else ""
        warnings.warn(
            f"BM25 corpus of {n_docs} documents: a term in exactly half of them has idf 0 and a term in more "
            f"than half gets the floor idf {floor:.3f} (epsilon x mean idf {mean_idf:.3f}){below}; rankings of "
            "so small a corpus are unreliable",
            TinyCorpusWarning,
            stacklevel=3,
        )


def rank_top_k(doc: np.ndarray, score: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The `k` best (doc, score) pairs by score descending, then doc ascending; exact under ties.

    `doc` must hold distinct indices. Uses argpartition to find the k-th best score, keeps every pair
    that reaches it (so ties at the boundary are all present), and sorts only those.
    """
    if k <= 0 or doc.size == 0:
        return doc[:0], score[:0]
    if doc.size > k:
        kth = np.partition(score, score.size - k)[score.size - k]
        keep = np.flatnonzero(score >= kth)
        doc, score = doc[keep], score[keep]
    order = np.lexsort((doc, -score))[:k]
    return doc[order], score[order]


def to_hits(doc: np.ndarray, score: np.ndarray, ids: Sequence[str]) -> list[Hit]:
    """Hits for parallel arrays of document indices and scores."""
    return [Hit(d, ids[d], s) for d, s in zip(doc.tolist(), score.tolist(), strict=True)]
