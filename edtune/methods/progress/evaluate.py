"""PROGRESS's evaluation of a round: the student on already-annotated samples, per group.

Before choosing round i (iteration i >= 2), up to `eval_per_cluster` of the samples annotated so far are
drawn per group (seeded by the run seed and i; `edtune.methods.progress.evaluation.pick_for_evaluation`) and
scored twice, so the improvement is measured on the same samples. The groups are PROGRESS's tracking
clusters (`cluster_groups`), or whatever the method's `GroupsOf` says (skill-progress: the skill each
annotated sample was selected for):
    previous: the student after iteration i-2 (the pretrained student for i = 2), files progress_previous_*
    current:  the student after iteration i-1 (the one just trained),             files progress_current_*
With `metric = "accuracy"` the student answers (…_outputs.jsonl) and the run's judge decides
(…_judgments.jsonl); unscored judgments are left out, as PROGRESS's evaluation does. With "loss" the
per-sample loss of the gold target is recorded instead (…_losses.jsonl, `edtune.student.scores.TokenScores`).
Only samples already annotated are evaluated, so evaluation reads no new label. With
`eval_samples = "held_out"` they are drawn from the ids the selection stage held out of training
(`stages_student.HELD_OUT`), so both students are scored on samples neither trained on. Every file is appended
chunk by chunk: a killed run resumes at the first sample without a record and repeats nothing finished.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from edtune.jsonl import read_jsonl
from edtune.judging.base import judge_sync
from edtune.loop.context import RunContext
from edtune.loop.rundir import Produce, append_missing
from edtune.loop.seeds import derive_seed
from edtune.loop.stages_student import JUDGE_CHUNK, held_out_ids
from edtune.methods.progress.evaluation import accuracy_by_group, loss_by_group, members_by_group, pick_for_evaluation
from edtune.methods.progress.pool import load_clusters
from edtune.methods.progress.selector import GroupScore
from edtune.records import Judgment, Sample, StudentOutput
from edtune.student.scores import TokenScores, score_samples

Which = Literal["previous", "current"]
GroupsOf = Callable[[RunContext, int], dict[str, str]]
"""(ctx, iteration) -> the group of every id annotated before `iteration` (an id left out is a DataError)."""


def eval_ids(ctx: RunContext, iteration: int, group_of: dict[str, str]) -> list[str]:
    """The annotated ids evaluated before round `iteration`, in cluster then id order: a seeded draw from
    every annotated id, or (`eval_samples = "held_out"`) from those held out of training so far."""
    annotated = ctx.used_before(iteration)
    if ctx.config.progress.eval_samples == "held_out":
        held = held_out_ids(ctx, iteration - 1)
        annotated = [i for i in annotated if i in held]
    selected = members_by_group(annotated, group_of)
    rng = np.random.default_rng(derive_seed(ctx.config.seed, iteration, "progress_eval"))
    picked = pick_for_evaluation(selected, ctx.config.progress.eval_per_cluster, rng)
    return [i for group in sorted(picked) for i in picked[group]]


def cluster_groups(ctx: RunContext, iteration: int) -> dict[str, str]:
    """PROGRESS's groups: every pool id's tracking cluster (the same in every iteration)."""
    return load_clusters(ctx).group_of()


def evaluate_stage(which: Which, groups: GroupsOf = cluster_groups) -> Callable[[RunContext, int], None]:
    """A stage scoring the evaluation samples of `groups` with the `which` student (a no-op in iteration 1)."""

    def run(ctx: RunContext, iteration: int) -> None:
        if iteration < 2:
            return
        adapter = iteration - 2 if which == "previous" else iteration - 1
        samples = [ctx.pool_sample(i) for i in eval_ids(ctx, iteration, groups(ctx, iteration))]
        if ctx.config.progress.metric == "loss":
            _score(ctx, _path(ctx, iteration, which, "losses"), samples, adapter,
                   f"iteration {iteration}: PROGRESS evaluation ({which}), scoring")
            return
        outputs = _path(ctx, iteration, which, "outputs")
        description = f"iteration {iteration}: PROGRESS evaluation ({which})"
        _answer(ctx, outputs, samples, adapter, f"{description}, answering")
        _judge(ctx, outputs, _path(ctx, iteration, which, "judgments"), samples, f"{description}, judging")

    return run


def group_scores(ctx: RunContext, iteration: int, which: Which, group_of: dict[str, str]) -> dict[str, GroupScore]:
    """Per-cluster accuracy (or mean loss) of the `which` evaluation before round `iteration`."""
    if ctx.config.progress.metric == "loss":
        losses = read_jsonl(_path(ctx, iteration, which, "losses"), TokenScores)
        return loss_by_group({s.sample_id: s.loss for s in losses}, group_of)
    return accuracy_by_group(read_jsonl(_path(ctx, iteration, which, "judgments"), Judgment), group_of)


def _path(ctx: RunContext, iteration: int, which: Which, kind: str) -> Path:
    return ctx.run.file(iteration, f"progress_{which}_{kind}.jsonl")


def _answer(ctx: RunContext, out: Path, samples: Sequence[Sample], adapter: int, description: str) -> None:
    batch = ctx.config.student.batch_size

    def start() -> Produce:
        student = ctx.use_adapter(adapter)
        return lambda chunk: student.answer(chunk, ctx.image_root("pool"), batch_size=batch)

    append_missing(out, StudentOutput, samples, batch, start, description=description, show_bars=ctx.show_bars)


def _judge(ctx: RunContext, outputs_path: Path, out: Path, samples: Sequence[Sample], description: str) -> None:
    def start() -> Produce:
        outputs = {o.sample_id: o for o in read_jsonl(outputs_path, StudentOutput)}
        return lambda chunk: judge_sync(ctx.judge(), chunk, [outputs[s.id] for s in chunk])

    append_missing(out, Judgment, samples, JUDGE_CHUNK, start, description=description, show_bars=ctx.show_bars)


def _score(ctx: RunContext, out: Path, samples: Sequence[Sample], adapter: int, description: str) -> None:
    size = ctx.config.student.score_batch_size

    def start() -> Produce:
        student = ctx.use_adapter(adapter)
        return lambda chunk: score_samples(student, chunk, ctx.image_root("pool"), batch_size=size,
                                           needed_by=f"method '{ctx.config.method}' with progress.metric = \"loss\"")

    append_missing(out, TokenScores, samples, size, start, description=description, show_bars=ctx.show_bars)
