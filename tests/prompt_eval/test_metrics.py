"""Metrics on hand-made outcomes: localisation, skills (exact, BM25, overlap), judge agreement, costs."""

from __future__ import annotations

import pytest
from prompt_eval_fakes import CATALOGUE, GOLD_ITEMS

from edtune.prompt_eval.gold import GoldSet
from edtune.prompt_eval.metrics import ItemOutcome, SkillMatcher, compute_metrics


def _step(item_id: str, step: int | None, calls: int = 1) -> ItemOutcome:
    return ItemOutcome(item_id=item_id, status="answered" if step is not None else "unscored", step=step, calls=calls,
                       prompt_tokens=10, completion_tokens=2, latency_s=0.5)


def test_localisation_exact_within_one_and_unscored(gold: GoldSet) -> None:
    # truths: i1=2, i2=2, i3=3, i4=1
    outcomes = [_step("i1", 2), _step("i2", 3), _step("i3", 1), _step("i4", None, calls=3)]
    metrics = compute_metrics("first_wrong_step", outcomes, gold)
    assert metrics.items == 4 and metrics.scored == 3 and metrics.unscored_rate == pytest.approx(0.25)
    assert metrics.exact == pytest.approx(1 / 3) and metrics.within_one == pytest.approx(2 / 3)
    assert metrics.exact_of_all == pytest.approx(0.25)
    assert metrics.calls == 6 and metrics.prompt_tokens == 40 and metrics.completion_tokens == 8
    assert metrics.latency_s == pytest.approx(2.0) and metrics.calls_per_item == pytest.approx(1.5)
    assert metrics.skill_exact is None and metrics.verdict_agreement is None


def test_nothing_scored_gives_none_not_zero(gold: GoldSet) -> None:
    metrics = compute_metrics("step_check", [_step(i.id, None) for i in gold], gold)
    assert metrics.exact is None and metrics.within_one is None and metrics.unscored_rate == 1.0
    assert metrics.exact_of_all == 0.0


def _skills(item_id: str, *phrases: str) -> ItemOutcome:
    return ItemOutcome(item_id=item_id, status="answered", skills=list(phrases))


def test_skill_agreement_exact_bm25_and_overlap(gold: GoldSet) -> None:
    outcomes = [
        _skills("i1", "Size Recognition"),                    # exact (name, case and "_" folded)
        _skills("i2", "selecting objects of a colour"),       # not the item's phrasing, but BM25 finds the skill
        _skills("i3", "counting objects"),                     # wrong skill
        ItemOutcome(item_id="i4", status="unscored"),
    ]
    metrics = compute_metrics("missing_skills", outcomes, gold)
    assert metrics.scored == 3 and metrics.skill_exact == pytest.approx(1 / 3)
    assert metrics.skill_bm25 == pytest.approx(2 / 3)
    assert metrics.skill_overlap is not None and 0.3 < metrics.skill_overlap < 1.0
    assert metrics.exact is None


def test_skill_matcher_parts() -> None:
    matcher = SkillMatcher(CATALOGUE)
    item = GOLD_ITEMS[0]
    assert matcher.exact(["size recognition of objects"], item)  # one of the item's skill_text phrasings
    assert not matcher.exact(["size"], item)
    assert matcher.bm25_top(["which shape is left of the other: positions"]) == "spatial_relation"
    assert matcher.bm25_top(["zzz"]) is None
    assert matcher.overlap(["size recognition"], item) == pytest.approx(1.0)
    assert matcher.overlap(["colour"], item) == 0.0


def test_judge_agreement(gold: GoldSet) -> None:
    verdicts = ["incorrect", "correct", "incorrect", None]
    outcomes = [ItemOutcome(item_id=i.id, status="answered" if v else "unscored", verdict=v)
                for i, v in zip(gold, verdicts, strict=True)]
    metrics = compute_metrics("judge_equivalence", outcomes, gold)
    assert metrics.verdict_agreement == pytest.approx(2 / 3) and metrics.unscored_rate == pytest.approx(0.25)
