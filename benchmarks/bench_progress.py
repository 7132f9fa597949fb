"""PROGRESS vs random vs the full pool on the bundled shapes benchmark, as the paper's Rel. % (issue 6).

For each seed: the shapes world of `edtune demo` (sizes from --pool-size etc. below), then
the bundled tiny student adapted through the ordinary loop API by each of `--methods`, in its own run folder:
    random    one iteration, `--share` of the pool drawn uniformly;
    progress  warm-up + relative-improvement rounds, the same number of samples, each round's per-cluster
              accuracy measured on annotated samples the students trained on (the paper);
    progress_held_out  the same, measured on annotated samples held out of training until the final
              iteration (`eval_samples = "held_out"`);
    progress_loss_held_out  the same, tracking the mean loss of the gold answer instead of judged accuracy;
    progress_loss_size  the same, each cluster's quota also weighed by its samples left (`cluster_prior`);
    progress_run, progress_loss_size_run  progress and progress_loss_size trained as the authors' scripts
              train: one adapter continued on each round's new samples along one LR curve for the whole
              run (`training.schedule = "run"`), as many steps in all as random's single call;
    el2n, perplexity  one iteration, the budget's worth of pool samples ranked by the pretrained student's
              EL2N (highest) or perplexity (middle) on their gold targets: the paper's score baselines, which
              read every pool label;
    error_driven, skill_progress  the teacher methods (arXiv 2412.15652, and PROGRESS's rounds over the
              skills the teacher names), with the bundled reference teacher of each seed's world (a perfect
              one by default, `--teacher-error-rate`): `--rounds` + 1 iterations of equal budget, errors
              mined on every target task's validation split, and `retrieval.top_k` raised to one
              iteration's budget so that one skill may take a whole iteration, as a PROGRESS cluster may;
    full      every pool sample (the reference);
    oracle    (with `--methods ... oracle`) random at the same budget from only the pool families the test
              asks about: what a selector that knew the test could reach. It reads the test, so it is a
              ceiling for reading the table, not a method.
By default the world carries every target task and the test set is all their test splits together (the
paper scores PROGRESS on a broad suite, not on one task); `--tasks counting` scores one task.
`--listing attributes` makes every rationale's opening step name each object's size and cell, and adapts
the shipped student pretrained to write that listing (`tiny_checkpoint_attributes`) instead of the bundled
one: a student that can learn more of the tested families from pool data (see bench_learning_curve).
Rel. % of a method = mean over seeds of (method's final test accuracy / full's). Nothing is tuned to a
method: every run uses the loop's default training settings but for the demo's step floor
(`--min-steps`, the same for every method) and a full-pool reference trained to convergence
(`--full-epochs`, without replay, as `edtune demo`'s). The floor leaves a 20% subset at 1,620 steps against
the full pool's 7,500; `--min-steps 7500` trains every call as long as the full reference (each run line
prints its optimiser steps); `--final-min-steps 7500` does so for each run's final call only, so that a
PROGRESS run's intermediate students, which only measure improvement, keep the floor. Prints one line per
run, the table, a per-family table (test accuracy and samples picked), and the machine's load average
before and after (the machine is shared; wall times depend on it). A run folder holding a finished run of
the same config is reused (for the teacher methods: of the same config but for the teacher's address, whose
port is picked afresh; the served model name records the teacher's error rate and seed), one holding
another config is refused.

    .venv/bin/python benchmarks/bench_progress.py --out /tmp/progress-bench --seeds 0 1 2   # ~40 min per seed on 1 core
"""

from __future__ import annotations

import argparse
import json
import os
import time
from contextlib import ExitStack
from pathlib import Path

from edtune.bench.reference import labelled_settings, reference_teacher
from edtune.bench.shapes import ShapesConfig
from edtune.bench.shapes.families import FAMILIES, TASKS
from edtune.bench.shapes.io import ensure_world
from edtune.demo import reusable_run, training_settings
from edtune.jsonl import atomic_write_text
from edtune.loop import AdaptResult, resume, run_config
from edtune.loop.config import (
    BUNDLED,
    DataFile,
    DataSettings,
    MethodName,
    RetrievalSettings,
    RunConfig,
    StudentSettings,
    TrainingSettings,
)
from edtune.loop.metrics import IterationMetrics
from edtune.methods.progress.settings import ProgressSettings
from edtune.student.bundled import CHECKPOINT_FOR_LISTING


