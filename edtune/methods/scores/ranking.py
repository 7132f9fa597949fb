"""The ranking rule of the score baselines: the `budget` pool samples at one end of a per-sample score.

`score_selection` takes one pass of a score from the student (EL2N or perplexity, `edtune.student.scores`)
and keeps the `budget` samples at the chosen end ("highest", "lowest") or around the median ("middle");
ties are broken by id. The scores come from a callable, so any student, or a test, can provide them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np

from edtune.errors import DataError
from edtune.methods.progress.selector import Selection

Scorer = Callable[[Sequence[str]], Mapping[str, float]]
Order = Literal["highest", "lowest", "middle"]


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
