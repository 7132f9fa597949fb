"""Records a PROGRESS run writes per iteration: cluster_accuracy.jsonl and progress_round.json.

The report reads them for per-cluster accuracy over rounds, cluster sizes and selections per round.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from edtune.records import Record


class ClusterRound(Record):
    """One tracking cluster in one iteration: what was measured on it and what it was given."""

    cluster: str
    """Tracking cluster key, "cluster-<k>" (the `skill` of its samples in selection.jsonl)."""
    size: int
    """Pool samples in the cluster."""
    annotated_before: int
    """Samples of the cluster annotated in earlier iterations."""
    metric: Literal["accuracy", "loss"]
    """What `current` and `previous` measure."""
    current: float | None = None
    """Accuracy (or mean loss) of the student after the previous iteration; None at warm-up or unscored."""
    previous: float | None = None
    """The same samples' score with the student one iteration earlier."""
    evaluated: int = 0
    """Samples scored in `current` (unscored judgments left out)."""
    improvement: float | None = None
    """Relative improvement from `previous` to `current`; None when either is missing."""
    quota: int = 0
    """Samples the cluster got by quota this iteration (warm-up: by COINCIDE quotas of its members)."""
    explored: int = 0
    """Samples of the cluster drawn as exploration (or by the uniform fallback) this iteration."""


class ProgressRound(Record):
    """progress_round.json: one PROGRESS iteration at a glance."""

    iteration: int
    """The loop iteration (1 = warm-up)."""
    kind: Literal["warmup", "round"]
    """Warm-up (COINCIDE) or a relative-improvement round."""
    size: int
    """Samples the iteration could select (warm-up share, or min(round_size, budget left))."""
    selected: int
    """Samples it selected."""
    exploration: int
    """Of those, drawn at random (exploration or the no-improvement fallback)."""
    evaluated: int
    """Annotated samples scored (each by two students) to measure improvement; 0 at warm-up."""
    annotations: int = Field(ge=0)
    """Distinct samples annotated (labels read) so far, this iteration included."""
    note: str | None = None
    """Why a fallback rule decided the round, when one did."""
