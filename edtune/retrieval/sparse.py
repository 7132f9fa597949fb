"""The fast backend: BM25Okapi from precomputed per-term posting lists, bit-for-bit equal to rank-bm25.

Layout (compressed sparse columns of the document x term weight matrix): term t's postings are
`docs[indptr[t]:indptr[t+1]]` (ascending document indices) with `weights[...]` = the term's full BM25Okapi
contribution to that document, idf x tf(k1+1) / (tf + k1(1 - b + b dl/avgdl)), computed once at build time.

A query is then a sum of a few weight columns: for each query term in order, `acc[docs] += weights`. Only
the documents those columns touch are read, so a query costs O(total postings of its terms), not O(N),
and top-k runs over the touched documents only (untouched documents score exactly 0 and are merged in
by the ranking rule when fewer than k touched documents score above 0).

Why the scores are bit-for-bit rank-bm25's, not just close: the idf values and their mean are computed
with the same `math.log` calls, summed in the same order (terms by first occurrence in the corpus); the
weight expression uses the same float64 operations in the same order; and each document's score adds the
query terms' contributions in query order starting from 0.0, as rank-bm25's loop does (its additions of
0.0 for absent terms change nothing). Equal scores therefore stay equal and the ranking matches exactly.

No scipy sparse product: it adds a document's contributions in term-id order, not query order, so its
scores could differ from rank-bm25's in the last bit and near-ties could swap. Scores are accumulated with
`np.add.at` over int64 indices, the fastest variant `benchmarks/bench_retrieval.py` compared; there is no
MaxScore-style pruning, because the top of a skill query's ranking is a plateau of equal scores that all
need exact scoring, so pruning skips little (the timings: benchmarks/README.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edtune.retrieval.base import BM25Params, Corpus, Hit, check_corpus, rank_top_k, to_hits, warn_if_tiny
from edtune.retrieval.tokenize import Tokenizer


@dataclass(frozen=True)
class Postings:
    """The arrays a `SparseBM25` searches (and `edtune.retrieval.index` persists)."""

    indptr: np.ndarray
    """int64, vocabulary size + 1: where each term's postings start and end."""
    docs: np.ndarray
    """int64 (numpy's index type, so indexing with it needs no conversion): document index of each posting,
    ascending within a term."""
    weights: np.ndarray
    """float64: the term's BM25Okapi contribution to that document."""
    doc_len: np.ndarray
    """int32, one per document: number of terms (with repeats)."""
    idf: np.ndarray
    """float64, one per term: idf after the epsilon floor."""


def _term_ids(corpus: Corpus, tokenizer: Tokenizer) -> tuple[dict[str, int], list[list[int]]]:
    """Vocabulary (ids in first-occurrence order, as rank-bm25 meets them) and each document's term ids."""
    vocab: dict[str, int] = {}
    seen: dict[str, list[int]] = {}  # pools repeat skill texts a lot; tokenize each distinct text once
    out = []
    for text in corpus.texts:
        ids = seen.get(text)
        if ids is None:
            ids = [vocab.setdefault(term, len(vocab)) for term in tokenizer(text)]
            seen[text] = ids
        out.append(ids)
    return vocab, out


def _okapi_idf(df: np.ndarray, n_docs: int, epsilon: float) -> tuple[np.ndarray, float]:
    """rank-bm25's BM25Okapi._calc_idf, in its order of operations, for `df` in first-occurrence order."""
    idf = [math.log(n_docs - n + 0.5) - math.log(n + 0.5) for n in df.tolist()]
    total = 0.0
    for value in idf:  # sequential, like rank-bm25 (Python's sum() compensates and would differ)
        total += value
    mean = total / len(idf)
    floor = epsilon * mean
    return np.array([floor if value < 0 else value for value in idf], dtype=np.float64), mean


def build_postings(corpus: Corpus, tokenizer: Tokenizer, params: BM25Params) -> tuple[dict[str, int], Postings]:
    """Tokenize the corpus and precompute every (term, document) weight."""
    vocab, doc_terms = _term_ids(corpus, tokenizer)
    n_docs = len(doc_terms)
    doc_len = np.fromiter((len(t) for t in doc_terms), dtype=np.int64, count=n_docs)
    check_corpus(n_docs, int(doc_len.sum()))
    flat = np.fromiter((t for terms in doc_terms for t in terms), dtype=np.int64, count=int(doc_len.sum()))
    owner = np.repeat(np.arange(n_docs, dtype=np.int64), doc_len)
    keys, tf = np.unique(flat * n_docs + owner, return_counts=True)  # sorted by term, then document
    term, docs = np.divmod(keys, n_docs)
    df = np.bincount(term, minlength=len(vocab))
    idf, mean_idf = _okapi_idf(df, n_docs, params.epsilon)
    warn_if_tiny(n_docs, mean_idf, params.epsilon)
    avgdl = int(doc_len.sum()) / n_docs
    k1, b = params.k1, params.b
    tf_f = tf.astype(np.float64)
    frac = tf_f * (k1 + 1) / (tf_f + k1 * (1 - b + b * doc_len[docs] / avgdl))
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    postings = Postings(indptr=indptr, docs=docs, weights=idf[term] * frac,
                        doc_len=doc_len.astype(np.int32), idf=idf)
    return vocab, postings


