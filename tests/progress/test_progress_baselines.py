import numpy as np
import pytest

from edtune.errors import DataError
from edtune.methods.scores.ranking import el2n, full_selection, perplexity, random_selection, score_selection

POOL = [f"s{i}" for i in range(10)]
SCORES = {f"s{i}": float(i) for i in range(10)}


def test_random_selection_is_seeded_and_bounded() -> None:
    a = random_selection(POOL, 4, np.random.default_rng(0))
    assert len(a.ids) == len(set(a.ids)) == 4 and set(a.ids) <= set(POOL)
    assert a == random_selection(list(reversed(POOL)), 4, np.random.default_rng(0))
    assert len(random_selection(POOL, 50, np.random.default_rng(0)).ids) == 10


def test_full_selection_keeps_every_id_once() -> None:
    assert full_selection([*POOL, "s1"]).ids == POOL


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


def test_el2n_and_perplexity_by_hand() -> None:
    probs = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    assert el2n(probs, np.array([0, 0])) == pytest.approx((np.sqrt(0.5) + 0.0) / 2)
    assert perplexity([np.log(0.5), np.log(0.5)]) == pytest.approx(2.0)
    with pytest.raises(DataError):
        perplexity([])
