"""Score baselines of the PROGRESS paper as loop methods: `method = "el2n"` and `method = "perplexity"`.

One iteration: stage "pool_scores" scores every pool sample with the pretrained student
(`Student.token_scores`: EL2N and loss, appended chunk by chunk to pool_scores.jsonl, so a killed
run resumes at the first unscored sample), then "select" keeps `budget` samples at the configured end of
the ranking (`scores.el2n_order`, `scores.perplexity_order`; `ranking.score_selection`). These
scores need each sample's gold target, so unlike PROGRESS they read the label of every pool sample:
progress_round.json records annotations = pool size. selection.jsonl carries the method name as `skill`
and the sample's score as `score`.
"""

from __future__ import annotations

from dataclasses import dataclass

from edtune.atomic import atomic_write_json
from edtune.jsonl import read_jsonl
from edtune.loop.config import RunConfig
from edtune.loop.context import RunContext
from edtune.loop.rundir import Produce, append_missing
from edtune.loop.stages_select import write_selection
from edtune.methods import Method, Plan, Stage, configured_plan, methods
from edtune.methods.progress.records import ProgressRound
from edtune.methods.scores.ranking import score_selection
from edtune.retrieval.select import ChosenSample
from edtune.student.scores import TokenScores, score_samples

SCORES = "pool_scores.jsonl"


def score_pool(ctx: RunContext, iteration: int) -> None:
    """Stage: `TokenScores` of every pool sample with the pretrained student, resumable."""
    size = ctx.config.student.score_batch_size
    description = f"iteration {iteration}: scoring the pool"
    if ctx.config.pool_engine.engine == "ray":
        from edtune.methods.scores.ray import score_on_ray

        score_on_ray(ctx, ctx.run.file(iteration, SCORES), ctx.samples("pool"), adapter=0, batch_size=size,
                     description=description)
        return

    def start() -> Produce:
        student = ctx.use_adapter(0)
        return lambda chunk: score_samples(student, chunk, ctx.image_root("pool"), batch_size=size,
                                           needed_by=f"method '{ctx.config.method}'")

    append_missing(ctx.run.file(iteration, SCORES), TokenScores, ctx.samples("pool"), size, start,
                   description=description, show_bars=ctx.show_bars)


def _select_by(name: str) -> Stage:
    def run(ctx: RunContext, iteration: int) -> None:
        scores = {s.sample_id: (s.el2n if name == "el2n" else s.perplexity)
                  for s in read_jsonl(ctx.run.file(iteration, SCORES), TokenScores)}
        settings = ctx.config.scores
        order = settings.el2n_order if name == "el2n" else settings.perplexity_order
        pool_ids = [s.id for s in ctx.samples("pool")]
        selection = score_selection(pool_ids, lambda ids: scores, ctx.iteration_budget(iteration), order=order,
                                    name=name)
        chosen = [ChosenSample(sample_id=i, skill=name, score=scores[i], rank=n)
                  for n, i in enumerate(selection.ids, start=1)]
        atomic_write_json(ctx.run.file(iteration, "progress_round.json"),
                          ProgressRound(iteration=iteration, kind="round", size=ctx.iteration_budget(iteration),
                                        selected=len(chosen), exploration=0, evaluated=0, annotations=len(pool_ids)))
        write_selection(ctx.run, iteration, chosen)

    return Stage("select", run)


@dataclass(frozen=True)
class ScoreBaseline:
    """Keep the budget's worth of pool samples ranked by a score of the pretrained student."""

    name: str
    uses_validation: bool = False
    needs_teacher: bool = False

    def plan(self, config: RunConfig, pool_size: int) -> Plan:
        return Plan(budget=configured_plan(config, pool_size).budget, iterations=1)

    def stages(self) -> list[Stage]:
        return [Stage("pool_scores", score_pool), _select_by(self.name)]


@methods.register("el2n")
def el2n() -> Method:
    """EL2N of the pretrained student on each pool sample's gold target (Paul et al. 2021)."""
    return ScoreBaseline("el2n")


@methods.register("perplexity")
def perplexity() -> Method:
    """Perplexity of the pretrained student on each pool sample's gold target (Marion et al. 2023)."""
    return ScoreBaseline("perplexity")