class SparseBM25:
    """`Retriever` over precomputed postings; build with `SparseBM25.build`, or load a saved index.

    Searches share one scratch accumulator per instance, so one instance must not be searched from two
    threads at once (give each thread its own instance; the postings arrays can be shared).
    """

    def __init__(self, ids: list[str], vocab: dict[str, int], postings: Postings, tokenizer: Tokenizer,
                 params: BM25Params) -> None:
        self.ids = ids
        self.vocab = vocab
        self.postings = postings
        self.tokenizer = tokenizer
        self.params = params
        self._acc = np.zeros(len(ids), dtype=np.float64)  # reused per query; always left all-zero
        self._seen = np.zeros(len(ids), dtype=bool)

    @classmethod
    def build(cls, corpus: Corpus, tokenizer: Tokenizer | None = None,
              params: BM25Params | None = None) -> SparseBM25:
        """Index `corpus` (warns with TinyCorpusWarning on tiny corpora; DataError on an empty one)."""
        tokenizer = tokenizer or Tokenizer()
        params = params or BM25Params()
        vocab, postings = build_postings(corpus, tokenizer, params)
        return cls(list(corpus.ids), vocab, postings, tokenizer, params)

    @property
    def size(self) -> int:
        """Number of documents."""
        return len(self.ids)

    def _query_terms(self, query: str) -> list[int]:
        """Known term ids of the query in query order, repeats kept (each occurrence adds once)."""
        vocab = self.vocab
        return [vocab[t] for t in self.tokenizer(query) if t in vocab]

    def _touched(self, terms: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(documents containing any query term, ascending; their scores), via the shared accumulator."""
        p, acc = self.postings, self._acc
        for t in terms:
            lo, hi = p.indptr[t], p.indptr[t + 1]
            np.add.at(acc, p.docs[lo:hi], p.weights[lo:hi])  # unbuffered; one addition per posting
        distinct = list(dict.fromkeys(terms))
        if len(distinct) == 1:
            lo, hi = p.indptr[distinct[0]], p.indptr[distinct[0] + 1]
            docs = p.docs[lo:hi]
        else:
            for t in distinct:
                self._seen[p.docs[p.indptr[t]:p.indptr[t + 1]]] = True
            docs = np.flatnonzero(self._seen)
            self._seen[docs] = False
        score = acc[docs]
        acc[docs] = 0.0
        return docs, score

    def scores(self, query: str) -> np.ndarray:
        """BM25Okapi score of every document (zeros where no query term occurs)."""
        out = np.zeros(self.size, dtype=np.float64)
        terms = self._query_terms(query)
        if terms:
            docs, score = self._touched(terms)
            out[docs] = score
        return out

    def _top_k(self, terms: list[int], k: int) -> tuple[np.ndarray, np.ndarray]:
        touched, all_scores = self._touched(terms) if terms else (np.zeros(0, np.int64), np.zeros(0))
        docs, score = rank_top_k(touched, all_scores, k)
        short = docs.size < k or (docs.size > 0 and score[-1] <= 0)
        if short and touched.size < self.size:
            # untouched documents score 0; the lowest-index ones can still belong in the top k
            span = np.arange(min(self.size, k + touched.size), dtype=np.int64)
            zeros = np.setdiff1d(span, touched, assume_unique=True)[:k]
            docs = np.concatenate([docs, zeros])
            score = np.concatenate([score, np.zeros(zeros.size)])
            docs, score = rank_top_k(docs, score, k)
        return docs, score

    def search(self, queries: Sequence[str], k: int) -> list[list[Hit]]:
        """Top `min(k, size)` hits per query by the shared ranking rule; repeated queries are scored once."""
        done: dict[str, list[Hit]] = {}
        out = []
        for query in queries:
            if query not in done:
                done[query] = to_hits(*self._top_k(self._query_terms(query), k), self.ids)
            out.append(list(done[query]))
        return out