def write_lines(path: Path, lines: list[str]) -> None:
    """Write `lines` to `path` atomically, and only when its content differs: several bench processes may
    share a world folder and read the file meanwhile."""
    text = "\n".join(lines) + "\n"
    if not path.is_file() or path.read_text() != text:
        atomic_write_text(path, text)


def prepare(config: ShapesConfig, out: Path) -> Path:
    """Write the world (reusing one made with the same config; refusing one made with another),
    `bench_test.jsonl` (every task's test split) and
    `bench_val.jsonl` (every task's validation split, where the teacher methods mine errors)."""
    ensure_world(config, out)
    for split in ("test", "val"):
        lines = [line for task in config.tasks for line in (out / f"{task}_{split}.jsonl").read_text().splitlines()]
        write_lines(out / f"bench_{split}.jsonl", lines)
    return out


PROGRESS_VARIANTS: dict[str, dict[str, str]] = {
    "progress": {},
    "progress_held_out": {"eval_samples": "held_out"},
    "progress_loss_held_out": {"eval_samples": "held_out", "metric": "loss"},
    "progress_loss_size": {"eval_samples": "held_out", "metric": "loss", "cluster_prior": "size"},
    "progress_run": {},
    "progress_loss_size_run": {"eval_samples": "held_out", "metric": "loss", "cluster_prior": "size"},
}
"""Bench name -> the `[progress]` settings it changes; each is a run of the loop method "progress"."""
RUN_CURVE = {"schedule": "run", "adapter": "continue", "data": "new"}
TRAINING_VARIANTS: dict[str, dict[str, str]] = {"progress_run": RUN_CURVE, "progress_loss_size_run": RUN_CURVE}
"""Bench name -> the `[training]` settings it changes."""
LOOP_METHOD: dict[str, MethodName] = {"random": "random", **dict.fromkeys(PROGRESS_VARIANTS, "progress"),
                                      "el2n": "el2n", "perplexity": "perplexity", "full": "full", "oracle": "random",
                                      "error_driven": "error_driven", "skill_progress": "skill_progress"}
"""Bench name -> the loop method it runs (the oracle is random over another pool file)."""
BENCH_METHODS = tuple(LOOP_METHOD)
TEACHER_METHODS = ("error_driven", "skill_progress")


def oracle_pool(world: Path, tasks: list[str]) -> Path:
    """`pool_oracle.jsonl` beside the pool: only the samples of the families that `tasks` are made of."""
    families = {family for task in tasks for family in TASKS[task]}
    lines = [line for line in (world / "pool.jsonl").read_text().splitlines()
             if json.loads(line)["metadata"]["skill"] in families]
    write_lines(world / "pool_oracle.jsonl", lines)
    return world / "pool_oracle.jsonl"


