"""Integer quotas from real weights: they sum exactly to what can be given, and never exceed a capacity.

Shared by warm-up (weights = softmax of COINCIDE scores), rounds (softmax of relative improvements) and the
skill-progress selector. Keys are visited in sorted order so the result never depends on dict order.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np


def softmax(values: Mapping[str, float], temperature: float) -> dict[str, float]:
    """softmax(value / temperature) per key; the maximum is subtracted first so large values cannot overflow."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if not values:
        return {}
    keys = sorted(values)
    logits = np.array([values[k] for k in keys], dtype=np.float64) / temperature
    weights = np.exp(logits - logits.max())
    weights /= weights.sum()
    return {k: float(w) for k, w in zip(keys, weights, strict=True)}


def allocate(weights: Mapping[str, float], total: int, capacity: Mapping[str, int]) -> dict[str, int]:
    """Split `total` into integers proportional to `weights`, each at most its `capacity`.

    Contract: the quotas sum to min(total, sum of capacities of keys with positive weight); a key whose
    proportional share exceeds its capacity is filled and its overflow is shared among the others by their
    weights (water-filling), repeated until no share overflows. Fractions are rounded by largest remainder,
    ties broken by key order. Keys with weight <= 0 or capacity <= 0 get 0. Keys missing from `capacity`
    are an error (a caller bug, not bad data).
    """
    if total < 0:
        raise ValueError(f"total must be >= 0, got {total}")
    quotas = {k: 0 for k in sorted(weights)}
    active = {k for k in quotas if weights[k] > 0 and capacity[k] > 0}
    left = total
    while active and left > 0:
        mass = sum(weights[k] for k in active)
        share = {k: left * weights[k] / mass for k in sorted(active)}
        full = [k for k in share if share[k] >= capacity[k]]
        if not full:
            return _round_shares(quotas, share, left)
        for k in full:
            quotas[k] = capacity[k]
            left -= capacity[k]
            active.discard(k)
    return quotas


def _round_shares(quotas: dict[str, int], share: dict[str, float], left: int) -> dict[str, int]:
    """Floor every share, then hand the `left - sum(floors)` remaining units to the largest remainders."""
    floors = {k: math.floor(v) for k, v in share.items()}
    spare = left - sum(floors.values())
    by_remainder = sorted(share, key=lambda k: (-(share[k] - floors[k]), k))
    for k in by_remainder[:spare]:
        floors[k] += 1
    for k, v in floors.items():
        quotas[k] += v
    return quotas
