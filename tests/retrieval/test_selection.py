"""From missing skills to a training set: allocation with a floor, de-duplication, exclusion, the account."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from edtune.retrieval.base import Hit
from edtune.retrieval.select import SelectionConfig, allocate, select_samples
from edtune.retrieval.spec import CorpusSpec


class FixedHits:
    """A Retriever stand-in with hand-written hit lists per skill."""

    def __init__(self, hits: dict[str, list[tuple[str, float]]]) -> None:
        self.hits = hits
        self.queries: list[list[str]] = []

    @property
    def size(self) -> int:
        return 100

    def scores(self, query: str) -> np.ndarray:
        raise AssertionError("not used")

    def search(self, queries: Sequence[str], k: int) -> list[list[Hit]]:
        self.queries.append(list(queries))
        return [[Hit(i, sid, score) for i, (sid, score) in enumerate(self.hits.get(q, [])[:k])] for q in queries]


def test_allocation_is_proportional_and_sums_to_budget() -> None:
    assert allocate({"a": 6, "b": 3, "c": 1}, 100, 0) == {"a": 60, "b": 30, "c": 10}
    # shares 4.55, 2.73, 2.73: whole parts 4, 2, 2, the two left over go to the largest remainders
    assert allocate({"a": 5, "b": 3, "c": 3}, 10, 0) == {"a": 4, "b": 3, "c": 3}


def test_allocation_floor_lifts_rare_skills_and_reshares_the_rest() -> None:
    quotas = allocate({"a": 97, "b": 2, "c": 1}, 100, 10)
    assert quotas == {"a": 80, "b": 10, "c": 10}
    assert list(quotas) == ["a", "b", "c"]  # most-missed first


def test_allocation_when_floor_exceeds_budget_serves_most_missed_first() -> None:
    assert allocate({"a": 1, "b": 5, "c": 3}, 5, 2) == {"b": 2, "c": 2, "a": 1}
    assert allocate({"a": 1}, 0, 2) == {"a": 0}
    assert allocate({}, 10, 2) == {}


def test_allocation_ties_break_by_count_then_name() -> None:
    assert allocate({"b": 1, "a": 1, "c": 1}, 2, 0) == {"a": 1, "b": 1, "c": 0}


def test_selection_dedups_excludes_and_records_skill_score_rank() -> None:
    retriever = FixedHits({
        "count": [("p1", 9.0), ("p2", 8.0), ("p3", 7.0), ("p4", 6.0)],
        "colour": [("p1", 5.0), ("p5", 4.0), ("p6", 3.0)],
    })
    missing = ["count", "count", "count", " colour "]
    selection = select_samples(retriever, missing, SelectionConfig(budget=4, floor=1), exclude={"p2"})
    assert retriever.queries == [["count", "colour"]]
    assert [(s.sample_id, s.skill, s.score, s.rank) for s in selection.samples] == [
        ("p1", "count", 9.0, 1), ("p5", "colour", 4.0, 2), ("p3", "count", 7.0, 3), ("p4", "count", 6.0, 4)]
    assert [(q.skill, q.missing, q.quota, q.chosen) for q in selection.skills] == [("count", 3, 3, 3),
                                                                                   ("colour", 1, 1, 1)]
    assert selection.sample_ids == ["p1", "p5", "p3", "p4"]


def test_short_skills_give_their_budget_to_others_and_non_matches_are_never_chosen() -> None:
    retriever = FixedHits({"rare": [("r1", 2.0), ("r0", 0.0), ("rn", -1.0)],
                           "common": [(f"c{i}", 10.0 - i) for i in range(8)]})
    selection = select_samples(retriever, ["rare"] * 5 + ["common"], SelectionConfig(budget=6, floor=1))
    account = {q.skill: (q.quota, q.chosen) for q in selection.skills}
    assert account == {"rare": (5, 1), "common": (1, 5)}
    assert "r0" not in selection.sample_ids and "rn" not in selection.sample_ids
    assert len(selection.samples) == 6


def test_top_k_caps_a_skill_and_empty_budget_chooses_nothing() -> None:
    retriever = FixedHits({"a": [(f"a{i}", 5.0) for i in range(10)]})
    assert len(select_samples(retriever, ["a"], SelectionConfig(budget=8, top_k=3)).samples) == 3
    assert select_samples(retriever, ["a"], SelectionConfig(budget=0)).samples == []
    assert select_samples(retriever, ["", "  "], SelectionConfig(budget=5)).skills == []


def test_selection_over_a_real_index(pool_spec: Callable[..., CorpusSpec]) -> None:
    from edtune.retrieval.corpus import read_pool
    from edtune.retrieval.sparse import SparseBM25

    spec = pool_spec(40)
    retriever = SparseBM25.build(read_pool(spec).corpus)
    selection = select_samples(retriever, ["counting objects"] * 3 + ["which shape is bigger"],
                               SelectionConfig(budget=8, floor=2), exclude={"s000"})
    assert len(selection.sample_ids) == len(set(selection.sample_ids)) == 8
    assert "s000" not in selection.sample_ids
    assert all(s.score > 0 for s in selection.samples)
    bigger = [s.sample_id for s in selection.samples if s.skill == "which shape is bigger"]
    assert bigger and all(int(i[1:]) % 8 == 5 for i in bigger)  # SKILLS[5] is the "bigger" one


@pytest.mark.parametrize("budget", [-1])
def test_config_refuses_negative_budget(budget: int) -> None:
    with pytest.raises(ValueError, match="budget"):
        SelectionConfig(budget=budget)
