"""The iteration loop: pretrained test score, then per iteration validation -> selection -> training -> test.

    iteration 0:  answer + judge the test set with the pretrained student
    iteration i:  [answer + judge validation with adapter i-1; stop if no error]   (methods using validation)
                  [once per run: the teacher annotates pool samples without skills] (retrieving methods)
                  the method's selection stages (locate, skills, select ...)      -> selection.jsonl
                  stop if nothing was selected
                  train adapter i;  answer + judge the test set with adapter i
    stop after the planned iterations, or when the budget is spent.

Every stage is skipped when state.json lists it as finished, and stop decisions are recomputed from the
files, so calling `run_loop` again on a killed run continues where it stopped and decides the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from edtune.loop.context import RunContext
from edtune.loop.metrics import RunMetrics, write_metrics
from edtune.loop.stages_annotate import STAGE as STAGE_ANNOTATE
from edtune.loop.stages_annotate import annotate_pool, needs_annotation
from edtune.loop.stages_select import read_selection
from edtune.loop.stages_student import answer, errors, judge, train
from edtune.methods import Method, methods


def _stage(ctx: RunContext, iteration: int, name: str, run: Callable[[], None]) -> None:
    key = f"{iteration:03d}/{name}"
    if ctx.run.is_done(key):
        return
    run()
    ctx.run.mark_done(key)


def _evaluate_test(ctx: RunContext, iteration: int) -> None:
    if ctx.config.data.test is None:
        return
    _stage(ctx, iteration, "answer_test", lambda: answer(ctx, iteration, "test", adapter=iteration))
    _stage(ctx, iteration, "judge_test", lambda: judge(ctx, iteration, "test"))


def keeps_best_val(ctx: RunContext, method: Method) -> bool:
    """Whether the run returns its best adapter on validation (`RunConfig.keep`) rather than its last."""
    keep = ctx.config.keep
    return keep == "best_val" or (keep == "auto" and method.uses_validation)


def _validate(ctx: RunContext, i: int) -> None:
    """Answer and judge the validation set with adapter i - 1: the student entering iteration i."""
    _stage(ctx, i, "answer_val", lambda: answer(ctx, i, "val", adapter=i - 1))
    _stage(ctx, i, "judge_val", lambda: judge(ctx, i, "val"))


def _validate_last(ctx: RunContext, last: int) -> int:
    """Validate the last trained adapter when the run ended right after training it (on its iteration count
    or its budget); returns the last iteration with files, then the validation-only `last + 1`. A run that
    stopped before training (no error left, nothing selected) already validated its last adapter."""
    if last == 0 or not ctx.run.adapter(last).is_dir():
        return last
    _validate(ctx, last + 1)
    return last + 1


def _iteration(ctx: RunContext, method: Method, i: int) -> str | None:
    """Run iteration `i`; returns why the loop must stop before training, or None when it trained."""
    if ctx.iteration_budget(i) == 0:
        return "budget"
    if method.uses_validation or keeps_best_val(ctx, method):
        _validate(ctx, i)
    if method.uses_validation and not errors(ctx, i):
        return "no_errors"
    if needs_annotation(ctx):  # once per run, before the first retrieval: done stages are skipped
        _stage(ctx, 0, STAGE_ANNOTATE, lambda: annotate_pool(ctx))
    for stage in method.stages():
        _stage(ctx, i, stage.name, partial(stage.run, ctx, i))
    if not read_selection(ctx.run, i):
        return "nothing_selected"
    _stage(ctx, i, "train", lambda: train(ctx, i))
    _evaluate_test(ctx, i)
    return None


def run_loop(ctx: RunContext) -> RunMetrics:
    """Run (or continue) the configured method to its end; returns the final metrics."""
    method = methods.create(ctx.config.method)
    plan = method.plan(ctx.config, len(ctx.samples("pool")))
    ctx.budget, ctx.iterations = plan.budget, plan.iterations
    ctx.run.sweep_scratch()
    _evaluate_test(ctx, 0)
    last, stopped, best_val = 0, "iterations", keeps_best_val(ctx, method)
    for i in range(1, plan.iterations + 1):
        reason = _iteration(ctx, method, i)
        if reason is not None:
            stopped = reason
            last = i if ctx.run.iteration(i).exists() else i - 1
            break
        last = i
        write_metrics(ctx, last, None, best_val=best_val)
    if best_val:
        last = _validate_last(ctx, last)
    ctx.run.mark_stopped(stopped)
    return write_metrics(ctx, last, stopped, best_val=best_val)


def final_adapter(metrics: RunMetrics) -> int:
    """The iteration whose adapter is the run's result (0: the pretrained student): `metrics.kept`, or for
    metrics written before it existed, the last trained adapter."""
    if metrics.kept is not None:
        return metrics.kept
    trained = [it.iteration for it in metrics.iterations if it.train is not None]
    return trained[-1] if trained else 0
