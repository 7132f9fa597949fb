"""Stages that use the student and the judge: answer a split, judge it, LoRA-tune on a selection.

Answers and judgments are appended batch by batch, so a killed run resumes at the first unanswered
sample. Training is the one stage that cannot be resumed half-way: it either finished (its adapter
folder exists, see `RunDir.new_adapter`) or is run again from its start with the same seed.
"""

from __future__ import annotations

import inspect
import json
from contextlib import AbstractContextManager
from typing import Literal

from edtune.jsonl import atomic_write_json, read_jsonl
from edtune.judging.base import judge_sync
from edtune.loop.bars import Step, step_bar, working
from edtune.loop.context import RunContext
from edtune.loop.rundir import Produce, TrainRecord, append_missing
from edtune.loop.seeds import derive_seed, stage_rng
from edtune.loop.stages_select import read_selection
from edtune.records import Judgment, Sample, StudentOutput
from edtune.student.base import LoraTrainConfig, Student
from edtune.student.training import call_steps

Scored = Literal["val", "test"]
JUDGE_CHUNK = 64
"""Judgments per appended chunk: a crash redoes at most this many (cached replies for LLM judges)."""


def answer(ctx: RunContext, iteration: int, split: Scored, adapter: int) -> None:
    """Student outputs for every sample of `split`, with iteration `adapter`'s adapter attached."""
    batch = ctx.config.student.batch_size

    def start() -> Produce:
        student = ctx.use_adapter(adapter)
        return lambda chunk: student.answer(chunk, ctx.image_root(split), batch_size=batch)

    append_missing(ctx.run.file(iteration, f"{split}_outputs.jsonl"), StudentOutput, ctx.samples(split), batch,
                   start, description=f"iteration {iteration}: answering {split}", show_bars=ctx.show_bars)


def outputs_by_id(ctx: RunContext, iteration: int, split: Scored) -> dict[str, StudentOutput]:
    return {o.sample_id: o for o in read_jsonl(ctx.run.file(iteration, f"{split}_outputs.jsonl"), StudentOutput)}


def judgments(ctx: RunContext, iteration: int, split: Scored) -> list[Judgment]:
    """The judgments of `split` at `iteration` (empty before the judge stage ran)."""
    return read_jsonl(ctx.run.file(iteration, f"{split}_judgments.jsonl"), Judgment)


def judge(ctx: RunContext, iteration: int, split: Scored) -> None:
    """A Judgment for every answered sample of `split`, in sample order, appended chunk by chunk."""

    def start() -> Produce:
        outputs = outputs_by_id(ctx, iteration, split)
        return lambda chunk: judge_sync(ctx.judge(), chunk, [outputs[s.id] for s in chunk])

    append_missing(ctx.run.file(iteration, f"{split}_judgments.jsonl"), Judgment, ctx.samples(split), JUDGE_CHUNK,
                   start, description=f"iteration {iteration}: judging {split}", show_bars=ctx.show_bars)


def errors(ctx: RunContext, iteration: int) -> list[tuple[Sample, StudentOutput]]:
    """Validation samples judged incorrect (an answer naming no option or number included), in
    validation-set order; one the student gave no final answer for only with `unanswered_are_errors`.
    Unscored ones (the judge failed) are never errors."""
    outputs = outputs_by_id(ctx, iteration, "val")
    keep_unanswered = ctx.config.unanswered_are_errors
    wrong = {j.sample_id for j in judgments(ctx, iteration, "val")
             if j.outcome == "incorrect" and (keep_unanswered or (outputs[j.sample_id].answer or "").strip())}
    return [(s, outputs[s.id]) for s in ctx.samples("val") if s.id in wrong]


HELD_OUT = "held_out.json"
"""Per iteration, optional: a JSON list of the iteration's selected ids that no training call uses until
the final iteration (an evaluation set, e.g. PROGRESS's `eval_samples = "held_out"`). They are annotated
and count against the budget like every selected id."""


def held_out_ids(ctx: RunContext, iteration: int) -> set[str]:
    """Ids held out by iterations 1 .. `iteration` (each iteration's HELD_OUT file, where there is one)."""
    held: set[str] = set()
    for i in range(1, iteration + 1):
        path = ctx.run.file(i, HELD_OUT)
        if path.is_file():
            held.update(json.loads(path.read_text()))
    return held


def is_final(ctx: RunContext, iteration: int) -> bool:
    """Whether `iteration` is the run's last training: the planned last, or the one that spends the budget."""
    chosen = len(ctx.used_before(iteration)) + len(read_selection(ctx.run, iteration))
    return iteration >= ctx.iterations or chosen >= ctx.budget


