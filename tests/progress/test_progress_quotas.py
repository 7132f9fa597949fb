import pytest

from edtune.methods.progress.quotas import allocate, softmax


def test_softmax_matches_hand_computation_and_is_stable_for_large_values() -> None:
    weights = softmax({"a": 0.0, "b": 1.0}, temperature=1.0)
    assert weights["b"] == pytest.approx(2.718281828 / (1 + 2.718281828))
    big = softmax({"a": 1000.0, "b": 1000.0}, temperature=0.1)
    assert big == {"a": 0.5, "b": 0.5}


def test_softmax_rejects_non_positive_temperature() -> None:
    with pytest.raises(ValueError):
        softmax({"a": 1.0}, temperature=0.0)


def test_allocate_sums_exactly_with_largest_remainder() -> None:
    quotas = allocate({"a": 1.0, "b": 1.0, "c": 1.0}, 10, {"a": 100, "b": 100, "c": 100})
    assert sum(quotas.values()) == 10
    # 10/3 each: the single spare unit goes to the first key on a tie.
    assert quotas == {"a": 4, "b": 3, "c": 3}


def test_allocate_redistributes_overflow_of_capped_groups() -> None:
    quotas = allocate({"a": 0.9, "b": 0.05, "c": 0.05}, 100, {"a": 10, "b": 1000, "c": 1000})
    assert quotas["a"] == 10
    assert quotas["b"] + quotas["c"] == 90
    assert quotas["b"] == quotas["c"] == 45


def test_allocate_gives_all_capacity_when_total_exceeds_it() -> None:
    quotas = allocate({"a": 0.5, "b": 0.5}, 50, {"a": 3, "b": 4})
    assert quotas == {"a": 3, "b": 4}


def test_allocate_skips_zero_weight_and_zero_capacity() -> None:
    quotas = allocate({"a": 0.0, "b": 1.0, "c": 1.0}, 6, {"a": 10, "b": 0, "c": 10})
    assert quotas == {"a": 0, "b": 0, "c": 6}


@pytest.mark.parametrize("total", [0, 1, 7, 99, 1000])
def test_allocate_never_exceeds_capacity_and_sums_to_what_fits(total: int) -> None:
    weights = {str(i): 1.0 / (i + 1) for i in range(13)}
    capacity = {str(i): i % 5 * 7 for i in range(13)}
    quotas = allocate(weights, total, capacity)
    assert all(quotas[k] <= capacity[k] for k in quotas)
    assert sum(quotas.values()) == min(total, sum(c for c in capacity.values()))
