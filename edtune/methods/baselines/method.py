"""Baselines that choose without looking at the student: random at equal budget, and the full pool.

Both train and evaluate exactly like the error-driven method (same LoRA settings, replay and per-iteration
budget), so their test accuracy against samples used is directly comparable.
"""

from __future__ import annotations

from dataclasses import dataclass

from edtune.loop.config import RunConfig
from edtune.loop.context import RunContext
from edtune.loop.stages_select import random_choice, write_selection
from edtune.methods import Method, Plan, Stage, configured_plan, methods


def _select_random(ctx: RunContext, iteration: int) -> None:
    used = set(ctx.used_before(iteration))
    available = [s.id for s in ctx.samples("pool") if s.id not in used]
    chosen = random_choice(available, ctx.iteration_budget(iteration), seed=ctx.config.seed, iteration=iteration,
                           stage="random")
    write_selection(ctx.run, iteration, chosen)


def _select_all(ctx: RunContext, iteration: int) -> None:
    used = set(ctx.used_before(iteration))
    available = [s.id for s in ctx.samples("pool") if s.id not in used]
    write_selection(ctx.run, iteration, random_choice(available, len(available), seed=ctx.config.seed,
                                                      iteration=iteration, stage="full"))


@dataclass(frozen=True)
class RandomBaseline:
    """Uniform draws from the unused pool, the iteration's budget each time."""

    name: str = "random"
    uses_validation: bool = False
    needs_teacher: bool = False

    def plan(self, config: RunConfig, pool_size: int) -> Plan:
        return configured_plan(config, pool_size)

    def stages(self) -> list[Stage]:
        return [Stage("select", _select_random)]


@dataclass(frozen=True)
class FullPool:
    """Every pool sample, in one iteration (the budget is ignored): the upper reference."""

    name: str = "full"
    uses_validation: bool = False
    needs_teacher: bool = False

    def plan(self, config: RunConfig, pool_size: int) -> Plan:
        return Plan(budget=pool_size, iterations=1)

    def stages(self) -> list[Stage]:
        return [Stage("select", _select_all)]


@methods.register("random")
def random_baseline() -> Method:
    return RandomBaseline()


@methods.register("full")
def full_pool() -> Method:
    return FullPool()
