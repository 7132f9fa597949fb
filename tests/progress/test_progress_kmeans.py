import numpy as np
import pytest

from edtune.errors import UserError
from edtune.methods.progress.kmeans import assign, faiss_available, spherical_kmeans

needs_faiss = pytest.mark.skipif(not faiss_available(), reason="faiss is not installed")


def blobs(k: int = 6, per: int = 150, dim: int = 24, noise: float = 0.02,
          seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, dim))
    labels = np.repeat(np.arange(k), per)
    x = centres[labels] + noise * rng.normal(size=(k * per, dim)) * np.linalg.norm(centres, axis=1).mean()
    order = rng.permutation(len(labels))
    return x[order].astype(np.float32), labels[order]


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """True when a and b are the same partition up to relabelling."""
    pairs = set(zip(a.tolist(), b.tolist(), strict=True))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


@pytest.mark.parametrize("init", ["kmeans++", "random"])
def test_numpy_backend_recovers_separable_clusters(init: str) -> None:
    x, truth = blobs()
    result = spherical_kmeans(x, 6, niter=20, seed=3, backend="numpy", init=init)  # type: ignore[arg-type]
    if init == "kmeans++":
        assert same_partition(result.assignments, truth)
    assert result.centroids.shape == (6, 24)
    assert np.allclose(np.linalg.norm(result.centroids, axis=1), 1.0, atol=1e-5)
    assert 0.0 < result.objective <= 1.0


@needs_faiss
def test_faiss_and_numpy_give_the_same_partition_on_easy_data() -> None:
    x, truth = blobs(seed=1)
    a = spherical_kmeans(x, 6, niter=20, seed=5, backend="numpy")
    b = spherical_kmeans(x, 6, niter=20, seed=5, backend="faiss")
    assert b.backend == "faiss"
    assert same_partition(a.assignments, b.assignments)
    assert same_partition(a.assignments, truth)
    assert a.objective == pytest.approx(b.objective, abs=1e-4)


@pytest.mark.parametrize("backend", ["numpy", "torch", pytest.param("faiss", marks=needs_faiss)])
def test_same_seed_same_result(backend: str) -> None:
    x, _ = blobs(k=8, noise=0.4, seed=2)
    a = spherical_kmeans(x, 8, niter=10, seed=11, backend=backend)  # type: ignore[arg-type]
    b = spherical_kmeans(x, 8, niter=10, seed=11, backend=backend)  # type: ignore[arg-type]
    assert np.array_equal(a.assignments, b.assignments)
    assert np.array_equal(a.centroids, b.centroids)


def test_objective_is_mean_cosine_to_assigned_centroid() -> None:
    x, _ = blobs(noise=0.3)
    result = spherical_kmeans(x, 6, niter=5, backend="numpy")
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    cosines = np.sum(unit * result.centroids[result.assignments], axis=1)
    assert result.objective == pytest.approx(float(cosines.mean()), abs=1e-5)
    labels, _ = assign(unit, result.centroids)
    assert np.array_equal(labels, result.assignments)


def test_empty_cluster_is_reseeded_so_every_cluster_has_members() -> None:
    # Two distinct points repeated, k = 3: duplicates force a degenerate start; no cluster may end empty.
    x = np.array([[1.0, 0.0]] * 10 + [[0.0, 1.0]] * 10 + [[0.6, 0.8]], dtype=np.float32)
    result = spherical_kmeans(x, 3, niter=5, backend="numpy", init="random", seed=0)
    assert set(result.assignments.tolist()) == {0, 1, 2}


def test_bad_inputs_are_user_errors() -> None:
    x, _ = blobs(k=2, per=3)
    with pytest.raises(UserError, match="k="):
        spherical_kmeans(x, 7, backend="numpy")
    with pytest.raises(UserError, match="row 1"):
        spherical_kmeans(np.array([[1.0, 0.0], [0.0, 0.0]]), 1, backend="numpy")
    with pytest.raises(UserError, match="NaN"):
        spherical_kmeans(np.array([[np.nan, 1.0]]), 1, backend="numpy")


def test_given_starting_centroids_are_used_and_checked() -> None:
    x, truth = blobs(seed=4)
    start = np.stack([x[truth == c][0] for c in range(6)])
    result = spherical_kmeans(x, 6, niter=0, backend="numpy", init=start)
    assert np.allclose(result.centroids, start / np.linalg.norm(start, axis=1, keepdims=True), atol=1e-6)
    assert same_partition(result.assignments, truth)
    with pytest.raises(UserError, match="shape"):
        spherical_kmeans(x, 5, backend="numpy", init=start)


def test_torch_and_numpy_give_the_same_partition_on_easy_data() -> None:
    """The torch backend (bfloat16 products where the CPU has them) finds the numpy backend's clusters and
    objective when no point sits near a tie."""
    x, _ = blobs(seed=4)
    a = spherical_kmeans(x, 6, niter=20, seed=5, backend="numpy")
    b = spherical_kmeans(x, 6, niter=20, seed=5, backend="torch")
    assert b.backend == "torch" and same_partition(a.assignments, b.assignments)
    assert b.objective == pytest.approx(a.objective, abs=1e-3)


def test_torch_backend_reseeds_an_emptied_cluster_as_numpy_does(monkeypatch: pytest.MonkeyPatch) -> None:
    import edtune.methods.progress.kmeans_torch as kmeans_torch

    x = np.array([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0], [0.14, 0.99]], dtype=np.float32)
    start = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]], dtype=np.float32)  # the third one wins no point
    monkeypatch.setattr(kmeans_torch, "device_and_dtype", lambda: ("cpu", __import__("torch").float32))
    a = spherical_kmeans(x, 3, niter=3, backend="numpy", init=start)
    b = spherical_kmeans(x, 3, niter=3, backend="torch", init=start)
    assert np.array_equal(a.assignments, b.assignments) and len(set(b.assignments.tolist())) == 3
    np.testing.assert_allclose(a.centroids, b.centroids, atol=1e-6)