def config_for(method: str, seed: int, world: Path, budget: int, progress: ProgressSettings,
               val_task: str, min_steps: int, full_epochs: int, pool: Path | None = None,
               teacher: str | None = None, rounds: int = 3, student: str = BUNDLED,
               final_min_steps: int | None = None) -> RunConfig:
    """The run config of one bench run; `oracle` is a random run over the `pool` file given. The teacher
    methods take the `teacher` spec and validate on every task (`bench_val.jsonl`); the other methods keep
    the first task's split, which they never select by, so earlier bench folders stay reusable."""
    loop_method = LOOP_METHOD[method]
    progress = progress.model_copy(update=PROGRESS_VARIANTS.get(method, {}))
    if method in TEACHER_METHODS:
        iterations = rounds + 1
        retrieval = RetrievalSettings(top_k=-(-budget // iterations))
        val = world / "bench_val.jsonl"
    else:
        iterations, retrieval, val = 1, RetrievalSettings(), world / f"{val_task}_val.jsonl"
    data = DataSettings(val=DataFile(path=val),
                        pool=DataFile(path=pool or world / "pool.jsonl"),
                        test=DataFile(path=world / "bench_test.jsonl"), replay=DataFile(path=world / "base.jsonl"))
    training = training_settings(loop_method, min_steps, full_epochs)
    training = TrainingSettings.model_validate({**training.model_dump(), **TRAINING_VARIANTS.get(method, {}),
                                                "final_min_steps": final_min_steps})
    return RunConfig(method=loop_method, seed=seed, budget=budget, iterations=iterations, data=data,
                     progress=progress, training=training, retrieval=retrieval, teacher=teacher,
                     student=StudentSettings(path=student))


def run_bench(config: RunConfig, run_dir: Path) -> AdaptResult:
    """Run (or reuse) one bench run. A teacher method's finished run is reused by the demo's rule
    (`reusable_run`: the same config but for the teacher's address); an unfinished or different one is
    refused there, since its config names another address."""
    if config.teacher is not None and reusable_run(run_dir, config):
        return resume(run_dir, show_bars=False)
    return run_config(config, run_dir, show_bars=False)


def progress_settings(budget: int, pool: int, rounds: int) -> ProgressSettings:
    """Warm-up clusters at the paper's ~133 pool samples each (665K / 5000); tracking clusters at ~333 each,
    half the paper's 665 so that the world's 11 question families can each get one; warm-up 9% of the
    budget, the rest in `rounds` equal rounds."""
    warmup = round(0.09 * budget)
    k_tracking = max(2, pool // 333)
    return ProgressSettings(k_tracking=k_tracking, k_warmup=max(k_tracking, pool // 133),
                            round_size=-(-(budget - warmup) // rounds), eval_per_cluster=20)


def task_accuracies(iteration: IterationMetrics, tasks: list[str]) -> dict[str, float]:
    """Test accuracy per target task: the mean over its question families (equal-sized in the test set)."""
    accuracy = {family: summary.accuracy or 0.0 for family, summary in iteration.test_by_family.items()}
    return {task: sum(accuracy.get(f, 0.0) for f in TASKS[task]) / len(TASKS[task]) for task in tasks}


def family_picks(iterations: list[IterationMetrics]) -> dict[str, int]:
    """Selected samples per question family over all iterations of one run."""
    picks: dict[str, int] = {}
    for iteration in iterations:
        for family, n in iteration.selected_families.items():
            picks[family] = picks.get(family, 0) + n
    return picks


def on_test_share(iterations: list[IterationMetrics], tasks: list[str]) -> float:
    """Share of the selected samples whose question family the test asks about (the pool's is ~0.36)."""
    families = {family for task in tasks for family in TASKS[task]}
    picks = family_picks(iterations)
    total = sum(picks.values())
    return sum(n for family, n in picks.items() if family in families) / total if total else 0.0


def optimiser_steps(iterations: list[IterationMetrics]) -> tuple[int, int]:
    """(steps over all training calls of one run, steps of its final call): a 20% subset trained fewer steps
    than the full-pool reference may be behind it for the steps, not for the samples."""
    steps = [iteration.train.steps for iteration in iterations if iteration.train is not None]
    return sum(steps), steps[-1] if steps else 0


def family_cell(runs: list[list[IterationMetrics]], family: str) -> str:
    """"mean final test accuracy / mean picks" of one family over one method's runs ("-" if never tested)."""
    finals = [run[-1].test_by_family.get(family) for run in runs]
    accuracies = [summary.accuracy or 0.0 for summary in finals if summary is not None]
    picks = sum(family_picks(run).get(family, 0) for run in runs) / len(runs)
    accuracy = f"{sum(accuracies) / len(accuracies):.2f}" if accuracies else "   -"
    return f"{accuracy} / {picks:6.0f}"


def print_families(runs: dict[str, list[list[IterationMetrics]]], families: list[str]) -> None:
    """Per question family and method, mean over seeds of final test accuracy / samples picked: where the
    methods' accuracies part, the picks show whether a selection starved that family."""
    print("family                  " + "".join(f"{m[:22]:>24s}" for m in runs) + "   (test accuracy / picks)")
    for family in families:
        print(f"{family:24s}" + "".join(f"{family_cell(method_runs, family):>24s}" for method_runs in runs.values()))


def print_table(results: dict[str, list[float]], by_task: dict[str, list[dict[str, float]]]) -> None:
    """Mean test accuracy and Rel. % per method: of the whole test set, and the paper's way (the mean over
    tasks of method / full, a benchmark per task), each averaged over seeds."""
    full, full_tasks = results.get("full"), by_task.get("full")
    for method, accs in results.items():
        ratios = [a / f if f else float("nan") for a, f in zip(accs, full or [0.0] * len(accs), strict=True)]
        per_task = [sum(t[k] / f[k] if f[k] else float("nan") for k in t) / len(t) if f else float("nan")
                    for t, f in zip(by_task[method], full_tasks or [{}] * len(accs), strict=True)]
        tasks = {k: round(sum(t[k] for t in by_task[method]) / len(accs), 3) for k in by_task[method][0]}
        print(f"{method:17s} mean test {sum(accs) / len(accs):.3f}  Rel. % {100 * sum(ratios) / len(ratios):.1f}  "
              f"Rel. % per task {100 * sum(per_task) / len(per_task):.1f}  per seed {[round(a, 3) for a in accs]}  "
              f"per task {tasks}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--pool-size", type=int, default=20_000, help="the shapes world's default pool")
    parser.add_argument("--val-size", type=int, default=200)
    parser.add_argument("--test-size", type=int, default=300)
    parser.add_argument("--base-size", type=int, default=300)
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--min-steps", type=int, default=1500,
                        help="LoRA step floor per training call (0: plain 10 epochs); 600 in `edtune demo`")
    parser.add_argument("--final-min-steps", type=int, default=None,
                        help="step floor of each run's final training call only (training.final_min_steps); "
                             "not for the one-curve variants (*_run), whose curve follows --min-steps")
    parser.add_argument("--full-epochs", type=int, default=12,
                        help="epochs of the full-pool reference, trained without replay as in `edtune demo`")
    parser.add_argument("--teacher-error-rate", type=float, default=0.0,
                        help="share of the reference teacher's replies made wrong on purpose (teacher methods)")
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), help="target tasks whose test splits are scored")
    parser.add_argument("--listing", choices=list(CHECKPOINT_FOR_LISTING), default="names",
                        help="the world's listing style, and with it the shipped student pretrained to write it")
    parser.add_argument("--methods", nargs="+", choices=BENCH_METHODS, default=["random", "progress", "full", "oracle"],
                        help="runs per seed (module docstring); the table's ratios need full")
    args = parser.parse_args()
    if args.final_min_steps is not None and set(args.methods) & set(TRAINING_VARIANTS):
        parser.error("--final-min-steps does not apply to the one-curve variants: " +
                     ", ".join(sorted(set(args.methods) & set(TRAINING_VARIANTS))))
    return args


def run_method(args: argparse.Namespace, method: str, seed: int, world: Path, settings: ProgressSettings,
               student: str) -> AdaptResult:
    """One bench run in `out/seedN/method`, with the reference teacher served while it runs when it needs one."""
    budget = round(args.share * args.pool_size)
    pool = oracle_pool(world, args.tasks) if method == "oracle" else None
    with ExitStack() as stack:
        teacher = None
        if method in TEACHER_METHODS:
            labelled = labelled_settings(args.teacher_error_rate, seed)
            server = stack.enter_context(reference_teacher(world, settings=labelled))
            teacher = f"openai-compatible/{server.model}@{server.base_url}"
        return run_bench(config_for(method, seed, world, budget, settings, args.tasks[0], args.min_steps,
                                    args.full_epochs, pool, teacher, args.rounds, student, args.final_min_steps),
                         args.out / f"seed{seed}" / method)


def main() -> None:
    args = parse_args()
    budget = round(args.share * args.pool_size)
    # The names student keeps the "bundled" spelling, so run folders of earlier sessions stay reusable.
    student = BUNDLED if args.listing == "names" else str(CHECKPOINT_FOR_LISTING[args.listing])
    settings = progress_settings(budget, args.pool_size, args.rounds)
    print(f"load average before: {os.getloadavg()}; budget {budget}; progress {settings.model_dump()}")
    results: dict[str, list[float]] = {}
    by_task: dict[str, list[dict[str, float]]] = {}
    runs: dict[str, list[list[IterationMetrics]]] = {}
    for seed in args.seeds:
        world = prepare(ShapesConfig(seed=seed, pool_size=args.pool_size, val_size=args.val_size,
                                     test_size=args.test_size, base_size=args.base_size, tasks=args.tasks,
                                     listing=args.listing),
                        args.out / f"seed{seed}" / "world")
        for method in args.methods:
            started = time.perf_counter()
            result = run_method(args, method, seed, world, settings, student)
            accuracy = result.test_accuracy or 0.0
            results.setdefault(method, []).append(accuracy)
            by_task.setdefault(method, []).append(task_accuracies(result.metrics.iterations[-1], args.tasks))
            runs.setdefault(method, []).append(result.metrics.iterations)
            total_steps, final_steps = optimiser_steps(result.metrics.iterations)
            print(f"seed {seed} {method:9s} test {accuracy:.3f}  samples {result.samples_used}  "
                  f"on-test share {on_test_share(result.metrics.iterations, args.tasks):.2f}  "
                  f"iterations {len(result.metrics.iterations) - 1}  steps {total_steps} (final call {final_steps})  "
                  f"wall {time.perf_counter() - started:.0f} s",
                  flush=True)
    print_table(results, by_task)
    print_families(runs, sorted(FAMILIES))
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
