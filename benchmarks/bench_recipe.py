"""Retrain one finished run's selection under other LoRA recipes and seeds: is the result the recipe's?

    .venv/bin/python benchmarks/bench_recipe.py RUN_DIR --iteration 3 [--seeds 0 1 2]
        [--recipe floor600] [--recipe NAME ...] [--workers 2] [--out results.json]

The run directory is one the loop wrote (e.g. `runs/demo/seed0/error_driven`). Its iteration's
`adapters/<iteration>/train.json` names the pool ids and replay ids it trained on; this script trains the
run's student afresh on exactly those samples with each recipe and training seed, answers the run's test
set, and prints test accuracy and its spread over seeds side by side. Training seeds are what change
between machines whose float rounding differs: a recipe whose accuracy swings across seeds on one machine
will also swing across machines.

Recipes (`RECIPES`): the loop's LoRA settings with the named change. Nothing is read from the test set but
the final score.
"""

from __future__ import annotations

import argparse
import json
import statistics
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

RECIPES: dict[str, dict[str, object]] = {
    "floor600": {"min_steps": 600},
    "floor1200": {"min_steps": 1200},
    "floor1800": {"min_steps": 1800},
    "floor2400": {"min_steps": 2400},
    "floor600_lr2e-3": {"min_steps": 600, "lr": 2e-3},
    "floor1800_lr2e-3": {"min_steps": 1800, "lr": 2e-3},
    "epochs30": {"min_steps": 0, "epochs": 30},
}
"""Changes to `LoraTrainConfig` (from its defaults) that each recipe makes."""


def _load(run_dir: Path, iteration: int) -> tuple[dict[str, object], dict[str, object]]:
    config = json.loads((run_dir / "config.json").read_text())
    record = json.loads((run_dir / "adapters" / f"{iteration:03d}" / "train.json").read_text())
    return config, record


def one(run_dir: str, iteration: int, recipe: str, seed: int) -> dict[str, object]:
    """Train the iteration's samples with `recipe` and `seed` from the base student; score the test set."""
    import torch

    from edtune.jsonl import read_jsonl
    from edtune.records import Sample
    from edtune.student.base import LoraTrainConfig
    from edtune.student.bundled import bundled_student
    from edtune.student.evaluate import accuracy_by, exact_matches

    torch.set_num_threads(1)
    config, record = _load(Path(run_dir), iteration)
    data = config["data"]
    paths = {key: Path(data[key]["path"]) for key in ("pool", "test", "replay")}
    pool = {s.id: s for s in read_jsonl(paths["pool"], Sample)}
    replay_all = {s.id: s for s in read_jsonl(paths["replay"], Sample)}
    test = read_jsonl(paths["test"], Sample)
    train = [pool[i] for i in record["train_ids"]]
    replay = [replay_all[i] for i in record["replay_ids"]]
    student = bundled_student()
    lora = LoraTrainConfig(print_targets=False, **RECIPES[recipe])  # type: ignore[arg-type]
    stats = student.train(train, paths["pool"].parent, lora, seed=seed, replay=replay,
                          replay_root=paths["replay"].parent)
    outputs = student.answer(test, paths["test"].parent, batch_size=64)
    hits = exact_matches(test, outputs)
    families = {k: round(h / n, 3) for k, (h, n) in accuracy_by(test, hits).items()}
    return {"recipe": recipe, "seed": seed, "steps": stats.steps, "final_loss": round(stats.epoch_losses[-1], 4),
            "test": round(sum(hits) / len(test), 4), "families": families}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--iteration", type=int, required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--recipe", action="append", choices=list(RECIPES))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    recipes = args.recipe or ["floor600"]
    jobs = [(str(args.run_dir), args.iteration, r, s) for r in recipes for s in args.seeds]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(one, *zip(*jobs, strict=True)))
    for row in results:
        print(json.dumps(row))
    print("\n| recipe | steps | test per seed | mean | spread (max - min) |\n|---|---:|---|---:|---:|")
    for recipe in recipes:
        rows = [r for r in results if r["recipe"] == recipe]
        tests = [float(r["test"]) for r in rows]  # type: ignore[arg-type]
        per_seed = " / ".join(f"{t:.3f}" for t in tests)
        print(f"| {recipe} | {rows[0]['steps']} | {per_seed} | {statistics.mean(tests):.3f} | "
              f"{max(tests) - min(tests):.3f} |")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
