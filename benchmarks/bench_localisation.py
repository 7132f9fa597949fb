"""Benchmark: localisation methods compared on one gold set of the bundled world (issue 7).

    .venv/bin/python benchmarks/bench_localisation.py                       # reference teacher at 0/0.1/0.3 + SmolLM2
    .venv/bin/python benchmarks/bench_localisation.py --size 60 --no-smol   # quick run

Gold set: `export_gold` over the validation splits of a freshly generated shapes world, multiple-choice
questions only (answer-switch needs options; every method is scored on the same items). Source `auto`
uses the bundled tiny student's real errors when its checkpoint is installed, else gold rationales
corrupted at a seeded step; the header line printed says which.

Teachers:
- the reference teacher (`edtune.bench.reference`) at each `--error-rates` value: an instrument that
  knows every gold scene and answers each request correctly except for a simulated error with that
  probability. Its numbers show how each METHOD turns per-request errors into localisation errors
  (per-step asks n times, answer-switch reads n+1 distributions), not how good any model is;
- SmolLM2-135M-Instruct (Q4_1 GGUF, llama.cpp in-process, text only: it gets the scene as text) on the
  first `--smol-size` items: a real, very small model.
Scores: exact first-wrong-step accuracy over all items (an unscored item counts as a miss), within one
step, unscored rate, calls per item. The random baseline draws a step uniformly from 1..n_steps; the
printed base rates (truth = step 1, truth = last step) are what a constant answer would score, e.g. a
teacher that always says "all steps are right" and falls back to the last step.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edtune.bench.reference import reference_teacher
from edtune.bench.shapes import ShapesConfig, generate_world, write_world
from edtune.llm.concurrency import run_sync
from edtune.llm.openai_client import OpenAICompatibleClient
from edtune.prompt_eval import GoldSet, LocalisationComparison, compare_localisation, export_gold, load_gold
from edtune.prompt_eval.runner import EvalSettings

REPO = Path(__file__).resolve().parents[1]
PAPER = {"random": 7, "per_step": 28, "direct": 59, "answer_switch": 65}
"""arXiv 2412.15652's exact accuracies; its third method is a pseudo-rationale prompt, our `direct`."""


def _compare(base_url: str, model: str, gold: GoldSet, seed: int, settings: EvalSettings) -> LocalisationComparison:
    async def go() -> LocalisationComparison:
        client = OpenAICompatibleClient(model, base_url, provider="openai-compatible",
                                        api_key_env="EDTUNE_BENCH_NO_KEY", timeout_s=600)
        try:
            return await compare_localisation(gold, client, seed=seed, settings=settings, project_dir=REPO)
        finally:
            await client.close()

    return run_sync(go())


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:5.1f}"


def _print(results: list[tuple[str, LocalisationComparison, float]]) -> None:
    methods = list(PAPER)
    print(f"\n{'teacher':<28} {'items':>5} " + " ".join(f"{m:>14}" for m in methods) + f" {'wall s':>7}")
    print(f"{'paper (2412.15652)':<28} {'':>5} " + " ".join(f"{PAPER[m]:>14}" for m in methods))
    for label, table, wall in results:
        rows = {r.method: r.metrics for r in table.rows}
        print(f"{label:<28} {table.items:>5} " + " ".join(f"{_pct(rows[m].exact_of_all):>14}" for m in methods)
              + f" {wall:>7.1f}")
    print(f"\n{'teacher':<28} {'method':<14} {'exact':>6} {'±1':>6} {'unscored':>8} {'calls/item':>10} {'tok/item':>9}")
    for label, table, _ in results:
        for row in table.rows:
            m = row.metrics
            print(f"{label:<28} {row.method:<14} {_pct(m.exact_of_all):>6} {_pct(m.within_one):>6} "
                  f"{_pct(m.unscored_rate):>8} {m.calls_per_item:>10.2f} {m.tokens_per_item:>9.1f}")


def _base_rates(label: str, gold: GoldSet) -> str:
    """How often the truth is step 1 or the last step: what constant answers would score."""
    n = len(gold.items)
    first = sum(item.first_wrong_step == 1 for item in gold) / n
    last = sum(item.first_wrong_step == len(item.student_steps) for item in gold) / n
    return f"{label}: {n} items, truth is step 1 in {100 * first:.1f}%, the last step in {100 * last:.1f}%"


def _smol(gold: GoldSet, size: int, seed: int, gguf: Path) -> tuple[str, LocalisationComparison, float]:
    from edtune.servers.llamacpp import LlamaCppConfig, llamacpp_server

    subset = dataclasses.replace(gold, items=gold.items[:size])
    config = LlamaCppConfig(model_path=gguf, alias="smollm2-135m", n_ctx=8192, n_parallel=4)
    print(_base_rates("SmolLM2 items", subset))
    with llamacpp_server(config) as server:
        start = time.perf_counter()
        table = _compare(server.base_url, server.model, subset, seed, EvalSettings(concurrency=4, images=False))
        return "SmolLM2-135M (text)", table, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=200, help="Gold items (before the multiple-choice filter).")
    parser.add_argument("--val-size", type=int, default=300, help="Validation samples per task in the world.")
    parser.add_argument("--source", default="auto", choices=["auto", "student", "corrupted"])
    parser.add_argument("--error-rates", default="0,0.1,0.3", help="Reference teacher error rates.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--smol-size", type=int, default=40, help="Items given to SmolLM2.")
    parser.add_argument("--gguf", type=Path, default=REPO / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf")
    parser.add_argument("--no-smol", action="store_true", help="Skip the SmolLM2 run.")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        world = Path(tmp) / "shapes"
        write_world(generate_world(ShapesConfig(seed=args.seed, pool_size=100, val_size=args.val_size, test_size=10,
                                                base_size=10)), world)
        meta = export_gold(world, Path(tmp) / "gold.jsonl", source=args.source, size=args.size, seed=args.seed,
                           multiple_choice_only=True)
        gold = load_gold(Path(tmp) / "gold.jsonl")
        steps = sorted({len(i.student_steps) for i in gold})
        print(f"gold set: {len(gold)} {meta.source} errors ({meta.description}); rationale lengths {steps}")
        print(_base_rates("gold set", gold))
        results = []
        for rate in (float(r) for r in args.error_rates.split(",")):
            with reference_teacher(world, error_rate=rate, seed=args.seed) as server:
                start = time.perf_counter()
                table = _compare(server.base_url, server.model, gold, args.seed, EvalSettings(concurrency=8))
                results.append((f"reference, error rate {rate:g}", table, time.perf_counter() - start))
        if not args.no_smol:
            results.append(_smol(gold, args.smol_size, args.seed, args.gguf))
    _print(results)


if __name__ == "__main__":
    main()
