"""Baselines PROGRESS is compared with, at an equal annotation budget.

- `random_selection`: a uniform draw from the pool (seeded).
- `full_selection`: every sample (the "full data" reference of the paper's Rel. %).
- `score_selection`: one pass of a per-sample score from the student, e.g. EL2N or perplexity, then the
  `budget` samples at the chosen end ("highest", "lowest") or around the median ("middle"); ties by id.
  The scores come from a callable so that any student, or a test, can provide them.
- `el2n` and `perplexity`: those two scores from a student's token probabilities / log-probabilities.
Score baselines need scores of the whole pool, which in a real run means running the student over it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np

from edtune.errors import DataError
from edtune.progress.selector import Selection

Scorer = Callable[[Sequence[str]], Mapping[str, float]]
Order = Literal["highest", "lowest", "middle"]


def random_selection(pool_ids: Sequence[str], budget: int, rng: np.random.Generator) -> Selection:
    """`budget` ids (all, if fewer) drawn uniformly without replacement; the draw indexes the sorted
    distinct ids, so it depends on the seed and the set of ids only."""
    ids = sorted(set(pool_ids))
    count = min(max(budget, 0), len(ids))
    chosen = [ids[j] for j in sorted(rng.choice(len(ids), size=count, replace=False))] if count else []
    return Selection(round=0, ids=chosen, group_of=dict.fromkeys(chosen, "random"), quotas={"random": count})


def full_selection(pool_ids: Sequence[str]) -> Selection:
    """Every id of the pool once."""
    ids = list(dict.fromkeys(pool_ids))
    return Selection(round=0, ids=ids, group_of=dict.fromkeys(ids, "full"), quotas={"full": len(ids)})


def score_selection(pool_ids: Sequence[str], scorer: Scorer, budget: int, *, order: Order = "highest",
                    name: str = "score") -> Selection:
    """`budget` ids ranked by `scorer(pool_ids)` (which gets the sorted distinct ids), grouped under `name`.

    A pool id missing from the scores, or a non-finite score, raises DataError naming the sample.
    """
    ids = sorted(set(pool_ids))
    scores = scorer(ids)
    for sample_id in ids:
        value = scores.get(sample_id)
        if value is None or not np.isfinite(value):
            raise DataError(f"{name} score {value!r} for sample '{sample_id}' is missing or not finite",
                            field=name)
    ranked = sorted(ids, key=lambda i: (-scores[i], i))
    count = min(max(budget, 0), len(ranked))
    if order == "lowest":
        ranked = ranked[::-1]
    elif order == "middle":
        start = (len(ranked) - count) // 2
        ranked = ranked[start:]
    chosen = ranked[:count]
    return Selection(round=0, ids=chosen, group_of=dict.fromkeys(chosen, name), quotas={name: count})


def el2n(probs: np.ndarray, targets: np.ndarray) -> float:
    """EL2N of one sample: mean over answer tokens of |softmax output - one-hot target|_2.

    `probs` is (tokens x vocabulary), rows summing to 1; `targets` the (tokens,) gold token ids.
    """
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(targets)), targets] = 1.0
    return float(np.linalg.norm(probs - onehot, axis=1).mean())


def perplexity(token_logprobs: Sequence[float]) -> float:
    """exp(-mean log-probability) of the gold answer tokens; a sample without tokens is an error."""
    if len(token_logprobs) == 0:
        raise DataError("perplexity needs at least one token log-probability", field="logprobs")
    return float(np.exp(-np.mean(token_logprobs)))
