import numpy as np
import pytest

from edtune.errors import DataError
from edtune.methods.progress.evaluation import (
    accuracy_by_group,
    hold_out,
    loss_by_group,
    members_by_group,
    pick_for_evaluation,
)
from edtune.records import Judgment


def judged(sample_id: str, outcome: str) -> Judgment:
    return Judgment(sample_id=sample_id, outcome=outcome, judge="exact")  # type: ignore[arg-type]


GROUP_OF = {"a1": "a", "a2": "a", "a3": "a", "b1": "b", "b2": "b", "c1": "c"}


def test_accuracy_leaves_unscored_out_and_drops_groups_with_nothing_scored() -> None:
    scores = accuracy_by_group([judged("a1", "correct"), judged("a2", "incorrect"), judged("a3", "unscored"),
                                judged("b1", "correct"), judged("b2", "correct"), judged("c1", "unscored")],
                               GROUP_OF)
    assert set(scores) == {"a", "b"}
    assert scores["a"].value == 0.5 and scores["a"].n == 2
    assert scores["b"].value == 1.0 and scores["b"].n == 2


def test_judgment_for_a_sample_outside_the_groups_is_a_data_error() -> None:
    with pytest.raises(DataError, match="ghost"):
        accuracy_by_group([judged("ghost", "correct")], GROUP_OF)


def test_loss_is_averaged_per_group_and_validated() -> None:
    scores = loss_by_group({"a1": 1.0, "a2": 3.0, "b1": 0.5}, GROUP_OF)
    assert scores["a"].value == 2.0 and scores["a"].metric == "loss" and scores["b"].n == 1
    with pytest.raises(DataError, match="a1"):
        loss_by_group({"a1": float("nan")}, GROUP_OF)


def test_pick_for_evaluation_caps_per_group_and_is_seeded() -> None:
    selected = members_by_group([f"x{i}" for i in range(50)] + ["y0"], {**{f"x{i}": "x" for i in range(50)},
                                                                        "y0": "y"})
    first = pick_for_evaluation(selected, 8, np.random.default_rng(3))
    assert len(first["x"]) == 8 and first["y"] == ["y0"]
    assert set(first["x"]) <= set(selected["x"])
    assert first == pick_for_evaluation(selected, 8, np.random.default_rng(3))
    assert first != pick_for_evaluation(selected, 8, np.random.default_rng(4))


def test_hold_out_alternates_within_each_group_until_the_cap() -> None:
    group_of = {**{f"a{i}": "a" for i in range(10)}, **{f"b{i}": "b" for i in range(3)}}
    new = ["a0", "b0", "a1", "a2", "b1", "a3", "a4", "a5", "a6", "b2"]
    # a: 1st, 3rd, 5th held (cap 3 stops the 7th); b: 1st and 3rd held
    assert hold_out(new, group_of, {}, {}, per_group=3) == ["a0", "b0", "a2", "a4", "b2"]


def test_hold_out_counts_what_was_annotated_and_held_before() -> None:
    group_of = {f"a{i}": "a" for i in range(6)}
    # 3 annotated before (positions 0-2), so the next ones are at positions 3, 4, 5: 4 is held
    assert hold_out(["a3", "a4", "a5"], group_of, {"a": 3}, {"a": 1}, per_group=5) == ["a4"]
    # the group already holds its cap: nothing more is held
    assert hold_out(["a3", "a4", "a5"], group_of, {"a": 3}, {"a": 2}, per_group=2) == []
    with pytest.raises(DataError, match="ghost"):
        hold_out(["ghost"], group_of, {}, {}, per_group=2)
