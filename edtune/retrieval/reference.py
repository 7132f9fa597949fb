"""The reference backend: rank-bm25's BM25Okapi, scored one document at a time in Python.

It defines the scores the fast backend must reproduce. Only the top-k step is edtune's own, so both
backends obey the ranking rule of `edtune.retrieval.base` (rank-bm25's `get_top_n` breaks ties by
argsort order instead).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edtune.errors import MissingDependency
from edtune.retrieval.base import BM25Params, Corpus, Hit, check_corpus, rank_top_k, to_hits, warn_if_tiny
from edtune.retrieval.tokenize import Tokenizer


class ReferenceBM25:
    """`Retriever` over rank-bm25's BM25Okapi; slow (a Python loop over every document per query term)."""

    def __init__(self, corpus: Corpus, tokenizer: Tokenizer | None = None, params: BM25Params | None = None) -> None:
        try:
            from rank_bm25 import BM25Okapi
        except ImportError as exc:  # a core dependency, but the message should say what to do
            raise MissingDependency("rank-bm25", purpose="the reference BM25 backend") from exc
        self.tokenizer = tokenizer or Tokenizer()
        self.params = params or BM25Params()
        self.ids = corpus.ids
        tokenized = [self.tokenizer(text) for text in corpus.texts]
        check_corpus(len(tokenized), sum(len(doc) for doc in tokenized))
        self._bm25 = BM25Okapi(tokenized, k1=self.params.k1, b=self.params.b, epsilon=self.params.epsilon)
        warn_if_tiny(len(tokenized), self._bm25.average_idf, self.params.epsilon)

    @property
    def size(self) -> int:
        """Number of documents."""
        return len(self.ids)

    def scores(self, query: str) -> np.ndarray:
        """BM25Okapi.get_scores for the tokenized query (NaN of term-less documents at b = 1 read as 0)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = self._bm25.get_scores(self.tokenizer(query))
        return np.nan_to_num(np.asarray(raw, dtype=np.float64), nan=0.0)

    def search(self, queries: Sequence[str], k: int) -> list[list[Hit]]:
        """Score every document for each query, then take the top k by the shared ranking rule."""
        every = np.arange(self.size)
        out = []
        for query in queries:
            doc, score = rank_top_k(every, self.scores(query), k)
            out.append(to_hits(doc, score, self.ids))
        return out
