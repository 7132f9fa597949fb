"""Seeded generators derived from (run seed, iteration, stage).

Each random choice of a run draws from its own generator, so a stage gives the same draws whether the
run went straight through or was resumed after a crash (a shared generator would depend on how many
draws earlier stages made in this process).
"""

from __future__ import annotations

import hashlib
import random


def derive_seed(seed: int, iteration: int, stage: str) -> int:
    """A 63-bit seed unique to (seed, iteration, stage), stable across processes and Python versions."""
    digest = hashlib.sha256(f"{seed}:{iteration}:{stage}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def stage_rng(seed: int, iteration: int, stage: str) -> random.Random:
    """A `random.Random` seeded by `derive_seed`."""
    return random.Random(derive_seed(seed, iteration, stage))
