"""`edtune demo`: the bundled benchmark end to end, on CPU, in minutes.

For each seed: write the shapes world (seeded), start the reference teacher in-process (a benchmark
instrument answering from gold data, see `edtune.bench.reference`), and adapt the bundled tiny student to
one target task with each method: random at the error-driven budget, error-driven, and the full pool (the
pretrained score is every run's iteration 0). Then `edtune.report.build_report` writes the table, plots
and results.json over all runs.

    from edtune.demo import DemoConfig, run_demo

    if __name__ == "__main__":  # needed with workers > 1: each worker process re-imports the main module
        outcome = run_demo(DemoConfig(seeds=[0, 1, 2]), "runs/demo")
        print(outcome.table)

Runs go to `workers` processes (2 by default, one per core), the full pool first since it trains longest.
Every training call gets at least `min_steps` optimiser steps (see that field for the measurement); the
full-pool reference trains for `full_epochs` (see that field for why).

The default pool is 3,000 samples instead of the world's 20,000: the full-pool baseline trains LoRA for
30 epochs, and on 20,000 samples that alone would be far past the demo's 10-minute target on 2 CPU cores
(training speed: benchmarks/README.md). The world keeps its family mix (each target task 12% of the
pool), and the budget (300) is 10% of the pool, the benchmark's target share, so the ratio of budget to
relevant samples is the full-size benchmark's.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, field_validator

from edtune.atomic import atomic_write_json
from edtune.bench.shapes import TASKS, ShapesConfig
from edtune.bench.shapes.io import ensure_world
from edtune.bench.shapes.world import Listing
from edtune.errors import ConfigError
from edtune.loop.api import OBJECT_PREFIX, adapt
from edtune.loop.config import BUNDLED, DataFile, DataSettings, MethodName, RunConfig, StudentSettings, TrainingSettings
from edtune.loop.ownership import own_run_dir
from edtune.loop.rundir import RunDir
from edtune.loop.watch import StageWatcher
from edtune.quiet import quiet_libraries
from edtune.records import Record
from edtune.report import ReportResults, format_table, write_report
from edtune.student.base import LoraTrainConfig, Student
from edtune.student.bundled import CHECKPOINT_FOR_LISTING

DEFAULT_METHODS: tuple[MethodName, ...] = ("random", "error_driven", "full")
"""The paper's table: random at equal budget, error-driven, full pool (pretrained comes from iteration 0)."""
ABLATIONS: tuple[MethodName, ...] = ("ablation_random_samples", "ablation_random_step", "ablation_step_text")
"""The paper's ablations, added by `edtune demo --ablations`."""
StudentFactory = Callable[[], "Student"]
"""Builds a fresh student object for each run."""
POLL_S = 5.0
"""Seconds between two reads of the worker runs' finished stages."""
Notify = Callable[[str], None]
"""Receives one line per demo step (the CLI prints them; library code never prints)."""


class DemoConfig(Record):
    """One demo: the world's size, the methods compared and their shared budget."""

    task: str = "counting"
    """Target task (a group of question families the pretrained student never saw): counting, spatial, size."""
    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    """One world and one run per method for each seed (world seed = run seed = reference-teacher seed)."""
    pool_size: int = Field(default=3_000, ge=10)
    """Supporting-pool samples (see the module docstring for why not the world's default 20,000)."""
    val_size: int = Field(default=500, ge=1)
    """Validation samples of the target task: the error-driven method mines its errors here."""
    test_size: int = Field(default=1_000, ge=1)
    """Held-out test samples of the target task; every method is scored on the same ones per seed."""
    base_size: int = Field(default=1_000, ge=0)
    """Base-skill replay samples mixed into LoRA training (the loop's replay ratio applies)."""
    budget: int = Field(default=300, ge=1)
    """Pool samples the budgeted methods select in all (random gets the same)."""
    iterations: int = Field(default=3, ge=1)
    """Error-driven iterations (the budget is split evenly over them); random uses the same schedule."""
    methods: list[MethodName] = Field(default_factory=lambda: list(DEFAULT_METHODS), min_length=1)
    """Methods run per seed; add ablation_random_step, ablation_step_text or ablation_random_samples."""
    teacher_error_rate: float = Field(default=0.0, ge=0, le=1)
    """Share of reference-teacher replies made wrong on purpose (0: a perfect teacher)."""
    listing: Listing = "names"
    """The world's listing style (its rationales' opening step): "names", or "attributes" (each object's size
    and cell, which the size and spatial families read). With "attributes" and `student = "bundled"`, the
    shipped student pretrained to write that listing (`tiny_checkpoint_attributes`) is adapted instead."""
    student: str = BUNDLED
    """The student checkpoint: "bundled" for the shipped tiny student of the world's listing, or a
    tiny-student folder."""
    min_steps: int = Field(default=600, ge=0)
    """Floor on LoRA optimiser steps per training call (`LoraTrainConfig.min_steps`). The loop's 10 epochs
    give a 100-sample selection 50 steps, too few for the tiny student to learn counting; 600 steps are
    enough (benchmarks/README.md, "Defaults that train"). Every method gets the
    same floor; the full pool's 10 epochs are above it anyway. Passed explicitly, so the demo's recipe
    does not move with `LoraTrainConfig`'s default (the same value today)."""
    final_min_steps: int = Field(default=1800, ge=1)
    """Floor on optimiser steps of every run's final training call (`TrainingSettings.final_min_steps`),
    the one whose adapter the table scores. At `min_steps` the tiny student stops at a loss plateau from
    which the target skill is learned or not depending on the training seed (and on the machine's float
    rounding); a final call this long learns it on every seed measured (benchmarks/README.md, "Why the
    demo's result moved"). Intermediate calls keep `min_steps`: they only find the next errors."""
    full_epochs: int = Field(default=30, ge=1)
    """LoRA epochs of the full-pool baseline, which also trains without base-skill replay. At the shared 10
    epochs the full pool under-trained the target skill (benchmarks/README.md): the target task is a small
    share of its samples, and a reference that has not converged would flatter every method measured
    against it. Replay is left out because the pool's own base-skill samples (42%) are three times what
    replay would add, and it would cost a third more steps."""
    workers: int = Field(default=2, ge=1)
    """Runs executed at once, each in its own process on one torch thread: a second thread inside one run
    of the tiny student gains little and is slower on a busy core (benchmarks/README.md); a second run uses
    the other core."""

    @field_validator("task")
    @classmethod
    def _known_task(cls, task: str) -> str:
        if task not in TASKS:
            raise ValueError(f"unknown task '{task}'; known: {', '.join(TASKS)}")
        return task


