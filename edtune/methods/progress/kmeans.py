"""Spherical k-means: unit-norm centroids, points assigned by the highest cosine.

Three backends behind one function, `spherical_kmeans(x, k, ...)`:
- "faiss" (the `faiss` extra): `faiss.Kmeans(..., spherical=True)`, as in the PROGRESS authors' code;
- "numpy": Lloyd's algorithm on BLAS matrix products, assignment in row chunks so memory stays
  O(chunk x k) rather than O(n x k), centroid sums as one sparse one-hot product (scipy);
- "torch": the same iterations with the assignment product on torch, in bfloat16 on a GPU or a CPU with
  bfloat16 matrix units (`edtune.methods.progress.kmeans_torch`; speeds of all three in
  benchmarks/README.md, bench_kmeans).
"auto" takes faiss when it imports and numpy otherwise (never torch: its bfloat16 ties can move points, so
choosing it silently would change a run's clusters between machines).

Initialisation is computed here and handed to either backend, so both start from the same centroids:
- "kmeans++" (default): greedy D^2 seeding (squared distance between unit vectors, 2 - 2 cos; each step
  draws 2 + ln k candidates and keeps the one that lowers the total distance most, as scikit-learn does)
  on a seeded subsample of at most 8 points per centroid, which keeps its k sequential steps cheap at
  500K rows;
- "random": k distinct rows drawn with the seed (faiss's own rule).
An emptied cluster (numpy backend) is re-seeded with the point that fits its centroid worst, which keeps k
clusters and is deterministic; faiss splits a large cluster instead. On well-separated data both backends
find the same partition up to relabelling; the same seed gives the same result on the same machine.

`objective` is the mean cosine of each point to its assigned centroid (higher is better).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from edtune.errors import MissingDependency, UserError

Backend = Literal["auto", "faiss", "numpy", "torch"]
Init = Literal["kmeans++", "random"]
_CHUNK = 32768
_PLUSPLUS_POINTS_PER_CENTROID = 8


@dataclass(frozen=True)
class KMeansResult:
    """Centroids (k x d, unit rows), assignments (n,) in [0, k), mean cosine to the own centroid, backend."""

    centroids: np.ndarray
    assignments: np.ndarray
    objective: float
    backend: str


def spherical_kmeans(x: np.ndarray, k: int, *, niter: int = 50, seed: int = 1234, backend: Backend = "auto",
                     init: Init | np.ndarray = "kmeans++") -> KMeansResult:
    """Cluster the rows of `x` (n x d; normalised here to unit length) into `k` clusters.

    `init` names a rule of the module docstring, or gives the k x d starting centroids (a warm start, or the
    same start for several backends). Every point takes part in training (faiss is told not to subsample).
    Raises UserError when k is not in [1, n], `x` is not 2-D, holds a non-finite value or an all-zero row,
    or given centroids have the wrong shape; MissingDependency when backend="faiss" and faiss is missing.
    """
    data = unit_rows(x)
    if not 1 <= k <= data.shape[0]:
        raise UserError(f"k-means needs 1 <= k <= number of rows ({data.shape[0]}), got k={k}")
    chosen = _pick_backend(backend)
    if isinstance(init, np.ndarray):
        if init.shape != (k, data.shape[1]):
            raise UserError(f"starting centroids must have shape {(k, data.shape[1])}, got {init.shape}")
        start = unit_rows(init)
    else:
        start = initial_centroids(data, k, init, np.random.default_rng(seed))
    lloyd = _lloyd(chosen, data, start, niter, seed)
    assignments, best = assign(data, lloyd)
    return KMeansResult(lloyd, assignments, float(best.mean()), chosen)


def assign(x: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the most similar centroid for each unit row, and that cosine; computed in row chunks."""
    labels = np.empty(x.shape[0], dtype=np.int64)
    best = np.empty(x.shape[0], dtype=np.float32)
    for start in range(0, x.shape[0], _CHUNK):
        sims = x[start:start + _CHUNK] @ centroids.T
        top = sims.argmax(axis=1)
        labels[start:start + _CHUNK] = top
        best[start:start + _CHUNK] = sims[np.arange(sims.shape[0]), top]
    return labels, best


