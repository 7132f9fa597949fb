"""Fingerprint of every selection method's run directory, to show that a refactor changes no run.

Runs each registered method for a few iterations on the loop tests' tiny counting world, with the tests'
in-process fakes (`tests/loop/fakes.py`: a `FamilyStudent`, a scripted teacher) or, where a method needs
per-sample scores, a tiny random HF checkpoint; then writes a manifest {run: {relative path: sha256}}.
Before hashing, the work folder's path is replaced by "<WORK>" in text files, and fields that hold
timings or host details are dropped by name (`VOLATILE_FIELDS`); only `environment.json` (the host) and
run.log lines' timestamps are left out as a whole / normalised. Two manifests are then compared:

    PYTHONPATH=. .venv/bin/python benchmarks/fingerprint_runs.py --out before.json
    PYTHONPATH=. .venv/bin/python benchmarks/fingerprint_runs.py --out after.json
    PYTHONPATH=. .venv/bin/python benchmarks/fingerprint_runs.py --compare before.json after.json

`--compare` prints every run and file that differs (or exists on one side only) and exits 1 if any does.
A run that fails is recorded as {"<error>": message}, so a broken method also shows as a difference.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

VOLATILE_FIELDS = {"wall_s", "seconds", "elapsed_s", "started_at", "finished_at", "created_at", "updated_at",
                   "time", "timestamp", "pid", "host", "hostname", "duration_s", "latency_s", "at"}
"""JSON keys (at any depth) dropped before hashing: timings and host details."""
SKIPPED_FILES = {"environment.json", "owner.json", ".lock"}
"""Files that describe the host or the process, not the run."""
ORDER_FREE = {"locations.jsonl", "skills.jsonl", "pool_annotations.jsonl"}
"""JSONL files appended in the order concurrent teacher calls finish: compared as sorted lines."""
SET_FIELDS = {"target_modules"}
"""JSON lists that are sets (peft writes them in hash order): compared sorted."""
SQLITE_VOLATILE = {"id", "timestamp", "created_at", "applied_at", "latency_s"}
"""Columns of the teacher cache left out (`calls.id` follows the order concurrent calls finish)."""
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?")
FLOAT_SECONDS = re.compile(r"\b\d+(?:\.\d+)?\s?s\b")

SMALL_STUDENT = {"image_size": 16, "patch_size": 8, "vision_hidden": 32, "vision_layers": 1, "vision_heads": 2,
                 "text_hidden": 32, "text_layers": 1, "text_heads": 2, "max_positions": 128}
HF_TRAINING = {"lora": {"epochs": 1, "min_steps": 0, "batch_size": 8, "print_targets": False}}
TEACHER_METHODS = ("error_driven", "ablation_random_step", "ablation_step_text", "ablation_random_samples",
                   "skill_progress")


def _registered() -> list[str]:
    """Every method name the registry holds (new layout first, then the layout before issue #22)."""
    try:
        from edtune.methods import methods  # type: ignore[attr-defined]
    except ImportError:
        from edtune.loop.methods import methods

        import edtune.loop.loop  # noqa: F401  registers the methods
    return list(methods.names())


def _bars_off() -> dict[str, bool]:
    from edtune.loop import adapt

    params = inspect.signature(adapt).parameters
    return {"show_bars": False} if "show_bars" in params else {"progress": False}


class World:
    """The tiny world, and the HF checkpoint built from it on first use."""

    def __init__(self, work: Path) -> None:
        from loop.fakes import tiny_world

        self.work = work
        self.path = tiny_world(work / "world")
        self._checkpoint: Path | None = None

    def checkpoint(self) -> Path:
        if self._checkpoint is None:
            from loop.fakes import world_checkpoint

            self._checkpoint = world_checkpoint(self.path, self.work / "student", SMALL_STUDENT)
        return self._checkpoint

    def data(self) -> dict[str, Any]:
        return {"val": {"path": str(self.path / "counting_val.jsonl")},
                "pool": {"path": str(self.path / "pool.jsonl")}}


def _family_run(world: World, run_dir: Path, method: str, budget: int, **config: Any) -> None:
    from loop.fakes import FamilyStudent, scripted_teacher

    from edtune.loop import adapt
    from edtune.loop.config import validate_config

    teacher = scripted_teacher() if method in TEACHER_METHODS else None
    cfg = validate_config({"method": method, "data": world.data(), "iterations": 2,
                           **({"teacher": "teacher"} if teacher else {}), **config}, "fingerprint")
    w = world.path
    adapt(FamilyStudent(), w / "counting_val.jsonl", w / "pool.jsonl", teacher=teacher, budget=budget,
          test=w / "counting_test.jsonl", replay=w / "base.jsonl", run_dir=run_dir, config=cfg, **_bars_off())


def _hf_run(world: World, run_dir: Path, method: str, budget: int, **config: Any) -> None:
    import torch

    from edtune.loop import adapt
    from edtune.loop.config import validate_config

    torch.set_num_threads(1)
    torch.manual_seed(0)
    cfg = validate_config({"method": method, "data": world.data(), "training": HF_TRAINING,
                           "student": {"generation": {"max_new_tokens": 8}, "batch_size": 16}, **config},
                          "fingerprint")
    w = world.path
    adapt(world.checkpoint(), w / "counting_val.jsonl", w / "pool.jsonl", teacher=None, budget=budget,
          test=w / "counting_test.jsonl", run_dir=run_dir, config=cfg, **_bars_off())


PROGRESS = {"k_tracking": 4, "k_warmup": 8, "round_size": 8, "warmup_fraction": 0.25, "eval_per_cluster": 5}
Runner = Callable[["World", Path], None]
RUNS: dict[str, Runner] = {
    **{m: (lambda world, run, m=m: _family_run(world, run, m, 16)) for m in TEACHER_METHODS},
    "random": lambda world, run: _family_run(world, run, "random", 16),
    "full": lambda world, run: _family_run(world, run, "full", 16),
    "progress": lambda world, run: _family_run(world, run, "progress", 24, progress=PROGRESS),
    "progress_held_out": lambda world, run: _family_run(world, run, "progress", 24,
                                                        progress={**PROGRESS, "eval_samples": "held_out"}),
    "progress_loss": lambda world, run: _hf_run(world, run, "progress", 16,
                                                progress={**PROGRESS, "metric": "loss"}),
    "el2n": lambda world, run: _hf_run(world, run, "el2n", 10),
    "perplexity": lambda world, run: _hf_run(world, run, "perplexity", 10),
}
"""Run name -> how it runs; every registered method has a run of its name (checked at start)."""


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: sorted(map(str, v)) if k in SET_FIELDS and isinstance(v, list) else _strip(v)
                for k, v in value.items() if k not in VOLATILE_FIELDS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _sqlite(path: Path) -> bytes:
    """Every table's rows without `SQLITE_VOLATILE` columns, sorted."""
    import sqlite3

    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        dump: dict[str, list[str]] = {}
        for table in sorted(tables):
            cursor = connection.execute(f"SELECT * FROM {table}")
            columns = [c[0] for c in cursor.description]
            rows = [json.dumps({c: v for c, v in zip(columns, row, strict=True) if c not in SQLITE_VOLATILE},
                               sort_keys=True) for row in cursor]
            dump[table] = sorted(rows)
    finally:
        connection.close()
    return json.dumps(dump, sort_keys=True).encode()


def _normalised(path: Path, work: Path) -> bytes:
    if path.suffix == ".sqlite":
        return _sqlite(path).replace(str(work.resolve()).encode(), b"<WORK>")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw
    text = text.replace(str(work.resolve()), "<WORK>").replace(str(work), "<WORK>")
    if path.suffix == ".json":
        try:
            return json.dumps(_strip(json.loads(text)), sort_keys=True).encode()
        except json.JSONDecodeError:
            pass
    if path.suffix == ".jsonl":
        try:
            lines = [json.dumps(_strip(json.loads(line)), sort_keys=True) + "\n"
                     for line in text.splitlines() if line.strip()]
            return "".join(sorted(lines) if path.name in ORDER_FREE else lines).encode()
        except json.JSONDecodeError:
            pass
    if path.suffix == ".log":
        text = FLOAT_SECONDS.sub("<S>", TIMESTAMP.sub("<T>", text))
    return text.encode()


def fingerprint(run_dir: Path, work: Path) -> dict[str, str]:
    """{relative path: sha256 of the normalised content} of every file in `run_dir`."""
    out = {}
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file()):
        if path.name in SKIPPED_FILES:
            continue
        out[path.relative_to(run_dir).as_posix()] = hashlib.sha256(_normalised(path, work)).hexdigest()
    return out


