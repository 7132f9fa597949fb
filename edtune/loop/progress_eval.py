"""PROGRESS's evaluation of a round: the student on already-annotated samples, per group.

Before choosing round i (iteration i >= 2), up to `eval_per_cluster` of the samples annotated so far are
drawn per group (seeded by the run seed and i; `edtune.progress.evaluation.pick_for_evaluation`) and
scored twice, so the improvement is measured on the same samples. The groups are PROGRESS's tracking
clusters (`cluster_groups`), or whatever the method's `GroupsOf` says (skill-progress: the skill each
annotated sample was selected for):
    previous: the student after iteration i-2 (the pretrained student for i = 2), files progress_previous_*
    current:  the student after iteration i-1 (the one just trained),             files progress_current_*
With `metric = "accuracy"` the student answers (…_outputs.jsonl) and the run's judge decides
(…_judgments.jsonl); unscored judgments are left out, as PROGRESS's evaluation does. With "loss" the
per-sample loss of the gold target is recorded instead (…_losses.jsonl, `progress_scores.TokenScores`).
Only samples already annotated are evaluated, so evaluation reads no new label. Every file is appended
chunk by chunk: a killed run resumes at the first sample without a record and repeats nothing finished.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from edtune.jsonl import append_jsonl, read_jsonl
from edtune.judging.base import judge_sync
from edtune.loop.context import RunContext
from edtune.loop.progress import progress_bar
from edtune.loop.progress_features import load_clusters
from edtune.loop.progress_scores import TokenScores, token_scores
from edtune.loop.rundir import read_ids, repair_tail
from edtune.loop.seeds import derive_seed
from edtune.progress.evaluation import accuracy_by_group, loss_by_group, members_by_group, pick_for_evaluation
from edtune.progress.selector import GroupScore
from edtune.records import Judgment, Record, Sample, StudentOutput

Which = Literal["previous", "current"]
GroupsOf = Callable[[RunContext, int], dict[str, str]]
"""(ctx, iteration) -> the group of every id annotated before `iteration` (an id left out is a DataError)."""
JUDGE_CHUNK = 64


def eval_ids(ctx: RunContext, iteration: int, group_of: dict[str, str]) -> list[str]:
    """The annotated ids evaluated before round `iteration`, in cluster then id order."""
    selected = members_by_group(ctx.used_before(iteration), group_of)
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


def _todo(path: Path, model: type[Record], samples: Sequence[Sample]) -> list[Sample]:
    repair_tail(path, model)
    done = set(read_ids(path))
    return [s for s in samples if s.id not in done]


def _answer(ctx: RunContext, out: Path, samples: Sequence[Sample], adapter: int, description: str) -> None:
    todo = _todo(out, StudentOutput, samples)
    if not todo:
        return
    student = ctx.use_adapter(adapter)
    batch = ctx.config.student.batch_size
    with progress_bar(description, len(samples), enabled=ctx.progress, done=len(samples) - len(todo)) as advance:
        for start in range(0, len(todo), batch):
            chunk = todo[start:start + batch]
            append_jsonl(out, student.answer(chunk, ctx.image_root("pool"), batch_size=batch))
            advance(len(chunk))


def _judge(ctx: RunContext, outputs_path: Path, out: Path, samples: Sequence[Sample], description: str) -> None:
    todo = _todo(out, Judgment, samples)
    if not todo:
        return
    outputs = {o.sample_id: o for o in read_jsonl(outputs_path, StudentOutput)}
    with progress_bar(description, len(samples), enabled=ctx.progress, done=len(samples) - len(todo)) as advance:
        for start in range(0, len(todo), JUDGE_CHUNK):
            chunk = todo[start:start + JUDGE_CHUNK]
            append_jsonl(out, judge_sync(ctx.judge(), chunk, [outputs[s.id] for s in chunk]))
            advance(len(chunk))


def _score(ctx: RunContext, out: Path, samples: Sequence[Sample], adapter: int, description: str) -> None:
    todo = _todo(out, TokenScores, samples)
    if not todo:
        return
    student = ctx.use_adapter(adapter)
    size = ctx.config.progress.score_batch_size
    with progress_bar(description, len(samples), enabled=ctx.progress, done=len(samples) - len(todo)) as advance:
        for start in range(0, len(todo), size):
            chunk = todo[start:start + size]
            append_jsonl(out, token_scores(student, chunk, ctx.image_root("pool"), batch_size=size))
            advance(len(chunk))
