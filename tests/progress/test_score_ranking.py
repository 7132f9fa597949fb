"""The score baselines' ranking rule, and the random baselines' draw."""

import pytest

from edtune.errors import DataError
from edtune.loop.stages_select import random_choice
from edtune.methods.scores.ranking import score_selection

POOL = [f"s{i}" for i in range(10)]
SCORES = {f"s{i}": float(i) for i in range(10)}


def test_random_baseline_draw_is_seeded_and_bounded() -> None:
    # The product's draw for the random and full baselines (and the random-samples ablation).
    a = random_choice(POOL, 4, seed=0, iteration=1, stage="random")
    assert len({c.sample_id for c in a}) == 4 and {c.sample_id for c in a} <= set(POOL)
    assert a == random_choice(POOL, 4, seed=0, iteration=1, stage="random")
    assert a != random_choice(POOL, 4, seed=0, iteration=2, stage="random")
    assert [c.rank for c in a] == [1, 2, 3, 4]
    assert sorted(c.sample_id for c in random_choice(POOL, 50, seed=0, iteration=1, stage="full")) == sorted(POOL)


@pytest.mark.parametrize(("order", "expected"), [("highest", ["s9", "s8", "s7"]), ("lowest", ["s0", "s1", "s2"]),
                                                 ("middle", ["s6", "s5", "s4"])])
def test_score_selection_orders(order: str, expected: list[str]) -> None:
    seen: list[list[str]] = []

    def scorer(ids: object) -> dict[str, float]:
        seen.append(list(ids))  # type: ignore[call-overload]
        return SCORES

    sel = score_selection(POOL, scorer, 3, order=order, name="el2n")  # type: ignore[arg-type]
    assert sel.ids == expected and sel.quotas == {"el2n": 3}
    assert seen == [sorted(POOL)]


def test_score_selection_refuses_missing_or_nan_scores() -> None:
    with pytest.raises(DataError, match="s9"):
        score_selection(POOL, lambda ids: {k: v for k, v in SCORES.items() if k != "s9"}, 3)
    with pytest.raises(DataError, match="nan"):
        score_selection(POOL, lambda ids: {**SCORES, "s0": float("nan")}, 3)
