"""A real student and a real teacher: Qwen2-VL-2B-Instruct tuned from the errors that Qwen2.5-VL-7B-Instruct
(served by vLLM) finds, on your own LLaVA-format data.

NOT RUN in this repository's CI: it needs a CUDA GPU (about 40 GB for both models on one card, or one card
each) and the Hugging Face hub. The tests only import it and validate examples/qwen2vl_vllm.toml.

What a GPU user runs, from the repository root:

    # 1. install (vLLM in its own environment if its torch pin clashes with yours); Qwen2-VL's processor
    #    needs torchvision, so install the torch + torchvision pair of your CUDA build
    pip install -e . vllm torchvision
    # 2. the student checkpoint, as a local folder (the run config names folders, not hub ids)
    huggingface-cli download Qwen/Qwen2-VL-2B-Instruct --local-dir examples/checkpoints/Qwen2-VL-2B-Instruct
    # 3. the teacher, in another shell (0.45 of the card leaves room for the student's LoRA training)
    vllm serve Qwen/Qwen2.5-VL-7B-Instruct --port 8000 --max-model-len 8192 \\
        --gpu-memory-utilization 0.45 --limit-mm-per-prompt '{"image": 1}'
    # 4. your data, LLaVA format (a JSON list of {"id", "image", "conversations": [human, gpt]}):
    #    examples/data/pool.json (the supporting pool), target_val.json and target_test.json (the new
    #    task), base.json (replay of what the student already does well), images under examples/data/images
    # 5. annotate the pool's required skills with the teacher (resumable; one call per pool sample)
    python examples/real_model_qwen2vl.py annotate examples/data/pool.json examples/data/pool_annotated.jsonl \\
        --image-root examples/data/images
    # 6. adapt, then report (the loop resumes after a crash with `edtune resume runs/qwen2vl`)
    edtune run examples/qwen2vl_vllm.toml --run-dir runs/qwen2vl
    edtune report runs/qwen2vl

Steps 5-6 can also be run from Python: `python examples/real_model_qwen2vl.py run`.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from edtune.data.loaders import load_samples, write_samples
from edtune.jsonl import read_jsonl
from edtune.loop import load_config, run_config
from edtune.loop.bars import progress_bar
from edtune.specs import build_teacher_client
from edtune.teacher.annotate import AnnotateOptions, SkillAnnotator
from edtune.teacher.records import SkillAnnotation

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "qwen2vl_vllm.toml"
TEACHER = "vllm/Qwen/Qwen2.5-VL-7B-Instruct@http://127.0.0.1:8000/v1"
"""The spec string of the vLLM-served teacher (provider/model@base_url); the same string is in CONFIG."""


def annotate(pool: Path, out: Path, image_root: Path, *, teacher: str = TEACHER, max_skills: int = 5) -> int:
    """Ask the teacher for each pool sample's required skills and write the pool with `required_skills`
    filled in as JSONL (images stay where they are: keep `image_root` in the run config). The raw
    annotations go to `<out>.annotations.jsonl`; a rerun skips samples already annotated there."""
    samples = load_samples(pool, fmt="llava", image_root=image_root)
    annotations = out.with_suffix(".annotations.jsonl")
    annotator = SkillAnnotator(build_teacher_client(teacher), AnnotateOptions(max_skills=max_skills),
                               image_root=image_root)
    # lines already written by an interrupted run (a torn last line included: close enough for a bar)
    done = len(annotations.read_text(encoding="utf-8").splitlines()) if annotations.exists() else 0
    with progress_bar("annotating required skills", len(samples), enabled=True, done=done) as advance:
        asyncio.run(annotator.annotate_pool(samples, annotations, on_result=lambda _: advance(1)))
    skills = {a.sample_id: a.required_skills for a in read_jsonl(annotations, SkillAnnotation) if a.outcome == "found"}
    # Samples the teacher could not annotate stay in the pool without skills: retrieval never picks them.
    return write_samples([s.model_copy(update={"required_skills": skills.get(s.id, [])}) for s in samples], out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    step = commands.add_parser("annotate", help="required-skills annotation of a LLaVA pool")
    step.add_argument("pool", type=Path)
    step.add_argument("out", type=Path)
    step.add_argument("--image-root", type=Path, required=True)
    step.add_argument("--teacher", default=TEACHER)
    run = commands.add_parser("run", help="the error-driven loop from the TOML config")
    run.add_argument("config", type=Path, nargs="?", default=CONFIG)
    run.add_argument("--run-dir", type=Path, default=Path("runs/qwen2vl"))
    args = parser.parse_args()
    if args.command == "annotate":
        print(f"wrote {annotate(args.pool, args.out, args.image_root, teacher=args.teacher)} samples to {args.out}")
    else:
        result = run_config(load_config(args.config), args.run_dir)
        print(f"test accuracy {result.pretrained_accuracy} -> {result.test_accuracy} with {result.samples_used} "
              f"samples ({result.pool_fraction:.1%} of the pool); adapter: {result.adapter}")


if __name__ == "__main__":
    main()
