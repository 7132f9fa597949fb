"""Answering and LoRA-training speed of every supported VLM family at tiny size, beside the bundled student.

    .venv/bin/python benchmarks/bench_families.py [--samples 32] [--batch-size 8] [--max-new-tokens 32]
        [--steps 10] [--train-batch 8] [--out results.json]

Every student answers the same shapes-world samples (their 48 px images, resized by each family's
processor) and trains `--steps` LoRA steps on them; the family checkpoints are the tiny random-weight ones
of `edtune.student.tiny_families` (vocabulary over these samples' texts), the bundled student is the
shipped one. One run, one CPU thread (`StudentConfig.num_threads`). Families this environment cannot build
(torchvision missing: use the vision venv of `.ci/vision_stage.sh`) are listed with the reason. Random
weights generate until `--max-new-tokens` more often than a trained model, so answering rates compare
families with one another, not with real use.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from edtune.bench.shapes.render import render_images
from edtune.bench.shapes.world import ShapesConfig, generate_base
from edtune.records import Sample
from edtune.student.base import LoraTrainConfig, StudentConfig
from edtune.student.bundled import TINY_CHECKPOINT
from edtune.student.hf import HFStudent
from edtune.student.prompting import target_text, user_text
from edtune.student.tiny_families import TINY_FAMILIES, build_checkpoint, unavailable_reason


def measure(student: HFStudent, samples: list[Sample], root: Path, args: argparse.Namespace) -> dict[str, float]:
    """Answering samples/s and training steps/s of one student (adapter removed afterwards)."""
    student.answer(samples[:args.batch_size], root, batch_size=args.batch_size)  # warm-up
    started = time.perf_counter()
    student.answer(samples, root, batch_size=args.batch_size)
    answer_s = time.perf_counter() - started
    config = LoraTrainConfig(steps=args.steps, batch_size=args.train_batch, print_targets=False)
    stats = student.train(samples, root, config, seed=0)
    student.reset_adapter()
    return {"answer_samples_per_s": len(samples) / answer_s, "train_steps_per_s": stats.steps / stats.wall_s,
            "parameters": float(sum(p.numel() for p in student.model.parameters()))}


def run(args: argparse.Namespace) -> dict[str, dict[str, float] | str]:
    """Every row of the table: the bundled student, then each family (or why it was not built)."""
    samples = generate_base(args.samples, 0, split="bench-families", config=ShapesConfig(seed=0))
    texts = [t for s in samples for t in (user_text(s, StudentConfig()), target_text(s))]
    config = StudentConfig(max_new_tokens=args.max_new_tokens)
    rows: dict[str, dict[str, float] | str] = {}
    with tempfile.TemporaryDirectory(prefix="edtune-bench-families-") as tmp:
        root = Path(tmp)
        render_images(samples, root / "images")
        rows["bundled student (Llava)"] = measure(HFStudent.from_pretrained(TINY_CHECKPOINT, config), samples,
                                                  root / "images", args)
        for family in TINY_FAMILIES:
            reason = unavailable_reason(family)
            if reason:
                rows[family.label] = reason
                continue
            checkpoint = build_checkpoint(family, texts, root / family.model_type, seed=0)
            rows[family.label] = measure(HFStudent.from_pretrained(checkpoint, config), samples, root / "images", args)
    return rows


def table(rows: dict[str, dict[str, float] | str]) -> str:
    """Markdown table of `run`'s rows."""
    lines = ["| student | parameters | answering samples/s | training steps/s |", "|---|---:|---:|---:|"]
    for name, row in rows.items():
        if isinstance(row, str):
            lines.append(f"| {name} | - | skipped: {row} | - |")
        else:
            lines.append(f"| {name} | {row['parameters']:,.0f} | {row['answer_samples_per_s']:.1f} | "
                         f"{row['train_steps_per_s']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=32, help="samples answered and trained on")
    parser.add_argument("--batch-size", type=int, default=8, help="answering batch size")
    parser.add_argument("--max-new-tokens", type=int, default=32, help="generation budget per answer")
    parser.add_argument("--steps", type=int, default=10, help="LoRA optimiser steps")
    parser.add_argument("--train-batch", type=int, default=8, help="samples per LoRA step")
    parser.add_argument("--out", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    rows = run(args)
    print(table(rows))
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