QUICK = DemoConfig(pool_size=1_500, val_size=200, test_size=300, base_size=300, budget=150, iterations=2)
"""`edtune demo --quick`: a smaller world and budget (10% of the pool again), for a first look."""


@dataclass(frozen=True)
class DemoOutcome:
    """Where the demo wrote its runs and report, and the table it printed."""

    out_dir: Path
    report: Path
    results: ReportResults
    table: str


def world_config(config: DemoConfig, seed: int) -> ShapesConfig:
    """The shapes world of one seed: only the target task's val/test sets are generated."""
    return ShapesConfig(seed=seed, pool_size=config.pool_size, val_size=config.val_size,
                        test_size=config.test_size, base_size=config.base_size, tasks=[config.task],
                        listing=config.listing)


def prepare_world(config: DemoConfig, seed: int, out: Path) -> Path:
    """Write the world of `seed` under `out`, or reuse one already written there with the same config."""
    return ensure_world(world_config(config, seed), out)


def _student_path(config: DemoConfig, student: Student | None) -> str:
    """The student path the run's config snapshot records (an object is recorded by its type name)."""
    if student is not None:
        return OBJECT_PREFIX + type(student).__name__
    if config.student == BUNDLED:
        return BUNDLED if config.listing == "names" else str(CHECKPOINT_FOR_LISTING[config.listing])
    return str(Path(config.student).resolve())


def training_settings(method: MethodName, min_steps: int, full_epochs: int,
                      final_min_steps: int | None = None) -> TrainingSettings:
    """The bundled benchmark's LoRA recipe: the loop's defaults with a floor of `min_steps` optimiser steps
    (`final_min_steps` for the final call); the full-pool reference trains `full_epochs` without replay
    (see `DemoConfig` for the reasons)."""
    if method == "full":
        return TrainingSettings(lora=LoraTrainConfig(min_steps=min_steps, epochs=full_epochs), replay_ratio=0.0,
                                final_min_steps=final_min_steps)
    return TrainingSettings(lora=LoraTrainConfig(min_steps=min_steps), final_min_steps=final_min_steps)


def run_config(config: DemoConfig, method: MethodName, seed: int, world: Path, teacher: str, *,
               student: Student | None = None) -> RunConfig:
    """The RunConfig of one demo run: the loop's defaults but for method, seed, budget and iterations."""
    task = config.task
    data = DataSettings(val=DataFile(path=world / f"{task}_val.jsonl"), pool=DataFile(path=world / "pool.jsonl"),
                        test=DataFile(path=world / f"{task}_test.jsonl"),
                        replay=DataFile(path=world / "base.jsonl") if config.base_size else None)
    training = training_settings(method, config.min_steps, config.full_epochs, config.final_min_steps)
    return RunConfig(method=method, seed=seed, budget=config.budget, iterations=config.iterations,
                     student=StudentSettings(path=_student_path(config, student)), data=data, training=training,
                     teacher=teacher if method not in ("random", "full") else None)


def same_but_address(recorded: RunConfig, wanted: RunConfig) -> bool:
    """Whether two run configs are equal but for the address in their teacher specs ("...@<url>"): a
    reference teacher's port is picked afresh on every call, while its model name says which it is."""
    def unaddressed(config: RunConfig) -> RunConfig:
        teacher = config.teacher.rsplit("@", 1)[0] if config.teacher is not None else None
        return config.model_copy(update={"teacher": teacher})

    return unaddressed(recorded) == unaddressed(wanted)


