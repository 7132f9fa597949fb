"""Learning curve of the bundled tiny student: target-task accuracy against samples and optimiser steps.

    .venv/bin/python benchmarks/bench_learning_curve.py [--task counting] [--sizes 100 200 400 800]
        [--min-steps 0 600] [--seeds 0] [--out curve.jsonl]

For every (size, min_steps, training seed): a fresh LoRA adapter on the first `size` pool samples of the
task (its families mixed as in the pool) plus size/2 base-skill replay, with the default `LoraTrainConfig`
but for `min_steps` (0 = the plain 10 epochs). Scored by exact match on 150 held-out samples per target
family and per base family (base skills show what the training costs the student). Prints one JSON line
per run, then a table whose last column is each run's task accuracy over the best in its size row, so the
effect of the step floor reads side by side. This is the measurement behind the demo's `min_steps`.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from edtune.bench.shapes.families import BASE_FAMILIES, TASKS
from edtune.bench.shapes.world import ShapesConfig, generate_samples, generate_world
from edtune.records import Sample
from edtune.student.base import LoraTrainConfig
from edtune.student.bundled import TINY_CHECKPOINT
from edtune.student.evaluate import accuracy_by, exact_matches
from edtune.student.hf import HFStudent
from edtune.student.pretrain import render_images

PER_FAMILY = 150


def held_out(task: str, config: ShapesConfig) -> list[Sample]:
    """PER_FAMILY samples of every family of `task` and every base family, under split names no pool uses."""
    samples: list[Sample] = []
    for family in (*TASKS[task], *BASE_FAMILIES):
        samples += generate_samples({family: 1.0}, PER_FAMILY, split=f"curve-{family}", config=config)
    return samples


def one_run(student: HFStudent, train: list[Sample], replay: list[Sample], test: list[Sample], root: Path,
            min_steps: int, seed: int) -> dict[str, object]:
    """Train a fresh adapter and score it; returns the run's JSON record."""
    student.reset_adapter()
    started = time.perf_counter()
    stats = student.train(train, root, LoraTrainConfig(print_targets=False, min_steps=min_steps), seed=seed,
                          replay=replay)
    table = accuracy_by(test, exact_matches(test, student.answer(test, root)))
    accuracy = {family: round(hits / total, 3) for family, (hits, total) in table.items()}
    return {"samples": len(train), "min_steps": min_steps, "seed": seed, "steps": stats.steps,
            "epochs": stats.epochs, "wall_s": round(time.perf_counter() - started, 1),
            "final_loss": round(stats.epoch_losses[-1], 3), "accuracy": accuracy}


def task_accuracy(record: dict[str, object], task: str) -> float:
    accuracy = record["accuracy"]
    assert isinstance(accuracy, dict)
    return sum(accuracy[family] for family in TASKS[task]) / len(TASKS[task])


def print_table(records: list[dict[str, object]], task: str) -> None:
    families = [*TASKS[task], *BASE_FAMILIES]
    print("\n| samples | min_steps | seed | steps | " + " | ".join(families) + f" | {task} | / best of row |")
    print("|" + "---|" * (len(families) + 6))
    for record in records:
        accuracy = record["accuracy"]
        assert isinstance(accuracy, dict)
        row = [r for r in records if r["samples"] == record["samples"]]
        best = max(task_accuracy(r, task) for r in row) or 1.0
        mine = task_accuracy(record, task)
        cells = [str(record[k]) for k in ("samples", "min_steps", "seed", "steps")]
        cells += [f"{accuracy[f]:.3f}" for f in families] + [f"{mine:.3f}", f"{mine / best:.2f}"]
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="counting", choices=list(TASKS))
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 400, 800])
    parser.add_argument("--min-steps", type=int, nargs="+", default=[0, 600])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--world-seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"load average at start: {os.getloadavg()}")
    world = generate_world(ShapesConfig(seed=args.world_seed))
    pool = [s for s in world.pool if s.metadata["task"] == args.task]
    test = held_out(args.task, world.config)
    student = HFStudent.from_pretrained(TINY_CHECKPOINT)
    records: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="edtune-curve-") as tmp:
        root = Path(tmp)
        render_images(pool[:max(args.sizes)] + world.base[:max(args.sizes) // 2] + test, root)
        for size in args.sizes:
            for min_steps in args.min_steps:
                for seed in args.seeds:
                    records.append(one_run(student, pool[:size], world.base[:size // 2], test, root, min_steps, seed))
                    print(json.dumps(records[-1]), flush=True)
    print_table(records, args.task)
    print(f"load average at end: {os.getloadavg()}")
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in records))


if __name__ == "__main__":
    main()
