"""COINCIDE-style warm-up on hand-made centroids and clusters."""

import numpy as np
import pytest

from edtune.methods.progress.kmeans import KMeansResult, spherical_kmeans
from edtune.methods.progress.settings import ProgressSettings
from edtune.methods.progress.warmup import density, prototypes, transferability, warmup_quotas, warmup_selection


def unit(*v: float) -> np.ndarray:
    a = np.array(v, dtype=np.float64)
    return a / np.linalg.norm(a)


def test_transferability_ignores_self_and_near_duplicates() -> None:
    c = np.stack([unit(1, 0, 0), unit(1, 0.1, 0), unit(0, 1, 0), unit(0.6, 0.8, 0)])
    sims = c @ c.T
    got = transferability(c, max_similarity=0.9)
    # Centroid 0: centroid 1 (cos 0.995) is dropped; the mean is over 2 and 3.
    assert got[0] == pytest.approx((sims[0, 2] + sims[0, 3]) / 2)
    assert got[2] == pytest.approx((sims[2, 0] + sims[2, 1] + sims[2, 3]) / 3)


def test_transferability_is_zero_when_nothing_is_left() -> None:
    c = np.stack([unit(1, 0), unit(1, 0.01)])
    assert transferability(c, max_similarity=0.9).tolist() == [0.0, 0.0]


def test_density_is_one_for_coincident_members_lower_when_spread_nan_when_empty() -> None:
    x = np.stack([unit(1, 0), unit(1, 0), unit(0, 1), unit(-1, 0)])
    labels = np.array([0, 0, 1, 1])
    got = density(x, labels, 3, bandwidth=1.0, rng=np.random.default_rng(0))
    assert got[0] == pytest.approx(1.0)
    # Cluster 1: pairs (self, self, cos 0 twice) -> (1 + 1 + 2 e^-1) / 4.
    assert got[1] == pytest.approx((2 + 2 * np.exp(-1.0)) / 4)
    assert np.isnan(got[2])


def test_quotas_are_softmax_of_scores_and_sum_to_the_budget() -> None:
    scores = np.array([0.5, 0.4, 0.1, np.nan])
    sizes = np.array([100, 100, 100, 0])
    quotas = warmup_quotas(scores, sizes, 50, temperature=0.1)
    e = np.exp(np.array([0.5, 0.4, 0.1]) / 0.1)
    expected = 50 * e / e.sum()
    assert sum(quotas.values()) == 50
    assert "3" not in quotas
    assert all(abs(quotas[str(i)] - expected[i]) < 1 for i in range(3))
    assert quotas["0"] > quotas["1"] > quotas["2"]


def test_quotas_respect_cluster_sizes_and_stop_at_the_pool() -> None:
    quotas = warmup_quotas(np.array([5.0, 0.0]), np.array([3, 100]), 20, temperature=0.1)
    assert quotas == {"0": 3, "1": 17}
    assert sum(warmup_quotas(np.array([1.0, 1.0]), np.array([3, 4]), 20, 0.1).values()) == 7


def test_nearest_prototypes_are_closest_to_the_centroid() -> None:
    members = np.stack([unit(0, 1), unit(1, 0.2), unit(1, 0), unit(1, -0.5)])
    picks = prototypes(members, 2, rule="nearest", centroid=unit(1, 0))
    assert picks.tolist() == [2, 1]


def test_mmd_prototypes_cover_both_modes_of_a_cluster() -> None:
    # Two tight, equal modes near (1, 0) and (0, 1): two picks from one mode leave the other unexplained,
    # so MMD takes one from each, whereas "nearest" to the (diagonal) centroid would not care.
    rng = np.random.default_rng(0)
    left = np.stack([unit(1, 0.02 * rng.normal()) for _ in range(6)])
    right = np.stack([unit(0.02 * rng.normal(), 1) for _ in range(6)])
    picks = prototypes(np.concatenate([left, right]), 2, rule="mmd", bandwidth=0.5)
    assert sorted(p // 6 for p in picks.tolist()) == [0, 1]


def test_warmup_selection_end_to_end_is_seeded_and_sums_to_budget() -> None:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 16))
    x = np.repeat(centres, [40, 30, 20, 10], axis=0) + 0.3 * rng.normal(size=(100, 16))
    ids = [f"s{i:03d}" for i in range(100)]
    clustering = spherical_kmeans(x, 4, niter=10, backend="numpy")
    config = ProgressSettings(k_tracking=4, k_warmup=4)
    first = warmup_selection(ids, x, clustering, 25, config, np.random.default_rng(1))
    again = warmup_selection(ids, x, clustering, 25, config, np.random.default_rng(1))
    assert first == again
    assert len(first.ids) == len(set(first.ids)) == 25
    assert sum(first.quotas.values()) == 25
    for sample_id in first.ids:
        assert first.group_of[sample_id] == str(clustering.assignments[ids.index(sample_id)])


def test_warmup_selection_checks_alignment() -> None:
    x = np.eye(3)
    clustering = KMeansResult(np.eye(3), np.arange(3), 1.0, "numpy")
    with pytest.raises(Exception, match="must match"):
        warmup_selection(["a", "b"], x, clustering, 2, ProgressSettings(k_tracking=3, k_warmup=3),
                         np.random.default_rng(0))


def test_members_by_cluster_matches_a_scan_and_keeps_empty_clusters() -> None:
    from edtune.methods.progress.warmup import members_by_cluster

    labels = np.array([2, 0, 2, 2, 0, 4])
    got = members_by_cluster(labels, 5)
    assert [g.tolist() for g in got] == [[1, 4], [], [0, 2, 3], [], [5]]
