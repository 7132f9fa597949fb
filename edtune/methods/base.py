"""What a selection method is to the loop: a plan and a list of resumable stages.

The loop runs, per iteration: [answer + judge the validation set, when the method uses it] -> the
method's own stages -> train -> answer + judge the test set. A method is a plan (total budget and
iterations) and a list of named stages; the last stage writes the iteration's selection.jsonl. Each stage
is resumable on its own (finished stages are recorded in state.json), so a new method gets the run
directory, resume and report for free. A stage must be deterministic given the files before it and the
generators of `edtune.loop.seeds`, and must write its outputs atomically or append-only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from edtune.loop.config import RunConfig
    from edtune.loop.context import RunContext


@dataclass(frozen=True)
class Stage:
    """One resumable step of an iteration: `run(ctx, iteration)` writes its outputs to the run directory."""

    name: str
    run: Callable[[RunContext, int], None]


@dataclass(frozen=True)
class Plan:
    """How much a method selects in all, over how many iterations at most."""

    budget: int
    iterations: int


class Method(Protocol):
    """A way of choosing each iteration's training samples, and what it needs from the run."""

    @property
    def name(self) -> str:
        """The `RunConfig.method` value."""
        ...

    @property
    def needs_teacher(self) -> bool:
        """Whether the method asks the teacher (a config naming it must give `teacher`)."""
        ...

    @property
    def uses_validation(self) -> bool:
        """Whether the loop answers and judges the validation set first (and stops when no error is left)."""
        ...

    def plan(self, config: RunConfig, pool_size: int) -> Plan:
        """Total budget and iterations for this run."""
        ...

    def stages(self) -> list[Stage]:
        """The selection stages, in order; the last one writes selection.jsonl."""
        ...


def configured_plan(config: RunConfig, pool_size: int) -> Plan:
    """The plan the config asks for: its budget (at most the pool) and iterations."""
    return Plan(budget=min(config.budget, pool_size), iterations=config.iterations)
