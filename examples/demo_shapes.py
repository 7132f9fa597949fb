"""The bundled demo through the Python API: world, reference teacher, tiny student, three methods, report.

    .venv/bin/python examples/demo_shapes.py                # pool 3,000, budget 300: the `edtune demo` run
    .venv/bin/python examples/demo_shapes.py --quick        # pool 1,500, budget 150
    .venv/bin/python examples/demo_shapes.py --out runs/api-demo --seed 1

It does by hand what `edtune demo` does (see `edtune.demo`), so each step is visible: write a seeded shapes
world, serve the reference teacher for it (a benchmark instrument that answers the teacher's questions
from the world's gold data; a real run uses a real model, see examples/real_model_qwen2vl.py), adapt the
bundled tiny student with `edtune.adapt` for each method at the same budget, and build the report.
Runs on CPU; needs the shipped checkpoint in edtune/student/tiny_checkpoint.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from edtune.bench.reference import reference_teacher
from edtune.bench.shapes import ShapesConfig, generate_world, write_world
from edtune.loop import RunConfig, adapt
from edtune.report import build_report, compare, find_runs, format_table

METHODS = ("random", "error_driven", "full")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/api-demo"), help="must not exist yet")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="smaller world and budget")
    args = parser.parse_args()

    pool, budget = (1_500, 150) if args.quick else (3_000, 300)
    world = args.out / "world"
    write_world(generate_world(ShapesConfig(seed=args.seed, pool_size=pool, val_size=500, test_size=1_000,
                                            base_size=1_000, tasks=["counting"])), world)
    # Every method gets the same LoRA recipe (with `edtune demo`'s floor of 600 optimiser steps per training
    # call), replay data, budget and seed; only the selection differs.
    settings = RunConfig.model_validate({"seed": args.seed, "data": {"val": {"path": "-"}, "pool": {"path": "-"}},
                                         "method": "random", "training": {"lora": {"min_steps": 600}}})
    with reference_teacher(world, error_rate=0.0, seed=args.seed) as server:
        teacher = f"openai-compatible/{server.model}@{server.base_url}"
        for method in METHODS:
            result = adapt("bundled", world / "counting_val.jsonl", world / "pool.jsonl",
                           teacher=teacher if method == "error_driven" else None, judge="exact",
                           test=world / "counting_test.jsonl", replay=world / "base.jsonl", budget=budget,
                           iterations=3, config=settings, method=method, run_dir=args.out / method)
            print(f"{method}: test accuracy {result.test_accuracy} with {result.samples_used} samples "
                  f"({result.pool_fraction:.1%} of the pool); adapter {result.adapter}")

    print(format_table(compare(find_runs(args.out))))
    print(f"report: {build_report(args.out)}")


if __name__ == "__main__":
    main()
