import numpy as np
import pytest

from edtune.errors import DataError
from edtune.progress.evaluation import accuracy_by_group, loss_by_group, members_by_group, pick_for_evaluation
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
