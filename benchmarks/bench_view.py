"""Page-build time of the run viewer on a large synthetic run: 10,000 validation errors, a 100,000-sample pool.

    .venv/bin/python benchmarks/bench_view.py [--errors 10000] [--pool 100000] [--selected 2000]
        [--skills 300] [--static] [--out results.json]

Writes a run directory whose files have the shapes the loop writes (config.json, state.json, metrics.json,
usage.json, iterations/001/*.jsonl, answer-switch evidence on every location) and data sets whose images
are a handful of small PNGs, then times `edtune.view.Site.page` for the pages a person opens: the
overview, the first and a middle errors page, a skill-filtered errors page, one error (cold: the first
page that reads the chosen pool samples; warm: the next one), a pool sample, the selection page, and a
skill's BM25 hits page (cold: reads and indexes the whole pool; warm: another skill). "cold" times include
reading the iteration's files or the pool. `--static` also times `edtune report --html` (every
page written). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from PIL import Image

from edtune.loop.config import validate_config
from edtune.loop.rundir import RunDir
from edtune.view import Site, urls
from edtune.view.static import write_site

LETTERS = ["A", "B", "C", "D"]


def _images(root: Path, n: int = 8) -> list[str]:
    (root / "images").mkdir(parents=True)
    names = []
    for k in range(n):
        Image.new("RGB", (48, 48), (30 * k % 255, 90, 160)).save(root / "images" / f"{k}.png")
        names.append(f"images/{k}.png")
    return names


def _lines(path: Path, rows: object) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))  # type: ignore[attr-defined]


def write_data(root: Path, args: argparse.Namespace, rng: random.Random) -> list[str]:
    """val.jsonl and pool.jsonl below `root`; returns the skill vocabulary."""
    images = _images(root)
    skills = [f"skill {k} of reading shapes" for k in range(args.skills)]
    _lines(root / "pool.jsonl", ({"id": f"pool-{n:06d}", "images": [rng.choice(images)], "question": f"Question {n}?",
                                  "answer": "3", "required_skills": rng.sample(skills, 2)} for n in range(args.pool)))
    _lines(root / "val.jsonl", ({"id": f"val-{n:06d}", "images": [rng.choice(images)], "question": f"How many {n}?",
                                 "choices": ["1", "2", "3", "4"], "answer": "3", "metadata": {"skill": "counting"}}
                                for n in range(args.errors)))
    return skills


def _evidence(n_steps: int, step: int) -> dict[str, object]:
    probabilities = [{"A": 0.1, "B": 0.1, "C": 0.7 if k < step else 0.1, "D": 0.1 if k < step else 0.7}
                     for k in range(n_steps + 1)]
    return {"kind": "answer_switch", "letters": LETTERS, "gold": "C", "wrong": "D", "probabilities": probabilities,
            "letters_seen": [4] * (n_steps + 1), "margins": [p["D"] - p["C"] for p in probabilities], "delta": 0.1,
            "lam": 1, "prior": None, "rule": "switch", "switch_prefix": step}


def write_iteration(rd: RunDir, args: argparse.Namespace, skills: list[str], rng: random.Random) -> None:
    """iterations/001: every validation sample wrong, located by answer-switch, 1-2 missing skills each."""
    folder = rd.iteration(1)
    folder.mkdir(parents=True)
    ids = [f"val-{n:06d}" for n in range(args.errors)]
    teacher = {"teacher": "bench/teacher", "calls": 5, "usage": {"prompt_tokens": 900, "completion_tokens": 5},
               "latency_s": 0.1, "failure": None}
    _lines(folder / "val_outputs.jsonl", ({"sample_id": s, "raw_text": "...", "answer": "4",
                                           "steps": [f"Step text {k} of {s}." for k in range(1, 5)]} for s in ids))
    _lines(folder / "val_judgments.jsonl", ({"sample_id": s, "outcome": "incorrect", "judge": "choice"} for s in ids))
    steps = {s: rng.randint(1, 4) for s in ids}
    _lines(folder / "locations.jsonl", (teacher | {"sample_id": s, "template": "answer_switch", "template_hash": "x",
                                                   "method": "answer_switch", "n_steps": 4, "step": steps[s],
                                                   "outcome": "found", "evidence": _evidence(4, steps[s])}
                                        for s in ids))
    _lines(folder / "skills.jsonl", (teacher | {"sample_id": s, "template": "missing_skills", "template_hash": "y",
                                                "step": steps[s], "missing_skills": rng.sample(skills, 2),
                                                "outcome": "found"} for s in ids))
    chosen = rng.sample(range(args.pool), args.selected)
    _lines(folder / "selection.jsonl", ({"sample_id": f"pool-{n:06d}", "skill": skills[k % len(skills)],
                                         "score": 10.0 - k / args.selected, "rank": 1 + k // len(skills)}
                                        for k, n in enumerate(chosen)))
    _lines(folder / "quotas.jsonl", ({"skill": s, "missing": 60, "quota": 7, "chosen": 7} for s in skills))


def write_run(root: Path, args: argparse.Namespace) -> Path:
    """The synthetic run directory (and its data sets) below `root`."""
    rng = random.Random(0)
    skills = write_data(root / "data", args, rng)
    data = {"val": {"path": str(root / "data" / "val.jsonl")}, "pool": {"path": str(root / "data" / "pool.jsonl")}}
    rd = RunDir(root / "run")
    rd.write_config(validate_config({"method": "error_driven", "budget": args.selected, "data": data,
                                     "teacher": "vllm/bench@http://127.0.0.1:9"}, "bench"))
    write_iteration(rd, args, skills, rng)
    iterations = [{"iteration": 0}, {"iteration": 1, "errors": args.errors, "located": args.errors,
                                     "selected": args.selected, "samples_used": args.selected}]
    rd.metrics_path.write_text(json.dumps({"method": "error_driven", "seed": 0, "pool_size": args.pool,
                                           "budget": args.selected, "iterations": iterations, "stopped": "iterations"}))
    return rd.root


def timed(site: Site, path: str) -> float:
    started = time.perf_counter()
    page = site.page(path)
    assert page is not None, path
    return round(time.perf_counter() - started, 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--errors", type=int, default=10_000)
    parser.add_argument("--pool", type=int, default=100_000)
    parser.add_argument("--selected", type=int, default=2_000)
    parser.add_argument("--skills", type=int, default=300)
    parser.add_argument("--static", action="store_true", help="also time writing every page as files")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        run = write_run(Path(tmp), args)
        result: dict[str, object] = {"errors": args.errors, "pool": args.pool, "selected": args.selected,
                                     "write_s": round(time.perf_counter() - started, 2)}
        site = Site([run])
        files = site.runs[0]
        result["overview_s"] = timed(site, urls.overview("r0"))
        result["errors_p1_cold_s"] = timed(site, urls.errors("r0", 1))
        result["errors_p1_warm_s"] = timed(site, urls.errors("r0", 1))
        middle = max(1, args.errors // urls.PAGE_SIZE // 2)
        result["errors_middle_page_s"] = timed(site, urls.errors("r0", 1, page=middle))
        skill = files.iteration(1).errors[0].skills[0]
        result["errors_skill_filter_s"] = timed(site, urls.errors("r0", 1, urls.skill_filter(skill)))
        result["error_cold_s"] = timed(site, urls.error("r0", 1, "val-000000"))
        result["error_warm_s"] = timed(site, urls.error("r0", 1, "val-000001"))
        pool_id = files.iteration(1).selection[0].sample_id
        result["pool_sample_s"] = timed(site, urls.pool_sample("r0", pool_id))
        result["selection_s"] = timed(site, urls.selection("r0", 1))
        result["hits_cold_s"] = timed(site, urls.hits("r0", 1, skill))
        result["hits_warm_s"] = timed(site, urls.hits("r0", 1, files.iteration(1).errors[1].skills[0]))
        if args.static:
            started = time.perf_counter()
            write_site([run], Path(tmp) / "site")
            result["static_s"] = round(time.perf_counter() - started, 2)
            result["static_files"] = sum(1 for p in (Path(tmp) / "site").rglob("*") if p.is_file())
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
