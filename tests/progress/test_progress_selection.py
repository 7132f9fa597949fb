"""The PROGRESS round rule on hand-made accuracies: every documented edge case."""

import numpy as np
import pytest

from edtune.errors import UserError
from edtune.methods.progress.selection import (
    BUDGET_SPENT,
    NO_IMPROVEMENT,
    POOL_EXHAUSTED,
    ProgressSelector,
    relative_improvement,
    relative_improvements,
)
from edtune.methods.progress.selector import GroupScore, RoundState, Selection, Selector
from edtune.methods.progress.settings import ProgressSettings


def acc(value: float, n: int = 10) -> GroupScore:
    return GroupScore(value=value, n=n, metric="accuracy")


def pool(sizes: dict[str, int]) -> dict[str, str]:
    return {f"{g}-{i:03d}": g for g, size in sizes.items() for i in range(size)}


def config(**kw: object) -> ProgressSettings:
    base = {"k_tracking": 2, "k_warmup": 2, "round_size": 20, "tau": 1.0, "exploration_fraction": 0.1}
    base.update(kw)
    return ProgressSettings.model_validate(base)


def check_well_formed(sel: Selection, state: RoundState, group_of: dict[str, str]) -> None:
    assert len(sel.ids) == len(set(sel.ids))
    assert not set(sel.ids) & set(state.selected)
    assert len(sel.ids) <= state.budget_left
    assert set(sel.exploration) <= set(sel.ids)
    assert all(sel.group_of[i] == group_of[i] for i in sel.ids)
    assert sum(sel.quotas.values()) + len(sel.exploration) == len(sel.ids)


def test_relative_improvement_accuracy_and_zero_previous() -> None:
    assert relative_improvement(acc(0.6), acc(0.4)) == pytest.approx(0.5)
    # Zero previous accuracy: denominator is 1/n, so the improvement counts newly correct samples.
    assert relative_improvement(acc(0.3, n=10), acc(0.0)) == pytest.approx(3.0)
    assert relative_improvement(acc(0.0, n=10), acc(0.0)) == 0.0
    assert relative_improvement(acc(0.2), acc(0.5)) == pytest.approx(-0.6)


def test_relative_improvement_loss_variant() -> None:
    loss = lambda v: GroupScore(value=v, n=5, metric="loss")  # noqa: E731
    assert relative_improvement(loss(1.5), loss(2.0)) == pytest.approx(0.25)
    assert relative_improvement(loss(2.5), loss(2.0)) == pytest.approx(-0.25)
    assert relative_improvement(loss(0.0), loss(0.0)) == 0.0
    with pytest.raises(UserError):
        relative_improvement(loss(1.0), acc(0.5))


def test_only_groups_scored_twice_have_an_improvement() -> None:
    got = relative_improvements({"a": acc(0.5), "b": acc(0.5)}, {"a": acc(0.25), "c": acc(0.1)})
    assert got == {"a": pytest.approx(1.0)}


def test_quotas_follow_softmax_and_sum_exactly() -> None:
    group_of = pool({"a": 100, "b": 100, "c": 100})
    state = RoundState(round=1, budget_left=1000, scores={"a": acc(0.6), "b": acc(0.45), "c": acc(0.2)},
                       previous={"a": acc(0.3), "b": acc(0.3), "c": acc(0.4)})
    sel = ProgressSelector(group_of, config(round_size=40)).next_round(state, np.random.default_rng(0))
    check_well_formed(sel, state, group_of)
    assert len(sel.ids) == 40
    # Improvements a=1.0, b=0.5 kept; c negative. 36 by quota: softmax gives a 0.622 -> 22.4, b -> 13.6.
    assert sel.quotas == {"a": 22, "b": 14}
    assert sel.weights == {"a": pytest.approx(1.0), "b": pytest.approx(0.5)}
    assert len(sel.exploration) == 4
    assert {sel.group_of[i] for i in sel.exploration} == {"c"}


