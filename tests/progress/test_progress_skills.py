"""Skill-progress: PROGRESS quotas over teacher-named skills, retrieval score order within a skill."""

import numpy as np
import pytest

from edtune.errors import DataError
from edtune.methods.progress.selection import NO_IMPROVEMENT
from edtune.methods.progress.selector import GroupScore, RoundState
from edtune.methods.progress.settings import ProgressSettings
from edtune.methods.skill_progress.selector import SkillProgressSelector

CONFIG = ProgressSettings(k_tracking=1, k_warmup=1, round_size=10, exploration_fraction=0.2)


def acc(value: float) -> GroupScore:
    return GroupScore(value=value, n=10)


def candidates() -> dict[str, list[tuple[str, float]]]:
    return {
        "counting": [(f"count-{i}", float(i)) for i in range(20)],
        "colour": [(f"colour-{i}", float(i)) for i in range(20)],
        "spatial": [(f"spatial-{i}", float(i)) for i in range(20)],
    }


def test_quota_takes_the_best_scored_candidates_of_the_improving_skill() -> None:
    state = RoundState(round=2, budget_left=100, scores={"counting": acc(0.5), "colour": acc(0.2), "spatial": acc(0.1)},
                       previous={"counting": acc(0.25), "colour": acc(0.4), "spatial": acc(0.3)})
    sel = SkillProgressSelector(candidates(), CONFIG).next_round(state, np.random.default_rng(0))
    assert sel.quotas == {"counting": 8}
    assert sel.ids[:8] == [f"count-{i}" for i in range(19, 11, -1)]
    assert len(sel.exploration) == 2
    assert all(not i.startswith("count") for i in sel.exploration)


def test_already_annotated_candidates_are_skipped() -> None:
    state = RoundState(round=2, budget_left=100, selected=["count-19", "count-18"],
                       scores={"counting": acc(0.5)}, previous={"counting": acc(0.25)})
    sel = SkillProgressSelector({"counting": candidates()["counting"]}, CONFIG).next_round(
        state, np.random.default_rng(0))
    assert sel.ids[0] == "count-17"
    assert not {"count-19", "count-18"} & set(sel.ids)


def test_new_skill_is_treated_as_the_best_measured_improvement() -> None:
    state = RoundState(round=2, budget_left=100, scores={"counting": acc(0.5), "colour": acc(0.2)},
                       previous={"counting": acc(0.25), "colour": acc(0.4)})
    selector = SkillProgressSelector(candidates(), CONFIG)
    assert selector.improvements(state) == {"counting": pytest.approx(1.0), "colour": pytest.approx(-0.5),
                                            "spatial": pytest.approx(1.0)}
    sel = selector.next_round(state, np.random.default_rng(0))
    assert sel.quotas == {"counting": 4, "spatial": 4}


def test_without_any_measurement_every_skill_is_new_and_shares_equally() -> None:
    state = RoundState(round=1, budget_left=100)
    sel = SkillProgressSelector(candidates(), CONFIG.model_copy(update={"round_size": 11})).next_round(
        state, np.random.default_rng(0))
    assert sum(sel.quotas.values()) == 9 and len(sel.ids) == 11
    assert sorted(sel.quotas.values()) == [3, 3, 3]


def test_all_measured_skills_worse_falls_back_to_uniform() -> None:
    cands = {k: v for k, v in candidates().items() if k != "spatial"}
    state = RoundState(round=2, budget_left=100, scores={"counting": acc(0.1), "colour": acc(0.2)},
                       previous={"counting": acc(0.25), "colour": acc(0.4)})
    sel = SkillProgressSelector(cands, CONFIG).next_round(state, np.random.default_rng(0))
    assert sel.note == NO_IMPROVEMENT and len(sel.ids) == 10 and sel.quotas == {}


def test_an_id_retrieved_for_two_skills_is_chosen_once() -> None:
    shared = {"a": [("x", 9.0), ("y", 8.0)], "b": [("x", 9.0), ("z", 1.0)]}
    state = RoundState(round=1, budget_left=100)
    sel = SkillProgressSelector(shared, CONFIG.model_copy(update={"exploration_fraction": 0.0})).next_round(
        state, np.random.default_rng(0))
    assert sorted(sel.ids) == ["x", "y", "z"]


def test_non_finite_retrieval_score_is_a_data_error() -> None:
    with pytest.raises(DataError, match="not finite"):
        SkillProgressSelector({"a": [("x", float("nan"))]}, CONFIG)
