"""Learning curve of the bundled tiny student: target-task accuracy against samples and optimiser steps.

    .venv/bin/python benchmarks/bench_learning_curve.py [--task counting] [--sizes 100 200 400 800]
        [--min-steps 0 600] [--seeds 0] [--families F ...] [--lora language|projector|vision] [--out curve.jsonl]

For every (size, min_steps, training seed): a fresh LoRA adapter on the first `size` pool samples of the
task (its families mixed as in the pool) plus size/2 base-skill replay, with the default `LoraTrainConfig`
but for `min_steps` (0 = the plain 10 epochs). Scored by exact match on 150 held-out samples per target
family and per base family (base skills show what the training costs the student). Prints one JSON line
per run, then a table whose last column is each run's task accuracy over the best in its size row, so the
effect of the step floor reads side by side. This is the measurement behind the demo's `min_steps`.

`--families` trains and scores those question families instead of a task's (any family, distractors
included; `size` samples of each), and `--lora` widens the adapted modules from the language model alone
(the default) to the projector too, or to the vision tower and projector as well: together they ask
whether a family is out of the student's reach or only short of data. `--listing attributes` runs the
same on a world whose listing step names each object's size and cell, with the student pretrained to
write it.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from edtune.bench.shapes.families import BASE_FAMILIES, FAMILIES, TASKS
from edtune.bench.shapes.render import render_images
from edtune.bench.shapes.world import ShapesConfig, generate_samples, generate_world
from edtune.records import Sample
from edtune.student.base import LoraTrainConfig
from edtune.student.bundled import CHECKPOINT_FOR_LISTING
from edtune.student.evaluate import accuracy_by, exact_matches
from edtune.student.hf import HFStudent

PER_FAMILY = 150


# Every linear layer of the tiny student, vision tower included ("vision" below): its CLIP layers name
# theirs out_proj / fc1 / fc2.
_ALL_LINEAR = r"\.(q_proj|k_proj|v_proj|o_proj|out_proj|fc1|fc2|gate_proj|up_proj|down_proj)$"
LORA_TARGETS: dict[str, dict[str, object]] = {
    "language": {},
    "projector": {"include_projector": True},
    "vision": {"include_projector": True, "target_pattern": _ALL_LINEAR, "exclude_pattern": r"^$"},
}
"""--lora choice -> the LoraTrainConfig fields it changes."""


def held_out(families: list[str], config: ShapesConfig) -> list[Sample]:
    """PER_FAMILY samples of each of `families` and every base family, under split names no pool uses."""
    samples: list[Sample] = []
    for family in dict.fromkeys((*families, *BASE_FAMILIES)):
        samples += generate_samples({family: 1.0}, PER_FAMILY, split=f"curve-{family}", config=config)
    return samples


def training_samples(pool: list[Sample], families: list[str], size: int, per_family: bool) -> list[Sample]:
    """The first `size` pool samples of `families` in pool order, or (`per_family`) the first `size` of each."""
    if not per_family:
        return [s for s in pool if s.metadata["skill"] in families][:size]
    return [s for family in families for s in [s for s in pool if s.metadata["skill"] == family][:size]]


def one_run(student: HFStudent, train: list[Sample], replay: list[Sample], test: list[Sample], root: Path,
            min_steps: int, seed: int, lora: str) -> dict[str, object]:
    """Train a fresh adapter and score it; returns the run's JSON record."""
    student.reset_adapter()
    started = time.perf_counter()
    config = LoraTrainConfig.model_validate({"print_targets": False, "min_steps": min_steps, **LORA_TARGETS[lora]})
    stats = student.train(train, root, config, seed=seed, replay=replay)
    table = accuracy_by(test, exact_matches(test, student.answer(test, root)))
    accuracy = {family: round(hits / total, 3) for family, (hits, total) in table.items()}
    return {"samples": len(train), "lora": lora, "min_steps": min_steps, "seed": seed, "steps": stats.steps,
            "epochs": stats.epochs, "wall_s": round(time.perf_counter() - started, 1),
            "final_loss": round(stats.epoch_losses[-1], 3), "accuracy": accuracy}


def task_accuracy(record: dict[str, object], families: list[str]) -> float:
    accuracy = record["accuracy"]
    assert isinstance(accuracy, dict)
    return sum(accuracy[family] for family in families) / len(families)


def print_table(records: list[dict[str, object]], trained: list[str], label: str) -> None:
    families = list(dict.fromkeys((*trained, *BASE_FAMILIES)))
    print("\n| samples | lora | min_steps | seed | steps | " + " | ".join(families) + f" | {label} | / best of row |")
    print("|" + "---|" * (len(families) + 7))
    for record in records:
        accuracy = record["accuracy"]
        assert isinstance(accuracy, dict)
        row = [r for r in records if r["samples"] == record["samples"]]
        best = max(task_accuracy(r, trained) for r in row) or 1.0
        mine = task_accuracy(record, trained)
        cells = [str(record[k]) for k in ("samples", "lora", "min_steps", "seed", "steps")]
        cells += [f"{accuracy[f]:.3f}" for f in families] + [f"{mine:.3f}", f"{mine / best:.2f}"]
        print("| " + " | ".join(cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="counting", choices=list(TASKS))
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 400, 800])
    parser.add_argument("--min-steps", type=int, nargs="+", default=[0, 600])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--families", nargs="+", choices=list(FAMILIES),
                        help="train and score these question families (size samples of each) instead of --task's")
    parser.add_argument("--lora", nargs="+", choices=list(LORA_TARGETS), default=["language"],
                        help="modules adapted: the language model, + the projector, + the vision tower")
    parser.add_argument("--world-seed", type=int, default=0)
    parser.add_argument("--listing", choices=list(CHECKPOINT_FOR_LISTING), default="names",
                        help="the world's listing style, and with it the shipped student pretrained to write it")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"load average at start: {os.getloadavg()}")
    world = generate_world(ShapesConfig(seed=args.world_seed, listing=args.listing))
    families = args.families or list(TASKS[args.task])
    trains = {size: training_samples(world.pool, families, size, per_family=bool(args.families))
              for size in args.sizes}
    test = held_out(families, world.config)
    student = HFStudent.from_pretrained(CHECKPOINT_FOR_LISTING[args.listing])
    records: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="edtune-curve-") as tmp:
        root = Path(tmp)
        render_images(trains[max(args.sizes)] + world.base[:len(trains[max(args.sizes)]) // 2] + test, root)
        for train in trains.values():
            for lora in args.lora:
                for min_steps in args.min_steps:
                    for seed in args.seeds:
                        records.append(one_run(student, train, world.base[:len(train) // 2], test, root, min_steps,
                                               seed, lora))
                        print(json.dumps(records[-1]), flush=True)
    print_table(records, families, args.task if not args.families else "trained families")
    print(f"load average at end: {os.getloadavg()}")
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in records))


if __name__ == "__main__":
    main()
