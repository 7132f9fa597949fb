"""Benchmark: edtune's spherical k-means (faiss, numpy and torch backends) against scikit-learn's KMeans.

    .venv/bin/python benchmarks/bench_kmeans.py                          # 500K x 1536, K=1000, 20 iterations
    .venv/bin/python benchmarks/bench_kmeans.py --n 20000 --k 100        # quick run

Data: n seeded float32 rows around 2K random directions (cosine to the own direction ~0.6, about what
DINOv2 + MiniLM features give), unit length. Every implementation starts from the same centroids (edtune's
k-means++ seeding, timed once on its own) so that time and objective compare like with like.
- edtune faiss / numpy / torch: `spherical_kmeans(..., niter=N)`, N Lloyd iterations and a final float32
  assignment (torch: the iterations' products in bfloat16 where the machine has a fast path for it).
- scikit-learn KMeans (Euclidean Lloyd on the unit rows, algorithm="lloyd", tol=0, copy_x=False to avoid a
  3 GB copy) runs only `--sklearn-iter` iterations because it needs minutes per few iterations at full
  size; its per-iteration time is what compares. edtune numpy and torch are also run for that many
  iterations so the objectives can be compared at equal iterations.
Objective: mean cosine of each row to its (normalised) centroid, higher is better. Load average and the
thread count are printed with the table: the machine is shared, so ratios matter more than seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edtune.methods.progress.kmeans import assign, faiss_available, initial_centroids, spherical_kmeans


@dataclass
class Row:
    name: str
    iterations: int
    seconds: float
    objective: float

    @property
    def per_iteration(self) -> float:
        return self.seconds / max(self.iterations, 1)


def make_data(n: int, dim: int, directions: int, seed: int) -> np.ndarray:
    """Unit rows around `directions` random unit directions, built in chunks to stay at one float32 copy."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((directions, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 50_000):
        stop = min(n, start + 50_000)
        owner = rng.integers(directions, size=stop - start)
        noise = rng.standard_normal((stop - start, dim), dtype=np.float32) * np.float32(1.3 / np.sqrt(dim))
        block = centres[owner] + noise
        x[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return x


def run_edtune(x: np.ndarray, start: np.ndarray, niter: int, backend: str) -> Row:
    t0 = time.perf_counter()
    result = spherical_kmeans(x, start.shape[0], niter=niter, backend=backend, init=start)  # type: ignore[arg-type]
    return Row(f"edtune {backend}", niter, time.perf_counter() - t0, result.objective)


def run_sklearn(x: np.ndarray, start: np.ndarray, niter: int) -> Row:
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=start.shape[0], init=start, n_init=1, max_iter=niter, tol=0.0, algorithm="lloyd",
                copy_x=False, random_state=0)
    t0 = time.perf_counter()
    km.fit(x)
    seconds = time.perf_counter() - t0
    centroids = km.cluster_centers_.astype(np.float32)
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    _, best = assign(x, centroids)
    return Row("scikit-learn KMeans", int(km.n_iter_), seconds, float(best.mean()))


def print_table(rows: list[Row], reference: Row) -> None:
    print(f"{'implementation':<22}{'iters':>6}{'total s':>10}{'s/iter':>9}{'vs sklearn/iter':>17}{'mean cos':>10}")
    for row in rows:
        ratio = reference.per_iteration / row.per_iteration
        print(f"{row.name:<22}{row.iterations:>6}{row.seconds:>10.1f}{row.per_iteration:>9.2f}"
              f"{ratio:>16.2f}x{row.objective:>10.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=500_000)
    parser.add_argument("--dim", type=int, default=1536)
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--niter", type=int, default=20, help="Lloyd iterations of the edtune backends")
    parser.add_argument("--sklearn-iter", type=int, default=3, help="iterations given to scikit-learn")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    print(f"n={args.n} dim={args.dim} k={args.k} niter={args.niter} sklearn_iter={args.sklearn_iter} "
          f"cpus={os.cpu_count()} load_before={os.getloadavg()}", flush=True)
    x = make_data(args.n, args.dim, 2 * args.k, args.seed)
    t0 = time.perf_counter()
    start = initial_centroids(x, args.k, "kmeans++", np.random.default_rng(args.seed))
    print(f"shared k-means++ seeding: {time.perf_counter() - t0:.1f} s (not in the times below)", flush=True)
    rows = []
    backends = (["faiss"] if faiss_available() else []) + ["numpy", "torch"]
    for backend in backends:
        rows.append(run_edtune(x, start, args.niter, backend))
        print(rows[-1], flush=True)
    if args.sklearn_iter != args.niter:
        for backend in ("numpy", "torch"):
            rows.append(run_edtune(x, start, args.sklearn_iter, backend))
            print(rows[-1], flush=True)
    reference = run_sklearn(x, start, args.sklearn_iter)
    rows.append(reference)
    print(f"load_after={os.getloadavg()}")
    print_table(rows, reference)


if __name__ == "__main__":
    main()