def test_size_prior_weighs_quotas_by_samples_left() -> None:
    group_of = pool({"a": 100, "b": 300, "c": 100})
    equal = RoundState(round=1, budget_left=1000, scores={"a": acc(0.6), "b": acc(0.6), "c": acc(0.2)},
                       previous={"a": acc(0.3), "b": acc(0.3), "c": acc(0.4)})
    uniform = ProgressSelector(group_of, config(round_size=40)).next_round(equal, np.random.default_rng(0))
    sized = ProgressSelector(group_of, config(round_size=40, cluster_prior="size"))
    assert uniform.quotas == {"a": 18, "b": 18}
    # Equal improvements: 36 by quota split 100 : 300, as a uniform draw over a and b would.
    assert sized.next_round(equal, np.random.default_rng(0)).quotas == {"a": 9, "b": 27}
    # a improves faster (1.0 vs 0.5): softmax 0.622 : 0.378, times 100 : 300 -> 62.2 : 113.4 of 36.
    unequal = equal.model_copy(update={"scores": {"a": acc(0.6), "b": acc(0.45), "c": acc(0.2)}})
    sel = sized.next_round(unequal, np.random.default_rng(0))
    check_well_formed(sel, unequal, group_of)
    assert sel.quotas == {"a": 13, "b": 23}
    assert {sel.group_of[i] for i in sel.exploration} == {"c"}


def test_tau_sharpens_the_split() -> None:
    group_of = pool({"a": 100, "b": 100})
    state = RoundState(round=1, budget_left=1000, scores={"a": acc(0.6), "b": acc(0.45)},
                       previous={"a": acc(0.3), "b": acc(0.3)})
    soft = ProgressSelector(group_of, config(tau=1.0)).next_round(state, np.random.default_rng(0))
    sharp = ProgressSelector(group_of, config(tau=0.1)).next_round(state, np.random.default_rng(0))
    assert sharp.quotas["a"] > soft.quotas["a"]
    assert sharp.quotas.get("b", 0) < soft.quotas["b"]


def test_all_deltas_negative_falls_back_to_uniform_draw() -> None:
    group_of = pool({"a": 30, "b": 30})
    state = RoundState(round=2, budget_left=100, scores={"a": acc(0.2), "b": acc(0.3)},
                       previous={"a": acc(0.5), "b": acc(0.3)})
    sel = ProgressSelector(group_of, config()).next_round(state, np.random.default_rng(1))
    check_well_formed(sel, state, group_of)
    assert sel.note == NO_IMPROVEMENT
    assert sel.quotas == {}
    assert sel.exploration == sel.ids and len(sel.ids) == 20


def test_first_round_without_previous_scores_is_uniform() -> None:
    group_of = pool({"a": 30, "b": 30})
    state = RoundState(round=1, budget_left=100, scores={"a": acc(0.2), "b": acc(0.3)})
    sel = ProgressSelector(group_of, config()).next_round(state, np.random.default_rng(1))
    assert sel.note == NO_IMPROVEMENT and len(sel.ids) == 20


def test_cluster_with_no_samples_left_is_not_kept() -> None:
    group_of = pool({"a": 5, "b": 50})
    done = [i for i, g in group_of.items() if g == "a"]
    state = RoundState(round=1, budget_left=100, selected=done, scores={"a": acc(0.9), "b": acc(0.35)},
                       previous={"a": acc(0.1), "b": acc(0.3)})
    sel = ProgressSelector(group_of, config()).next_round(state, np.random.default_rng(0))
    check_well_formed(sel, state, group_of)
    assert set(sel.quotas) == {"b"}
    assert "a" not in sel.weights
    assert all(sel.group_of[i] == "b" for i in sel.ids)


def test_scored_cluster_unknown_to_the_pool_is_ignored() -> None:
    group_of = pool({"a": 50})
    state = RoundState(round=1, budget_left=100, scores={"a": acc(0.5), "ghost": acc(0.9)},
                       previous={"a": acc(0.3), "ghost": acc(0.1)})
    sel = ProgressSelector(group_of, config()).next_round(state, np.random.default_rng(0))
    assert set(sel.quotas) == {"a"}


def test_quota_capped_by_samples_left_overflows_to_other_kept_clusters() -> None:
    group_of = pool({"a": 3, "b": 100, "c": 100})
    state = RoundState(round=1, budget_left=100, scores={"a": acc(0.9), "b": acc(0.4), "c": acc(0.2)},
                       previous={"a": acc(0.1), "b": acc(0.3), "c": acc(0.3)})
    sel = ProgressSelector(group_of, config()).next_round(state, np.random.default_rng(0))
    check_well_formed(sel, state, group_of)
    assert sel.quotas == {"a": 3, "b": 15}
    assert len(sel.ids) == 20