def reusable_run(run_dir: Path, wanted: RunConfig) -> bool:
    """Whether `run_dir` holds a finished run of the same config from an earlier demo (or bench) call (see
    `same_but_address`); False when it does not exist, or when it holds an unfinished one of the same config
    (an interrupted demo): that run's config is moved to this call's teacher address, so the job resumes it.
    ConfigError for any other content."""
    run = RunDir(run_dir)
    if not run_dir.exists():
        return False
    if run.exists() and same_but_address(recorded := run.read_config(), wanted):
        if run.state().stopped is not None:
            return True
        if recorded != wanted:
            with own_run_dir(run_dir):  # refused while another process still runs it
                atomic_write_json(run.config_path, wanted)
        return False
    raise ConfigError(f"{run_dir} holds a different demo run; delete it or choose another --out")


@dataclass(frozen=True)
class DemoJob:
    """One (seed, method) run still to do; picklable, so a worker process can run it."""

    seed: int
    method: MethodName
    run_dir: Path
    settings: RunConfig


def run_job(job: DemoJob, *, show_bars: bool = False, student: Student | None = None) -> tuple[float | None, int]:
    """Run one demo job to the end; returns (test accuracy, samples used). Top-level so workers can call it."""
    quiet_libraries(progress_bars=show_bars)
    data = job.settings.data
    result = adapt(student if student is not None else job.settings.student.path, data.val, data.pool,
                   teacher=job.settings.teacher, test=data.test, replay=data.replay, config=job.settings,
                   run_dir=job.run_dir, show_bars=show_bars)
    return result.test_accuracy, result.samples_used


def _plan_seed(config: DemoConfig, seed: int, out: Path, teacher: str, notify: Notify,
               student: StudentFactory | None) -> list[DemoJob]:
    """The seed's runs not already finished under `out` by an earlier call with the same settings."""
    world = out / "world"
    jobs = []
    for method in config.methods:
        probe = student() if student is not None else None
        run_dir, settings = out / method, run_config(config, method, seed, world, teacher, student=probe)
        if reusable_run(run_dir, settings):
            notify(f"seed {seed}: {method}: finished earlier in {run_dir}, reused")
            continue
        if RunDir(run_dir).exists():
            notify(f"seed {seed}: {method}: unfinished in {run_dir}, resumed where it stopped")
        jobs.append(DemoJob(seed, method, run_dir, settings))
    return jobs


def _finished(job: DemoJob, outcome: tuple[float | None, int], notify: Notify) -> None:
    accuracy = "-" if outcome[0] is None else f"{outcome[0]:.3f}"
    notify(f"seed {job.seed}: {job.method}: test accuracy {accuracy} with {outcome[1]} samples")


def _run_jobs(jobs: list[DemoJob], workers: int, *, show_bars: bool, notify: Notify,
              student: StudentFactory | None) -> None:
    """Run `jobs` in this process (one worker, or a student factory, which cannot cross processes), else in
    `workers` spawned processes, longest first: the full pool trains on the most samples, so it starts first."""
    if workers == 1 or student is not None:
        for job in jobs:
            notify(f"seed {job.seed}: {job.method} ...")
            _finished(job, run_job(job, show_bars=show_bars, student=student() if student else None), notify)
        return
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    ordered = sorted(jobs, key=lambda job: job.method != "full")
    notify(f"{len(ordered)} runs on {workers} worker processes (progress bars off; a line per finished stage)")
    watcher = StageWatcher({f"seed {job.seed}: {job.method}": job.run_dir for job in ordered}, notify)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pending = {pool.submit(run_job, job): job for job in ordered}
        while pending:
            done, _ = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
            watcher.poll()
            for future in done:
                job = pending.pop(future)
                failure = future.exception()
                if failure is not None:
                    for other in pending:
                        other.cancel()
                    raise failure
                _finished(job, future.result(), notify)


def run_demo(config: DemoConfig, out_dir: str | Path, *, show_bars: bool = True, notify: Notify = lambda line: None,
             student: StudentFactory | None = None) -> DemoOutcome:
    """Run every seed and method under `out_dir` (seed<N>/world, seed<N>/<method>), then build the report
    there. Finished runs from an earlier call with the same settings are reused. `student`, when given,
    builds a fresh student object per run instead of loading `config.student` (tests use a fake)."""
    from edtune.bench.reference import labelled_settings, reference_teacher

    out = Path(out_dir)
    with ExitStack() as servers:
        jobs: list[DemoJob] = []
        for seed in config.seeds:
            world = prepare_world(config, seed, out / f"seed{seed}" / "world")
            settings = labelled_settings(config.teacher_error_rate, seed)
            server = servers.enter_context(reference_teacher(world, settings=settings))
            teacher = f"openai-compatible/{server.model}@{server.base_url}"
            jobs += _plan_seed(config, seed, out / f"seed{seed}", teacher, notify, student)
        _run_jobs(jobs, config.workers, show_bars=show_bars, notify=notify, student=student)
    report, results = write_report([out / f"seed{seed}" for seed in config.seeds], out)
    return DemoOutcome(out_dir=out, report=report, results=results, table=format_table(results))
