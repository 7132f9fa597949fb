"""Measure the bundled tiny student: per-skill accuracy, answering throughput, and LoRA on one missing skill.

    .venv/bin/python benchmarks/student_measure.py [--checkpoint DIR] [--per-skill 200] [--task counting]
        [--lora-samples 500] [--replay 250] [--out results.json]

Accuracy is exact match of the parsed answer against `Sample.answer` (lower-cased, trimmed) on held-out
samples of every question family of the shapes world (drawn under split names no training set uses, and
filtered against the LoRA training samples). LoRA trains on the task's samples from the world's pool plus
base-skill replay from the world's base split, with the default `LoraTrainConfig`.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

from edtune.bench.shapes.families import FAMILIES, TASKS
from edtune.bench.shapes.render import render_images
from edtune.bench.shapes.world import ShapesConfig, generate_samples, generate_world
from edtune.records import Sample
from edtune.student.base import LoraTrainConfig
from edtune.student.bundled import TINY_CHECKPOINT
from edtune.student.evaluate import accuracy_by, exact_matches
from edtune.student.hf import HFStudent


def _key(sample: Sample) -> str:
    return json.dumps([sample.question, sample.metadata.get("scene")], sort_keys=True)


def held_out(per_family: int, config: ShapesConfig, exclude: set[str]) -> list[Sample]:
    """`per_family` samples of every family, none equal (scene + question) to an excluded one."""
    samples = []
    for family in FAMILIES:
        drawn = generate_samples({family: 1.0}, per_family, split=f"heldout-{family}", config=config)
        samples += [s for s in drawn if _key(s) not in exclude]
    return samples


def score(student: HFStudent, samples: list[Sample], root: Path) -> dict[str, float]:
    outputs = student.answer(samples, root, batch_size=64)
    table = accuracy_by(samples, exact_matches(samples, outputs))
    return {skill: round(hits / total, 3) for skill, (hits, total) in table.items()}


def throughput(student: HFStudent, samples: list[Sample], root: Path, batch_size: int) -> float:
    student.answer(samples[:batch_size], root, batch_size=batch_size)  # warm-up
    started = time.perf_counter()
    student.answer(samples, root, batch_size=batch_size)
    return len(samples) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, default=TINY_CHECKPOINT)
    parser.add_argument("--world-seed", type=int, default=0)
    parser.add_argument("--per-skill", type=int, default=200)
    parser.add_argument("--task", default="counting", choices=list(TASKS))
    parser.add_argument("--lora-samples", type=int, default=500)
    parser.add_argument("--replay", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-lora", action="store_true", help="only accuracy and throughput")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(1)

    world = generate_world(ShapesConfig(seed=args.world_seed))
    train = [s for s in world.pool if s.metadata["task"] == args.task][:args.lora_samples]
    replay = world.base[:args.replay]
    evaluation = held_out(args.per_skill, world.config, {_key(s) for s in train + replay})
    student = HFStudent.from_pretrained(args.checkpoint)
    results: dict[str, object] = {"checkpoint": str(args.checkpoint), "task": args.task,
                                  "load_avg_start": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="edtune-measure-") as tmp:
        root = Path(tmp)
        render_images(train + replay + evaluation, root)
        results["accuracy_before"] = score(student, evaluation, root)
        spread = evaluation[::max(1, len(evaluation) // 640)][:640]  # every family, not only the first ones
        results["samples_per_s_batch64"] = round(throughput(student, spread, root, 64), 1)
        if not args.no_lora:
            results.update(lora_runs(student, train, replay, evaluation, root, args.seed))
    results["load_avg_end"] = os.getloadavg()
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


def lora_runs(student: HFStudent, train: list[Sample], replay: list[Sample], evaluation: list[Sample],
              root: Path, seed: int) -> dict[str, object]:
    """LoRA with replay (timed, scored), then the same without replay from the base model."""
    results: dict[str, object] = {}
    # min_steps=0: the plain 10 epochs this measurement was recorded with (before the default floor)
    stats = student.train(train, root, LoraTrainConfig(min_steps=0), seed=seed, replay=replay)
    results["lora"] = {"train_samples": len(train), "replay": len(replay), "wall_s": round(stats.wall_s, 1),
                       "steps": stats.steps, "trainable_params": stats.trainable_params,
                       "epoch_losses": [round(x, 3) for x in stats.epoch_losses]}
    results["accuracy_after"] = score(student, evaluation, root)
    results["no_replay"] = no_replay_run(student, train, root, evaluation, seed)
    return results


def no_replay_run(student: HFStudent, train: list[Sample], root: Path, evaluation: list[Sample],
                  seed: int) -> dict[str, object]:
    """The same LoRA without replay, from the base model (shows what replay protects)."""
    student.reset_adapter()
    stats = student.train(train, root, LoraTrainConfig(min_steps=0, print_targets=False), seed=seed)
    return {"wall_s": round(stats.wall_s, 1), "accuracy_after": score(student, evaluation, root)}


if __name__ == "__main__":
    main()