def test_kept_clusters_too_small_for_the_round_hand_the_rest_to_exploration() -> None:
    group_of = pool({"a": 4, "b": 100})
    state = RoundState(round=1, budget_left=100, scores={"a": acc(0.9), "b": acc(0.2)},
                       previous={"a": acc(0.1), "b": acc(0.3)})
    sel = ProgressSelector(group_of, config()).next_round(state, np.random.default_rng(0))
    assert sel.quotas == {"a": 4}
    assert len(sel.exploration) == 16 and len(sel.ids) == 20


def test_budget_smaller_than_a_round_gives_a_smaller_round() -> None:
    group_of = pool({"a": 100, "b": 100})
    state = RoundState(round=3, budget_left=7, scores={"a": acc(0.6), "b": acc(0.2)},
                       previous={"a": acc(0.3), "b": acc(0.3)})
    sel = ProgressSelector(group_of, config(round_size=50)).next_round(state, np.random.default_rng(0))
    check_well_formed(sel, state, group_of)
    assert len(sel.ids) == 7
    assert sel.quotas == {"a": 6} and len(sel.exploration) == 1


def test_spent_budget_or_exhausted_pool_gives_an_empty_selection() -> None:
    group_of = pool({"a": 10})
    scores = {"a": acc(0.6)}
    previous = {"a": acc(0.3)}
    spent = RoundState(round=4, budget_left=0, scores=scores, previous=previous)
    empty = ProgressSelector(group_of, config()).next_round(spent, np.random.default_rng(0))
    assert empty.ids == [] and empty.note == BUDGET_SPENT
    exhausted = RoundState(round=4, budget_left=10, selected=list(group_of), scores=scores, previous=previous)
    empty = ProgressSelector(group_of, config()).next_round(exhausted, np.random.default_rng(0))
    assert empty.ids == [] and empty.note == POOL_EXHAUSTED


def test_exploration_when_every_cluster_is_kept_draws_from_their_leftovers() -> None:
    group_of = pool({"a": 100, "b": 100})
    state = RoundState(round=1, budget_left=100, scores={"a": acc(0.6), "b": acc(0.5)},
                       previous={"a": acc(0.3), "b": acc(0.3)})
    sel = ProgressSelector(group_of, config()).next_round(state, np.random.default_rng(0))
    check_well_formed(sel, state, group_of)
    assert sum(sel.quotas.values()) == 18
    assert len(sel.exploration) == 2
    assert {sel.group_of[i] for i in sel.exploration} <= {"a", "b"}


def test_same_seed_same_selection_and_selector_protocol() -> None:
    group_of = pool({"a": 100, "b": 100, "c": 100})
    state = RoundState(round=1, budget_left=100, scores={"a": acc(0.6), "b": acc(0.45), "c": acc(0.2)},
                       previous={"a": acc(0.3), "b": acc(0.3), "c": acc(0.4)})
    selector: Selector = ProgressSelector(group_of, config())
    first = selector.next_round(state, np.random.default_rng(7))
    again = selector.next_round(state, np.random.default_rng(7))
    other = selector.next_round(state, np.random.default_rng(8))
    assert first == again
    assert first.ids != other.ids


def test_loss_metric_selects_clusters_whose_loss_fell() -> None:
    loss = lambda v: GroupScore(value=v, n=5, metric="loss")  # noqa: E731
    group_of = pool({"a": 50, "b": 50})
    state = RoundState(round=1, budget_left=100, scores={"a": loss(1.0), "b": loss(2.2)},
                       previous={"a": loss(2.0), "b": loss(2.0)})
    sel = ProgressSelector(group_of, config(metric="loss")).next_round(state, np.random.default_rng(0))
    assert set(sel.quotas) == {"a"}


def test_config_refuses_warmup_coarser_than_tracking() -> None:
    with pytest.raises(ValueError, match="k_warmup"):
        ProgressSettings(k_tracking=100, k_warmup=10)


def test_exploration_share_is_rounded_half_up() -> None:
    group_of = pool({"a": 100, "b": 100})
    state = RoundState(round=1, budget_left=5, scores={"a": acc(0.6), "b": acc(0.2)},
                       previous={"a": acc(0.3), "b": acc(0.3)})
    sel = ProgressSelector(group_of, config()).next_round(state, np.random.default_rng(0))
    assert len(sel.exploration) == 1 and sel.quotas == {"a": 4}


def test_scores_of_another_metric_than_configured_are_refused() -> None:
    state = RoundState(round=1, budget_left=5, scores={"a": acc(0.6)}, previous={"a": acc(0.3)})
    with pytest.raises(UserError, match="metric"):
        ProgressSelector(pool({"a": 10}), config(metric="loss")).next_round(state, np.random.default_rng(0))