def training_ids(ctx: RunContext, iteration: int) -> list[str]:
    """Pool ids iteration `iteration` trains on: its own selection, or everything selected so far; ids held
    out for evaluation (HELD_OUT) are left out except in the final iteration, so the result uses them all."""
    own = [c.sample_id for c in read_selection(ctx.run, iteration)]
    ids = own if ctx.config.training.data == "new" else [*ctx.used_before(iteration), *own]
    held = held_out_ids(ctx, iteration)
    if not held:
        return ids
    if not is_final(ctx, iteration):
        return [i for i in ids if i not in held]
    if ctx.config.training.data == "new":
        # The held-out ids of earlier iterations were never trained on: the final call adds them.
        ids += [i for i in ctx.used_before(iteration) if i in held]
    return ids


def replay_count(ctx: RunContext, n_train: int) -> int:
    """Replay samples mixed into a call on `n_train` samples: `replay_ratio` x `n_train`, at most the file's."""
    if ctx.config.data.replay is None or ctx.config.training.replay_ratio == 0:
        return 0
    return min(len(ctx.samples("replay")), round(ctx.config.training.replay_ratio * n_train))


def replay_samples(ctx: RunContext, iteration: int, n_train: int) -> list[Sample]:
    """`replay_count` replay samples drawn without replacement."""
    count = replay_count(ctx, n_train)
    if count == 0:
        return []
    return stage_rng(ctx.config.seed, iteration, "replay").sample(ctx.samples("replay"), count)


def call_lora(ctx: RunContext, iteration: int, n_train: int) -> LoraTrainConfig:
    """The LoRA settings of iteration `iteration`'s call on `n_train` samples: the configured ones (the final
    call's step floor raised to `training.final_min_steps` when set), or under
    `training.schedule = "run"` its stretch of the run's curve. The curve is as long as one call on the
    whole budget; a call starts where the samples trained before it put it and ends where its own put it,
    the final call at the curve's end (so a run that spends its budget takes exactly that many steps)."""
    lora, floor = ctx.config.training.lora, ctx.config.training.final_min_steps
    if ctx.config.training.schedule == "per_call":
        if floor is not None and is_final(ctx, iteration):
            return lora.model_copy(update={"min_steps": max(lora.min_steps, floor)})
        return lora
    total = call_steps(lora.model_copy(update={"steps": None}), ctx.budget + replay_count(ctx, ctx.budget))
    before = sum(len(training_ids(ctx, i)) for i in range(1, iteration))
    start = min(total - 1, round(total * before / ctx.budget))
    end = total if is_final(ctx, iteration) else round(total * (before + n_train) / ctx.budget)
    # Every call takes at least one step, and none runs past the curve.
    end = min(total, max(end, start + 1))
    return lora.model_copy(update={"steps": end - start, "schedule_start": start, "schedule_total": total})


def train(ctx: RunContext, iteration: int) -> None:
    """LoRA-tune and save iteration `iteration`'s adapter (skipped when it already exists)."""
    if ctx.run.adapter(iteration).is_dir():
        return
    settings = ctx.config.training
    samples = [ctx.pool_sample(i) for i in training_ids(ctx, iteration)]
    replay = replay_samples(ctx, iteration, len(samples))
    student = ctx.use_adapter(0 if settings.adapter == "fresh" else iteration - 1)
    seed = derive_seed(ctx.config.seed, iteration, "train")
    replay_root = ctx.image_root("replay") if replay else None
    lora = call_lora(ctx, iteration, len(samples))
    description = f"iteration {iteration}: training on {len(samples)} samples + {len(replay)} replay"
    with _training_bar(student, description, enabled=ctx.show_bars) as on_step:
        extra = {} if on_step is None else {"on_step": on_step}
        stats = student.train(samples, ctx.image_root("pool"), lora, seed=seed, replay=replay,
                              replay_root=replay_root, **extra)
    record = TrainRecord(iteration=iteration, train_ids=[s.id for s in samples], replay_ids=[s.id for s in replay],
                         seed=seed, stats=stats, lora=lora)
    with ctx.run.new_adapter(iteration) as scratch:
        student.save_adapter(scratch)
        atomic_write_json(scratch / "train.json", record)
    ctx.adapter_attached(iteration)


def _training_bar(student: Student, description: str, *, enabled: bool) -> AbstractContextManager[Step | None]:
    """A per-step bar with the loss when the student reports its steps (`Student.train`'s `on_step`); a
    spinner for a student written before `on_step` existed, which is then not passed to it at all."""
    if enabled and _reports_steps(student):
        return step_bar(description, enabled=True)
    return working(description, enabled=enabled)


def _reports_steps(student: Student) -> bool:
    parameters = inspect.signature(student.train).parameters.values()
    return any(p.name == "on_step" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
