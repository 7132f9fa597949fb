"""Simulated teacher errors: which requests get a wrong answer, and what a plausible wrong answer is.

Every request gets its own `random.Random`, seeded by the server seed and the sha256 of the request's
content (messages, schema, logprob settings). Its first draw decides whether the request errs
(probability `error_rate`); later draws pick the wrong answer and skill paraphrases. So the same request
always gets the same answer, whatever the order or concurrency of the run, and two runs with the same
seed see the same errors.

Wrong answers, per task (the request then counts as a simulated error):

- first wrong step: another step of 1..n, uniformly (no error possible when n = 1);
- per-step check, LLM judge: the verdict flipped;
- answer-switch: the prefix's distribution flipped: switched before the first wrong step is shown, or
  still on the gold option after it. With the locator's run length lam = 2 a single flipped prefix
  moves the located step only when it lands at or next to the true switch (or next to another flip);
- missing skills: another skill of the catalogue in first place;
- required skills: one of the sample's skills replaced by a skill it does not need.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Draw:
    """The random state of one request: whether it errs, and the generator for its other choices."""

    errs: bool
    rng: random.Random


def draw_for(content_key: str, seed: int, error_rate: float) -> Draw:
    """The reproducible random state of the request whose content hash is `content_key`."""
    rng = random.Random(f"edtune-reference/{seed}/{content_key}")
    return Draw(errs=rng.random() < error_rate, rng=rng)


def other_step(truth: int, n_steps: int, rng: random.Random) -> int | None:
    """A step of 1..n_steps other than `truth`, or None when there is none."""
    others = [k for k in range(1, n_steps + 1) if k != truth]
    return rng.choice(others) if others else None


def other_skill(catalogue: Sequence[str], exclude: Sequence[str], rng: random.Random) -> str | None:
    """A skill of the catalogue not in `exclude`, or None when every skill is excluded."""
    others = [name for name in catalogue if name not in exclude]
    return rng.choice(others) if others else None
