"""Per-group scores for a round: which already-annotated samples to evaluate, and how to aggregate.

PROGRESS measures the student on up to M samples per cluster taken from those already selected (so no new
label is read to evaluate). Accuracy is correct / (correct + incorrect): `unscored` judgments (the judge
could not decide) are left out of both counts, and a group with no scored sample gets no score at all (it
is absent, so it cannot be prioritised by a guess). The loss variant averages per-sample losses.

Which annotated samples (`ProgressSettings.eval_samples`):
- "trained" (the paper): any already-selected samples, which the students being compared were trained on.
  Right when training makes about one pass over the data, as the paper's does.
- "held_out": a fixed evaluation set per group, chosen as samples are annotated (`hold_out`), that no
  intermediate student trains on. When every training call makes many passes (the bundled benchmark's
  step floor), a student answers most of its own training samples right whether or not it learned the
  skill, so accuracy on them mostly says which groups were trained last; held-out samples measure what
  was learned, at the price of small, noisy evaluation sets while a group has few annotations.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from edtune.errors import DataError
from edtune.methods.progress.selector import GroupScore
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


def hold_out(new_ids: Sequence[str], group_of: Mapping[str, str], annotated_before: Mapping[str, int],
             held_before: Mapping[str, int], per_group: int) -> list[str]:
    """Which of the newly annotated `new_ids` (in selection order) join their group's evaluation set.

    A group's 1st, 3rd, 5th ... annotated sample (counting `annotated_before` it) is held out until the group
    holds `per_group` (counting `held_before`); the others are trained on. Alternating, rather than filling
    the evaluation set first, keeps half of a group's first samples for training, so a group reached by a
    handful of samples is both learned from and measured."""
    annotated = dict(annotated_before)
    held = dict(held_before)
    out = []
    for sample_id in new_ids:
        group = _group(sample_id, group_of)
        position = annotated.get(group, 0)
        annotated[group] = position + 1
        if position % 2 == 0 and held.get(group, 0) < per_group:
            held[group] = held.get(group, 0) + 1
            out.append(sample_id)
    return out


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