def manifest(work: Path, only: list[str] | None) -> dict[str, dict[str, str]]:
    missing = sorted(set(_registered()) - set(RUNS))
    if missing:
        raise SystemExit(f"registered methods without a fingerprint run: {', '.join(missing)}")
    warnings.simplefilter("ignore")
    world = World(work)
    result: dict[str, dict[str, str]] = {}
    for name, run in RUNS.items():
        if only and name not in only:
            continue
        start = time.perf_counter()
        run_dir = work / "runs" / name
        try:
            run(world, run_dir)
            result[name] = fingerprint(run_dir, work)
        except Exception as exc:  # a broken method is a difference, not a crash of the whole script
            result[name] = {"<error>": f"{type(exc).__name__}: {exc}"}
        print(f"{name}: {len(result[name])} files, {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return result


def compare(a: Path, b: Path) -> int:
    left, right = json.loads(a.read_text()), json.loads(b.read_text())
    differences = 0
    for run in sorted(set(left) | set(right)):
        x, y = left.get(run), right.get(run)
        if x is None or y is None:
            print(f"{run}: only in {a if y is None else b}")
            differences += 1
            continue
        for path in sorted(set(x) | set(y)):
            if x.get(path) != y.get(path):
                state = "only in " + str(a if path not in y else b) if path not in x or path not in y else "differs"
                print(f"{run}/{path}: {state}")
                differences += 1
    print(f"{differences} difference(s)")
    return 1 if differences else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="write the manifest here")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("A", "B"), help="compare two manifests")
    parser.add_argument("--only", nargs="*", help="run only these runs")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one, removed after)")
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)
    if args.out is None:
        parser.error("--out or --compare is required")
    work = args.work or Path(tempfile.mkdtemp(prefix="edtune-fingerprint-"))
    if work.exists() and args.work:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    try:
        result = manifest(work, args.only)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    args.out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
