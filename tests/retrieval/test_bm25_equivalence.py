"""The sparse backend against rank-bm25's BM25Okapi: same scores, same top-k, on random and corner-case corpora."""

from __future__ import annotations

import random
import warnings

import numpy as np
import pytest

from edtune.errors import DataError
from edtune.retrieval.base import BM25Params, Corpus, TinyCorpusWarning
from edtune.retrieval.reference import ReferenceBM25
from edtune.retrieval.sparse import SparseBM25
from edtune.retrieval.tokenize import Tokenizer, TokenizerSettings

RAW = Tokenizer(TokenizerSettings(stopwords=False, stem=False))


def _corpus(texts: list[str]) -> Corpus:
    return Corpus([f"d{i}" for i in range(len(texts))], texts)


def _pair(texts: list[str], params: BM25Params | None = None) -> tuple[SparseBM25, ReferenceBM25]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TinyCorpusWarning)
        corpus = _corpus(texts)
        return SparseBM25.build(corpus, RAW, params), ReferenceBM25(corpus, RAW, params)


def _random_case(seed: int) -> tuple[list[str], list[str], BM25Params, int]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(rng.randint(1, 15))]
    n_docs = rng.randint(1, 60)
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(0, 8))) for _ in range(n_docs)]
    texts[0] = texts[0] or words[0]  # at least one term in the corpus
    if rng.random() < 0.5:  # duplicated documents make exact ties
        texts += rng.sample(texts, k=min(len(texts), 5))
    queries = [" ".join(rng.choice([*words, "unknown"]) for _ in range(rng.randint(0, 6))) for _ in range(12)]
    params = BM25Params(k1=rng.choice([0.1, 0.9, 1.5, 2.0]), b=rng.choice([0.0, 0.5, 0.75, 1.0]),
                        epsilon=rng.choice([0.0, 0.25, 0.5]))
    return texts, queries, params, rng.randint(1, len(texts) + 3)


@pytest.mark.parametrize("seed", range(60))
def test_random_corpora_same_scores_and_top_k(seed: int) -> None:
    texts, queries, params, k = _random_case(seed)
    fast, ref = _pair(texts, params)
    for query in queries:
        np.testing.assert_allclose(fast.scores(query), ref.scores(query), rtol=1e-12, atol=1e-12)
        assert np.array_equal(fast.scores(query), ref.scores(query))  # bit for bit, so ties stay ties
    assert fast.search(queries, k) == ref.search(queries, k)


def test_ties_rank_by_pool_position() -> None:
    fast, ref = _pair(["red cube", "blue cube", "red cube", "green ball", "red cube"] + ["filler"] * 10)
    hits = fast.search(["red"], 3)[0]
    assert [h.doc for h in hits] == [0, 2, 4]
    assert hits[0].score == hits[1].score == hits[2].score > 0
    assert ref.search(["red"], 3) == [hits]


def test_empty_and_unknown_queries_rank_zero_scores_by_position() -> None:
    fast, ref = _pair([f"word{i} common" for i in range(30)])
    for query in ["", "   ", "nothing matches", "!!"]:
        hits = fast.search([query], 4)[0]
        assert [(h.doc, h.score) for h in hits] == [(0, 0.0), (1, 0.0), (2, 0.0), (3, 0.0)]
        assert ref.search([query], 4) == [hits]


def test_few_matches_are_followed_by_zero_score_documents() -> None:
    fast, ref = _pair(["a b", "c d", "a e", "f g", "h i"] * 6)
    hits = fast.search(["c"], 10)[0]
    assert [h.doc for h in hits[:6]] == [1, 6, 11, 16, 21, 26]
    assert all(h.score == 0.0 for h in hits[6:]) and [h.doc for h in hits[6:]] == [0, 2, 3, 4]
    assert ref.search(["c"], 10) == [hits]


def test_one_document_corpus_scores_negative_and_warns() -> None:
    with pytest.warns(TinyCorpusWarning, match="1 documents"):
        fast = SparseBM25.build(_corpus(["count red cubes"]), RAW)
    with pytest.warns(TinyCorpusWarning):
        ref = ReferenceBM25(_corpus(["count red cubes"]), RAW)
    # every idf is ln(0.5/1.5) < 0, so the floor is epsilon x that negative mean
    assert fast.scores("red")[0] < 0
    assert fast.search(["red", "blue"], 5) == ref.search(["red", "blue"], 5)
    assert len(fast.search(["red"], 5)[0]) == 1


def test_term_in_exactly_half_of_the_documents_scores_zero() -> None:
    texts = ["half other"] * 20 + ["rare"] + ["plain"] * 19
    fast, ref = _pair(texts)
    assert np.array_equal(fast.scores("half"), np.zeros(40))
    assert np.array_equal(ref.scores("half"), np.zeros(40))
    assert fast.scores("rare")[20] > 0


def test_repeated_query_terms_count_each_time_like_rank_bm25() -> None:
    fast, ref = _pair([f"x{i % 7} y{i % 3}" for i in range(40)])
    assert np.array_equal(fast.scores("x1 x1 y2 x1"), ref.scores("x1 x1 y2 x1"))
    assert fast.scores("x1 x1")[1] == pytest.approx(2 * fast.scores("x1")[1])


def test_batch_repeats_and_k_larger_than_corpus() -> None:
    fast, ref = _pair([f"t{i % 4} u{i % 5}" for i in range(25)])
    queries = ["t1", "u2 t1", "t1"]
    out = fast.search(queries, 100)
    assert [len(h) for h in out] == [25, 25, 25]
    assert out[0] == out[2] and out[0] is not out[2]
    assert out == ref.search(queries, 100)
    assert fast.search(["t1"], 0) == [[]]


def test_corpus_without_terms_is_refused() -> None:
    with pytest.raises(DataError, match="empty corpus"):
        SparseBM25.build(_corpus([]))
    with pytest.raises(DataError, match="no terms"):
        ReferenceBM25(_corpus(["", "!!"]))
    with pytest.raises(DataError, match="no terms"):
        SparseBM25.build(_corpus(["the of"]))  # only stop-words with the default tokenizer


def test_term_less_document_at_b_1_scores_zero_not_rank_bm25_nan() -> None:
    from rank_bm25 import BM25Okapi

    texts = ["", "red cube", "blue ball", "red ball"]
    with np.errstate(invalid="ignore"):
        assert np.isnan(BM25Okapi([RAW(t) for t in texts], b=1.0).get_scores(["red"])[0])
    fast, ref = _pair(texts, BM25Params(b=1.0))
    assert fast.scores("red")[0] == 0.0 == ref.scores("red")[0]
    assert fast.search(["red"], 4) == ref.search(["red"], 4)
