"""The "torch" backend of `spherical_kmeans`: Lloyd's algorithm with the assignment GEMM on torch.

The similarity of every row to every centroid is the whole cost of an iteration (2 x n x k x d FLOP). On a
GPU, or on a CPU with bfloat16 matrix units (AMX, AVX512-BF16), that product in bfloat16 runs at a multiple
of the float32 rate, so it is done in bfloat16 there and in float32 elsewhere. Only which centroid is
nearest is taken from it; centroid sums accumulate the float32 rows, and the final assignment and
objective (`edtune.methods.progress.kmeans.assign`) are float32. A bfloat16 similarity carries about 3 significant
digits, so a point almost equidistant from two centroids may join the other one during the iterations: the
partition can differ from the numpy backend's at such ties, with the same objective to about 3 digits
(benchmarks/README.md, bench_kmeans.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

_CHUNK = 32768


def device_and_dtype() -> tuple[str, Any]:
    """Where the product runs and in which precision: CUDA in bfloat16 when torch sees a GPU, the CPU in
    bfloat16 when oneDNN has a bfloat16 path on it, else the CPU in float32."""
    import torch

    if torch.cuda.is_available():
        return "cuda", torch.bfloat16
    fast_bf16 = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())  # oneDNN: AMX or AVX512-BF16 present
    return "cpu", torch.bfloat16 if fast_bf16 else torch.float32


def torch_lloyd(data: np.ndarray, start: np.ndarray, niter: int) -> np.ndarray:
    """`niter` Lloyd iterations from `start` on unit rows `data`; unit centroids (k x d, float32). An emptied
    cluster is re-seeded as the numpy backend does it (the rows that fit their centroid worst)."""
    import torch

    from edtune.methods.progress.kmeans import reseed_empty

    device, dtype = device_and_dtype()
    rows = torch.from_numpy(data)
    centroids = torch.from_numpy(np.ascontiguousarray(start, dtype=np.float32)).to(device)
    k = centroids.shape[0]
    for _ in range(niter):
        sums = torch.zeros_like(centroids)
        labels = torch.empty(rows.shape[0], dtype=torch.int64, device=device)
        best = torch.empty(rows.shape[0], dtype=torch.float32, device=device)
        low = centroids.to(dtype).T
        for first in range(0, rows.shape[0], _CHUNK):
            chunk = rows[first:first + _CHUNK].to(device)
            top, label = (chunk.to(dtype) @ low).max(dim=1)
            labels[first:first + _CHUNK], best[first:first + _CHUNK] = label, top.float()
            sums.index_add_(0, label, chunk)
        counts = torch.bincount(labels, minlength=k).cpu().numpy()
        host = sums.cpu().numpy()
        reseed_empty(host, counts, data, best.cpu().numpy())
        centroids = torch.from_numpy(host / np.maximum(np.linalg.norm(host, axis=1, keepdims=True), 1e-12))
        centroids = centroids.to(device)
    return np.asarray(centroids.cpu().numpy(), dtype=np.float32)
