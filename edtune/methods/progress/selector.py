"""The `Selector` protocol: what any round-based data selector gives the training loop, and what it gets.

A round of an adaptive loop is: evaluate the student per group of samples, then choose the next samples to
annotate and train on. "Group" is deliberately generic: a k-means cluster for PROGRESS, a skill named by
the teacher for the skill-progress selector, a retrieval query for the error-driven loop. So the protocol
is a single call:

    selector.next_round(state: RoundState, rng: numpy.random.Generator) -> Selection

- `RoundState` carries the round number, how many annotations the budget still allows, the ids already
  annotated (never chosen again), and this and the previous evaluation per group (`GroupScore`).
- `Selection` lists the chosen ids in order (at most `budget_left`), the group of each, the quota each group
  got, which ids were exploration, the weight behind each quota, and a note when a fallback rule fired.
- Selectors see ids and groups only, never labels (`edtune.methods.progress.features.PoolItem`); every random choice is
  drawn from the `rng` passed in, so one seed gives one run. An empty `ids` list means nothing is left to
  choose (budget spent or pool exhausted): the loop stops.
"""

from __future__ import annotations

from typing import Literal, Protocol

import numpy as np
from pydantic import Field

from edtune.records import Record

Metric = Literal["accuracy", "loss"]


class GroupScore(Record):
    """The student's measured performance on one group of samples in one evaluation."""

    value: float
    """Accuracy in [0, 1] (correct / scored) or mean per-sample loss (>= 0), as `metric` says."""
    n: int = Field(ge=1)
    """How many samples were scored: unscored judgments are left out, so a group with none has no score."""
    metric: Metric = "accuracy"
    """Which quantity `value` is."""


class RoundState(Record):
    """Everything a selector may know when it chooses the next round."""

    round: int = Field(ge=0)
    """Number of the round being chosen (warm-up is round 0)."""
    budget_left: int = Field(ge=0)
    """Annotations the budget still allows; a selection never exceeds it."""
    selected: list[str] = Field(default_factory=list)
    """Ids already annotated in earlier rounds; never chosen again."""
    scores: dict[str, GroupScore] = Field(default_factory=dict)
    """This evaluation, per group; groups with no scored sample are absent."""
    previous: dict[str, GroupScore] = Field(default_factory=dict)
    """The evaluation before it, per group; empty before the first comparison is possible."""


class Selection(Record):
    """The ids chosen for one round and why."""

    round: int = Field(ge=0)
    """The round these ids are for (0 = warm-up)."""
    ids: list[str] = Field(default_factory=list)
    """Chosen ids, no repeats, quota picks first then exploration."""
    group_of: dict[str, str] = Field(default_factory=dict)
    """Group (cluster or skill) of every chosen id, exploration ids included."""
    quotas: dict[str, int] = Field(default_factory=dict)
    """Ids given to each prioritised group (exploration not included); groups given none are absent."""
    exploration: list[str] = Field(default_factory=list)
    """The ids among `ids` drawn at random outside the quotas."""
    weights: dict[str, float] = Field(default_factory=dict)
    """The number each group's quota was derived from: relative improvement in a round, COINCIDE score at
    warm-up; groups that were not candidates are absent."""
    note: str | None = None
    """Set when a fallback rule decided the round (e.g. no group improved), in words for the report."""


class Selector(Protocol):
    """Chooses the next round's ids from the state of the loop; see the module docstring."""

    def next_round(self, state: RoundState, rng: np.random.Generator) -> Selection:
        """At most `state.budget_left` new ids, none of them in `state.selected`."""
        ...
