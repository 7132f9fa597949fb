"""Warm-up set: COINCIDE-style cluster scores, softmax quotas, prototypes inside each cluster.

Definitions (COINCIDE, arXiv 2406.10995, as the PROGRESS authors ran it), over unit-length features and
centroids of the fine warm-up clustering (`k_warmup`):
- transferability(i) = mean cosine of centroid i to the other centroids, leaving out every similarity
  above `transfer_max_similarity` (0.9; the self-similarity 1 always goes). A centroid with no similarity
  left gets 0.
- density(i) = mean Gaussian kernel exp(-|x - y|^2 / (2 sigma^2)) = exp((cos(x, y) - 1) / sigma^2) over
  all ordered pairs of members (self-pairs included, as COINCIDE); at most `density_max_members` seeded
  members are used. It is in (0, 1]: 1 means all members coincide (redundant, so sampled less).
- score(i) = transferability(i) / density(i); empty clusters have no score and get nothing.
- quotas: softmax(score / `warmup_temperature`) over non-empty clusters, integer, summing exactly to the
  warm-up budget (or the pool, if smaller), capped by cluster sizes with the overflow shared
  (`quotas.allocate`; COINCIDE instead re-normalises cluster by cluster in score order).
- prototypes: "mmd" (COINCIDE) greedily adds the member that makes the chosen set's kernel mean embedding
  closest (MMD) to the cluster's (estimated on at most `density_max_members` seeded members); "nearest"
  takes the members most similar to the centroid. Ties go to the lower index.
Features are normalised to unit rows here, so the kernel identity above holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from edtune.errors import UserError
from edtune.methods.progress.kmeans import KMeansResult, unit_rows
from edtune.methods.progress.quotas import allocate, softmax
from edtune.methods.progress.selector import Selection
from edtune.methods.progress.settings import ProgressSettings


@dataclass(frozen=True)
class ClusterScores:
    """Per-cluster arrays of length k; NaN density and score for an empty cluster."""

    transferability: np.ndarray
    density: np.ndarray
    score: np.ndarray


def transferability(centroids: np.ndarray, max_similarity: float = 0.9) -> np.ndarray:
    """Mean cosine of each unit centroid to the others, similarities above `max_similarity` left out."""
    sims = centroids @ centroids.T
    keep = sims <= max_similarity
    np.fill_diagonal(keep, False)
    counts = keep.sum(axis=1)
    totals = np.where(keep, sims, 0.0).sum(axis=1)
    return np.divide(totals, counts, out=np.zeros(len(centroids)), where=counts > 0)


def density(features: np.ndarray, assignments: np.ndarray, k: int, *, bandwidth: float = 1.0,
            max_members: int = 1024, rng: np.random.Generator) -> np.ndarray:
    """Mean pairwise Gaussian kernel within each cluster (module docstring); NaN for an empty cluster."""
    out = np.full(k, np.nan)
    for cluster, members in enumerate(members_by_cluster(assignments, k)):
        if members.size > max_members:
            members = np.sort(rng.choice(members, size=max_members, replace=False))
        if members.size:
            out[cluster] = float(_kernel(features[members], features[members], bandwidth).mean())
    return out


def members_by_cluster(assignments: np.ndarray, k: int) -> list[np.ndarray]:
    """Row indices of each cluster 0..k-1, ascending; one sort instead of k scans of the assignments."""
    order = np.argsort(assignments, kind="stable")
    bounds = np.searchsorted(assignments[order], np.arange(k + 1))
    return [order[bounds[c]:bounds[c + 1]] for c in range(k)]


def cluster_scores(features: np.ndarray, clustering: KMeansResult, config: ProgressSettings,
                   rng: np.random.Generator) -> ClusterScores:
    """Transferability, density and their ratio for every cluster of `clustering`."""
    features = unit_rows(features)
    k = clustering.centroids.shape[0]
    trans = transferability(clustering.centroids, config.transfer_max_similarity)
    dens = density(features, clustering.assignments, k, bandwidth=config.density_bandwidth,
                   max_members=config.density_max_members, rng=rng)
    return ClusterScores(trans, dens, trans / dens)


def warmup_quotas(scores: np.ndarray, sizes: np.ndarray, budget: int, temperature: float) -> dict[str, int]:
    """Samples per cluster (keys are cluster indices as strings): softmax(score / temperature) over
    clusters with members, summing exactly to min(budget, total size)."""
    present = [c for c in range(len(scores)) if sizes[c] > 0 and np.isfinite(scores[c])]
    weights = softmax({str(c): float(scores[c]) for c in present}, temperature)
    return allocate(weights, budget, {str(c): int(sizes[c]) for c in present})


def prototypes(members: np.ndarray, count: int, *, rule: Literal["mmd", "nearest"] = "mmd",
               centroid: np.ndarray | None = None, bandwidth: float = 1.0, max_reference: int = 1024,
               rng: np.random.Generator | None = None) -> np.ndarray:
    """Row indices of `count` prototypes among unit rows `members`, in the order chosen. For "mmd", a
    cluster larger than `max_reference` is summarised by that many members drawn with `rng`."""
    count = min(count, members.shape[0])
    if rule == "nearest":
        if centroid is None:
            raise UserError("the 'nearest' prototype rule needs the cluster centroid")
        return np.argsort(-(members @ centroid), kind="stable")[:count]
    reference = members
    if members.shape[0] > max_reference:
        if rng is None:
            raise UserError(f"a cluster of {members.shape[0]} > {max_reference} members needs an rng for MMD")
        reference = members[np.sort(rng.choice(members.shape[0], size=max_reference, replace=False))]
    return _greedy_mmd(members, reference, count, bandwidth)


def warmup_selection(ids: Sequence[str], features: np.ndarray, clustering: KMeansResult, budget: int,
                     config: ProgressSettings, rng: np.random.Generator) -> Selection:
    """Round 0: `budget` ids (or all, if fewer) spread over warm-up clusters by score, prototypes first.
    `ids[i]` is the sample of feature row i; groups in the result are warm-up cluster indices."""
    if len(ids) != features.shape[0] or len(ids) != clustering.assignments.shape[0]:
        raise UserError(f"{len(ids)} ids, {features.shape[0]} feature rows and "
                        f"{clustering.assignments.shape[0]} assignments must match")
    features = unit_rows(features)
    scores = cluster_scores(features, clustering, config, rng)
    sizes = np.bincount(clustering.assignments, minlength=clustering.centroids.shape[0])
    quotas = warmup_quotas(scores.score, sizes, budget, config.warmup_temperature)
    chosen, group_of = [], {}
    by_cluster = members_by_cluster(clustering.assignments, clustering.centroids.shape[0])
    for key, quota in quotas.items():
        members = by_cluster[int(key)]
        picks = prototypes(features[members], quota, rule=config.prototype_rule,
                           centroid=clustering.centroids[int(key)], bandwidth=config.density_bandwidth,
                           max_reference=config.density_max_members, rng=rng)
        for row in members[picks]:
            chosen.append(ids[row])
            group_of[ids[row]] = key
    weights = {key: float(scores.score[int(key)]) for key, q in quotas.items() if q > 0}
    return Selection(round=0, ids=chosen, group_of=group_of, quotas={k: q for k, q in quotas.items() if q > 0},
                     weights=weights)


def _kernel(a: np.ndarray, b: np.ndarray, bandwidth: float) -> np.ndarray:
    """Gaussian kernel between unit rows: |x - y|^2 = 2 - 2 cos."""
    return np.exp((np.clip(a @ b.T, -1.0, 1.0) - 1.0) / bandwidth**2)


def _greedy_mmd(members: np.ndarray, reference: np.ndarray, count: int, bandwidth: float) -> np.ndarray:
    """Greedy MMD prototypes, O(n d) per step: each candidate keeps its kernel sum with the chosen set, and
    the cluster's kernel mean embedding is taken over `reference` rows so memory stays O(n x reference)."""
    to_all = _kernel(members, reference, bandwidth).mean(axis=1)
    cross = np.zeros(members.shape[0])
    chosen: list[int] = []
    within = 0.0
    toward = 0.0
    for size in range(1, count + 1):
        # The self-kernel of a unit row is 1: it is the "+ 1" of the chosen set's sum over pairs.
        gap = (within + 2 * cross + 1.0) / size**2 - 2 * (toward + to_all) / size
        gap[chosen] = np.inf
        best = int(np.argmin(gap))
        within += 2 * cross[best] + 1.0
        toward += to_all[best]
        cross += _kernel(members, members[best:best + 1], bandwidth)[:, 0]
        chosen.append(best)
    return np.asarray(chosen, dtype=np.int64)
