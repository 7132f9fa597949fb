"""PROGRESS vs random vs the full pool on the bundled shapes benchmark, as the paper's Rel. % (issue 6).

For each seed: the shapes world of `edtune demo` (target task counting; --pool-size etc. as below), then
the bundled tiny student adapted by three runs through the ordinary loop API, each in its own run folder:
    random    one iteration, `--share` of the pool drawn uniformly;
    progress  warm-up + relative-improvement rounds, the same number of samples;
    full      every pool sample (the reference).
With `--tasks counting spatial size` the world carries every target task and the test set is all their test
splits together (the paper scores PROGRESS on a broad suite, not on one task); the default is counting only.
Rel. % of a method = mean over seeds of (method's final test accuracy / full's). Nothing is tuned to a
method: every run uses the loop's default training settings but for the demo's step floor
(`--min-steps`, the same for every method) and a full-pool reference trained to convergence
(`--full-epochs`, without replay, as `edtune demo`'s). Prints one line per run and the table, and
the machine's load average before and after (the machine is shared; wall times depend on it).

    .venv/bin/python benchmarks/bench_progress.py --out /tmp/progress-bench --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from edtune.bench.shapes import ShapesConfig, generate_world, write_world
from edtune.bench.shapes.io import MANIFEST
from edtune.demo import training_settings
from edtune.loop import run_config
from edtune.loop.config import DataFile, DataSettings, MethodName, RunConfig
from edtune.loop.progress_config import ProgressSettings


def prepare(config: ShapesConfig, out: Path) -> Path:
    """Write the world (reusing one already there) and `bench_test.jsonl`: every task's test split."""
    if not (out / MANIFEST).is_file():
        write_world(generate_world(config), out)
    lines = [line for task in config.tasks for line in (out / f"{task}_test.jsonl").read_text().splitlines()]
    (out / "bench_test.jsonl").write_text("\n".join(lines) + "\n")
    return out


def config_for(method: MethodName, seed: int, world: Path, budget: int, progress: ProgressSettings,
               val_task: str, min_steps: int, full_epochs: int) -> RunConfig:
    data = DataSettings(val=DataFile(path=world / f"{val_task}_val.jsonl"), pool=DataFile(path=world / "pool.jsonl"),
                        test=DataFile(path=world / "bench_test.jsonl"), replay=DataFile(path=world / "base.jsonl"))
    return RunConfig(method=method, seed=seed, budget=budget, iterations=1, data=data, progress=progress,
                     training=training_settings(method, min_steps, full_epochs))


def progress_settings(budget: int, pool: int, rounds: int) -> ProgressSettings:
    """Cluster counts scaled from the paper's 665K / 1000 / 5000 to about 100 and 25 samples per cluster;
    warm-up 9% of the budget, the rest in `rounds` equal rounds."""
    warmup = round(0.09 * budget)
    return ProgressSettings(k_tracking=max(2, pool // 100), k_warmup=max(4, pool // 25),
                            round_size=-(-(budget - warmup) // rounds), eval_per_cluster=20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--pool-size", type=int, default=1500)
    parser.add_argument("--val-size", type=int, default=200)
    parser.add_argument("--test-size", type=int, default=300)
    parser.add_argument("--base-size", type=int, default=300)
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--min-steps", type=int, default=600,
                        help="LoRA step floor per training call, as in `edtune demo` (0: plain 10 epochs)")
    parser.add_argument("--full-epochs", type=int, default=30,
                        help="epochs of the full-pool reference, trained without replay as in `edtune demo`")
    parser.add_argument("--tasks", nargs="+", default=["counting"], help="target tasks whose test splits are scored")
    args = parser.parse_args()
    budget = round(args.share * args.pool_size)
    settings = progress_settings(budget, args.pool_size, args.rounds)
    print(f"load average before: {os.getloadavg()}; budget {budget}; progress {settings.model_dump()}")
    results: dict[str, list[float]] = {}
    for seed in args.seeds:
        world = prepare(ShapesConfig(seed=seed, pool_size=args.pool_size, val_size=args.val_size,
                                     test_size=args.test_size, base_size=args.base_size, tasks=args.tasks),
                        args.out / f"seed{seed}" / "world")
        for method in ("random", "progress", "full"):
            started = time.perf_counter()
            result = run_config(config_for(method, seed, world, budget, settings, args.tasks[0], args.min_steps,
                                           args.full_epochs),
                                args.out / f"seed{seed}" / method, progress=False)
            accuracy = result.test_accuracy or 0.0
            results.setdefault(method, []).append(accuracy)
            print(f"seed {seed} {method:9s} test {accuracy:.3f}  samples {result.samples_used}  "
                  f"iterations {len(result.metrics.iterations) - 1}  wall {time.perf_counter() - started:.0f} s",
                  flush=True)
    full = results["full"]
    for method, accs in results.items():
        ratios = [a / f if f else float("nan") for a, f in zip(accs, full, strict=True)]
        print(f"{method:9s} mean test {sum(accs) / len(accs):.3f}  Rel. % {100 * sum(ratios) / len(ratios):.1f}  "
              f"per seed {[round(a, 3) for a in accs]}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
