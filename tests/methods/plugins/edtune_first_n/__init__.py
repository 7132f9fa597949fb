"""A third-party selection method as a package would ship it: "first_n" picks the first unused pool samples.

It is registered by the entry point in `../edtune_first_n-0.1.dist-info/entry_points.txt` (group
`edtune.methods`); nothing in edtune names it.
"""

from __future__ import annotations

from dataclasses import dataclass

from edtune.loop.config import RunConfig
from edtune.loop.context import RunContext
from edtune.loop.stages_select import write_selection
from edtune.methods import Plan, Stage, configured_plan
from edtune.retrieval.select import ChosenSample


def _select_first(ctx: RunContext, iteration: int) -> None:
    used = set(ctx.used_before(iteration))
    ids = [s.id for s in ctx.samples("pool") if s.id not in used][:ctx.iteration_budget(iteration)]
    write_selection(ctx.run, iteration, [ChosenSample(sample_id=i, skill="first_n", score=0.0, rank=n)
                                         for n, i in enumerate(ids, start=1)])


@dataclass(frozen=True)
class FirstN:
    """The iteration's budget of pool samples, in pool order."""

    name: str = "first_n"
    needs_teacher: bool = False
    uses_validation: bool = False

    def plan(self, config: RunConfig, pool_size: int) -> Plan:
        return configured_plan(config, pool_size)

    def stages(self) -> list[Stage]:
        return [Stage("select", _select_first)]


def first_n() -> FirstN:
    """The entry point's object: a factory of the method."""
    return FirstN()
