"""Peak memory and step time of LoRA training with and without activation checkpointing and accumulation.

    .venv/bin/python benchmarks/bench_training.py [--hidden 256] [--layers 4] [--batch 16] [--accumulation 4]
        [--steps 6] [--samples 64] [--device cpu] [--out results.json]

The student is a random-weight Llava of the bundled student's kind, made `--hidden` wide and `--layers`
deep so that activations, which checkpointing and accumulation cut, outweigh the weights (its vocabulary
covers the samples' texts). It LoRA-trains `--steps` steps of `--batch` shapes-world samples (counting
questions: the longest rationales) under four settings: plain, activation checkpointing, `--accumulation`
micro-batches per step, and both. Each setting runs in fresh processes, one torch thread, after one
warm-up step. Memory is the training's peak above what the process held just before it: on CPU the
resident set's high-water mark (Linux, reset through /proc/self/clear_refs; glibc's mmap threshold fixed,
see `_fixed_mmap_threshold`), on a GPU torch's peak allocated memory. Step time is the median of every
step but the first, in a process of its own.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from edtune.bench.shapes.render import render_images
from edtune.bench.shapes.world import ShapesConfig, generate_samples
from edtune.records import Sample
from edtune.student.base import LoraTrainConfig, StudentConfig
from edtune.student.prompting import target_text, user_text

SETTINGS = {"plain": (False, False), "checkpointing": (True, False), "accumulation": (False, True),
            "checkpointing + accumulation": (True, True)}
"""Setting name -> (activation checkpointing, accumulation)."""


def bench_samples(n: int) -> list[Sample]:
    return generate_samples({"counting": 1.0}, n, split="bench-training", config=ShapesConfig(seed=0))


def build(args: argparse.Namespace, root: Path) -> None:
    """The checkpoint and the rendered images every setting's process reads."""
    from edtune.student.tiny import TinyStudentConfig, build_tiny_checkpoint

    samples = bench_samples(args.samples)
    render_images(samples, root / "images")
    shape = TinyStudentConfig(text_hidden=args.hidden, text_layers=args.layers, text_heads=args.hidden // 64)
    texts = [t for s in samples for t in (user_text(s, StudentConfig()), target_text(s))]
    build_tiny_checkpoint(texts, root / "student", shape, seed=0)


def measure(args: argparse.Namespace, root: Path, setting: str) -> dict[str, float]:
    """One setting, in this process: peak memory above the start of training (MiB) and median step time (s)."""
    import torch

    from edtune.student.hf import HFStudent

    checkpointing, accumulate = SETTINGS[setting]
    student = HFStudent.from_pretrained(root / "student", StudentConfig(device=args.device))
    config = LoraTrainConfig(steps=args.steps, batch_size=args.batch, print_targets=False,
                             gradient_checkpointing=checkpointing,
                             gradient_accumulation_steps=args.accumulation if accumulate else 1)
    samples = bench_samples(args.samples)
    # One step first on a batch of one sample per micro-batch: the kernels' code and the thread pools are
    # then loaded, so the peak below is the training's own.
    warm = config.model_copy(update={"steps": 1, "batch_size": config.gradient_accumulation_steps})
    student.train(samples, root / "images", warm, seed=0)
    student.reset_adapter()
    times: list[float] = []
    before = _reset_peak(args.device)
    stats = student.train(samples, root / "images", config, seed=0,
                          on_step=lambda *_: times.append(time.perf_counter()))
    peak = _peak(args.device) - before
    steps = [b - a for a, b in itertools.pairwise(times)]
    return {"peak_mib": peak / 2**20, "step_s": statistics.median(steps), "final_loss": stats.epoch_losses[-1],
            "parameters": float(sum(p.numel() for p in student.model.parameters())),
            "threads": float(torch.get_num_threads())}


def _reset_peak(device: str) -> int:
    """Start a new high-water mark; returns the memory held now (bytes)."""
    if device == "cuda":
        import torch

        torch.cuda.reset_peak_memory_stats()
        return int(torch.cuda.memory_allocated())
    Path("/proc/self/clear_refs").write_text("5")
    return _status_kib("VmRSS") * 1024


def _peak(device: str) -> int:
    if device == "cuda":
        import torch

        return int(torch.cuda.max_memory_allocated())
    return _status_kib("VmHWM") * 1024


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status (the CPU measure needs Linux)")


def run(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Every setting in fresh processes of this script (`--one`), so no peak carries over: memory from one
    with glibc's mmap threshold fixed, step time from one with glibc as it comes (see `_fixed_mmap_threshold`)."""
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="edtune-bench-training-") as tmp:
        build(args, Path(tmp))
        for setting in SETTINGS:
            command = [sys.executable, __file__, "--one", setting, "--root", tmp, *_passed(args)]
            memory = _child(command, _fixed_mmap_threshold())
            rows[setting] = {**_child(command, None), "peak_mib": memory["peak_mib"]}
    return rows


def _child(command: list[str], env: dict[str, str] | None) -> dict[str, float]:
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    row: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return row


def _fixed_mmap_threshold() -> dict[str, str]:
    """The environment with glibc's mmap threshold fixed at 128 KiB: every tensor buffer is then mapped and
    unmapped on its own, so the resident set follows the live tensors. Left dynamic, glibc raises the
    threshold after the first large free and keeps later buffers in its heap, and the high-water mark then
    shows how fragmented that heap got rather than what training held. Mapping every buffer slows the
    steps down, so times come from another process that leaves glibc as it is."""
    return {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}


def _passed(args: argparse.Namespace) -> list[str]:
    names = ("hidden", "layers", "batch", "accumulation", "steps", "samples", "device")
    return [item for name in names for item in (f"--{name}", str(getattr(args, name)))]


def table(rows: dict[str, dict[str, float]], args: argparse.Namespace) -> str:
    """Markdown table of `run`'s rows, with ratios to the plain setting."""
    base = rows["plain"]
    lines = [f"| setting ({args.device}, batch {args.batch}, accumulation {args.accumulation}) | peak MiB | x plain | "
             "step s | x plain | final loss |", "|---|---:|---:|---:|---:|---:|"]
    for name, row in rows.items():
        lines.append(f"| {name} | {row['peak_mib']:.0f} | {row['peak_mib'] / base['peak_mib']:.2f} | "
                     f"{row['step_s']:.2f} | {row['step_s'] / base['step_s']:.2f} | {row['final_loss']:.4f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, default=256, help="decoder width (a multiple of 64)")
    parser.add_argument("--layers", type=int, default=4, help="decoder depth")
    parser.add_argument("--batch", type=int, default=16, help="samples per optimiser step")
    parser.add_argument("--accumulation", type=int, default=4, help="micro-batches per step when accumulating")
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--out", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--one", choices=list(SETTINGS), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args, args.root, args.one)))
        return
    rows = run(args)
    first = next(iter(rows.values()))
    print(f"{first['parameters']:,.0f} parameters, {args.layers} layers x {args.hidden} wide, {args.steps} steps, "
          f"{first['threads']:.0f} torch thread(s), device {args.device}")
    print(table(rows, args))
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