def initial_centroids(data: np.ndarray, k: int, init: Init, rng: np.random.Generator) -> np.ndarray:
    """Starting centroids (k x d) from unit rows `data`, by the rule in the module docstring."""
    if init == "random":
        return data[np.sort(rng.choice(data.shape[0], size=k, replace=False))].copy()
    pool_size = min(data.shape[0], max(k, _PLUSPLUS_POINTS_PER_CENTROID * k))
    pool = data[np.sort(rng.choice(data.shape[0], size=pool_size, replace=False))]
    trials = 2 + int(np.log(k))
    chosen = [int(rng.integers(pool_size))]
    nearest = _sq_dist(pool, pool[chosen])[:, 0]
    for _ in range(1, k):
        total = float(nearest.sum())
        if total <= 0:
            # Only duplicates of chosen rows remain: any unchosen row is as good as another.
            pick = _first_unchosen(chosen, pool_size)
            chosen.append(pick)
            continue
        candidates = rng.choice(pool_size, size=trials, p=nearest / total)
        after = np.minimum(nearest[:, None], _sq_dist(pool, pool[candidates]))
        best = int(np.argmin(after.sum(axis=0)))
        chosen.append(int(candidates[best]))
        nearest = after[:, best]
    return pool[chosen].copy()


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared Euclidean distance between unit rows, 2 - 2 cos, floored at 0 against rounding."""
    return np.maximum(2.0 - 2.0 * (a @ b.T), 0.0).astype(np.float64)


def unit_rows(x: np.ndarray) -> np.ndarray:
    """`x` as float32 rows of length 1; UserError for a non-2-D array, NaN/inf, or an all-zero row.
    Rows already of unit length come back without a copy (features are often 3 GB at 500K x 1536)."""
    data = np.ascontiguousarray(x, dtype=np.float32)
    if data.ndim != 2:
        raise UserError(f"features must be a 2-D array, got shape {data.shape}")
    if not np.isfinite(data).all():
        raise UserError("features hold NaN or infinite values")
    norms = np.linalg.norm(data, axis=1, keepdims=True)
    zero = np.flatnonzero(norms[:, 0] == 0)
    if zero.size:
        raise UserError(f"features row {int(zero[0])} is all zeros; it has no direction to cluster by")
    if np.allclose(norms, 1.0, rtol=0.0, atol=1e-5):
        return data
    return data / norms


def faiss_available() -> bool:
    """Whether the faiss backend can be used."""
    try:
        import faiss  # noqa: F401
    except ImportError:
        return False
    return True


def _first_unchosen(chosen: list[int], size: int) -> int:
    taken = set(chosen)
    return next(i for i in range(size) if i not in taken)


def _lloyd(backend: str, data: np.ndarray, start: np.ndarray, niter: int, seed: int) -> np.ndarray:
    if backend == "faiss":
        return _faiss_lloyd(data, start, niter, seed)
    if backend == "torch":
        from edtune.methods.progress.kmeans_torch import torch_lloyd

        return torch_lloyd(data, start, niter)
    return _numpy_lloyd(data, start, niter)


def _pick_backend(backend: Backend) -> str:
    if backend in ("numpy", "torch"):
        return backend
    if faiss_available():
        return "faiss"
    if backend == "faiss":
        raise MissingDependency("faiss-cpu", extra="faiss", purpose="the faiss k-means backend")
    return "numpy"


def _faiss_lloyd(data: np.ndarray, start: np.ndarray, niter: int, seed: int) -> np.ndarray:
    import faiss

    n, d = data.shape
    k = start.shape[0]
    km = faiss.Kmeans(d, k, niter=niter, seed=seed, spherical=True, verbose=False,
                      max_points_per_centroid=-(-n // k), min_points_per_centroid=1)
    km.train(data, init_centroids=start)
    return np.asarray(km.centroids, dtype=np.float32).reshape(k, d)


def _numpy_lloyd(data: np.ndarray, start: np.ndarray, niter: int) -> np.ndarray:
    centroids = start
    for _ in range(niter):
        labels, best = assign(data, centroids)
        sums = _sum_by_label(labels, data, centroids.shape[0])
        reseed_empty(sums, np.bincount(labels, minlength=centroids.shape[0]), data, best)
        centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return centroids.astype(np.float32)


def _sum_by_label(labels: np.ndarray, data: np.ndarray, k: int) -> np.ndarray:
    """Row sums per label (k x d) as a sparse one-hot (k x n) times the data: one pass, no gathered copy."""
    from scipy.sparse import csr_matrix

    onehot = csr_matrix((np.ones(labels.size, dtype=data.dtype), (labels, np.arange(labels.size))),
                        shape=(k, labels.size))
    return np.asarray(onehot @ data, dtype=data.dtype)


def reseed_empty(sums: np.ndarray, counts: np.ndarray, data: np.ndarray, best: np.ndarray) -> None:
    """Give each cluster with no row (`counts` 0) the row that fits its own centroid worst (lowest `best`),
    in that order: k clusters are kept, deterministically."""
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        sums[empty] = data[np.argsort(best, kind="stable")[:empty.size]]
