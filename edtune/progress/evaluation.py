"""Per-group scores for a round: which already-annotated samples to evaluate, and how to aggregate.

PROGRESS measures the student on up to M samples per cluster taken from those already selected (so no new
label is read to evaluate). Accuracy is correct / (correct + incorrect): `unscored` judgments (the judge
could not decide) are left out of both counts, and a group with no scored sample gets no score at all (it
is absent, so it cannot be prioritised by a guess). The loss variant averages per-sample losses.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from edtune.errors import DataError
from edtune.progress.selector import GroupScore
from edtune.records import Judgment


def members_by_group(ids: Iterable[str], group_of: Mapping[str, str]) -> dict[str, list[str]]:
    """`ids` split by group, each list sorted; an id without a group raises DataError."""
    out: dict[str, list[str]] = {}
    for sample_id in sorted(set(ids)):
        out.setdefault(_group(sample_id, group_of), []).append(sample_id)
    return out


def pick_for_evaluation(selected: Mapping[str, Sequence[str]], per_group: int,
                        rng: np.random.Generator) -> dict[str, list[str]]:
    """Up to `per_group` ids of each group, drawn uniformly without replacement (seeded); groups visited
    in sorted order and ids sorted first, so the draw depends only on the seed and the sets."""
    picked = {}
    for group in sorted(selected):
        ids = sorted(set(selected[group]))
        if len(ids) > per_group:
            ids = [ids[j] for j in sorted(rng.choice(len(ids), size=per_group, replace=False))]
        if ids:
            picked[group] = ids
    return picked


def accuracy_by_group(judgments: Iterable[Judgment], group_of: Mapping[str, str]) -> dict[str, GroupScore]:
    """Accuracy per group from judgments; unscored ones left out; groups with nothing scored absent."""
    correct: dict[str, int] = {}
    scored: dict[str, int] = {}
    for judgment in judgments:
        if judgment.outcome == "unscored":
            continue
        group = _group(judgment.sample_id, group_of)
        scored[group] = scored.get(group, 0) + 1
        correct[group] = correct.get(group, 0) + (judgment.outcome == "correct")
    return {g: GroupScore(value=correct[g] / scored[g], n=scored[g], metric="accuracy") for g in sorted(scored)}


def loss_by_group(losses: Mapping[str, float], group_of: Mapping[str, str]) -> dict[str, GroupScore]:
    """Mean per-sample loss per group; a negative or non-finite loss raises DataError naming the sample."""
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    for sample_id in sorted(losses):
        loss = float(losses[sample_id])
        if not math.isfinite(loss) or loss < 0:
            raise DataError(f"loss {loss!r} of sample '{sample_id}' is not a finite value >= 0", field="loss")
        group = _group(sample_id, group_of)
        totals[group] = totals.get(group, 0.0) + loss
        counts[group] = counts.get(group, 0) + 1
    return {g: GroupScore(value=totals[g] / counts[g], n=counts[g], metric="loss") for g in sorted(counts)}


def _group(sample_id: str, group_of: Mapping[str, str]) -> str:
    try:
        return group_of[sample_id]
    except KeyError:
        raise DataError(f"sample '{sample_id}' belongs to no group", field="sample_id") from None
