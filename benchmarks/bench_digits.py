"""The digits example (examples/digits/) as its README runs it, timed: a task that is not the shapes world.

    .venv/bin/python benchmarks/bench_digits.py --out runs/bench_digits
    .venv/bin/python benchmarks/bench_digits.py --out runs/bench_digits --student data/digits/student  # reuse one

Each step is the README's command, run as a subprocess from the repository root: write the data, pretrain
the student (skipped with --student: a checkpoint made by the same command), start the example teacher on a
free port, `edtune annotate` the LLaVA pool, `edtune run` the example's error-driven, random and full configs,
`edtune report` over the three. The configs are the example's own, copied beside the data with only the
teacher's port changed. Writes <out>/results.json (the report's, read by `benchmarks/claims.py`) and
<out>/timings.json, and prints each step's wall time, the teacher's calls and the report's table. Give each
invocation a fresh --out: the teacher's port is part of each run's config, so a run directory left by an
earlier invocation is refused as holding another run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "digits"
METHODS = ("error_driven", "random", "full")


def _step(name: str, command: list[str], timings: dict[str, float]) -> None:
    print(f"[digits] {name}: {' '.join(command)}", flush=True)
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    timings[name] = round(time.perf_counter() - started, 1)
    print(f"[digits] {name}: {timings[name]:.0f} s", flush=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, server: subprocess.Popen[bytes]) -> None:
    import urllib.request

    for _ in range(100):
        if server.poll() is not None:
            raise RuntimeError(f"the teacher server exited with {server.returncode}")
        try:
            urllib.request.urlopen(f"{url}/models", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the teacher server did not answer at {url}")


def _configs(out: Path, url: str) -> dict[str, Path]:
    """The example's configs beside <out>/data/digits (their ../../data/digits), the teacher's port changed."""
    folder = out / "examples" / "digits"
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for method in METHODS:
        text = (EXAMPLE / f"{method}.toml").read_text().replace("http://127.0.0.1:8011/v1", url)
        paths[method] = folder / f"{method}.toml"
        paths[method].write_text(text)
    return paths


def _teacher_calls(run: Path) -> dict[str, int]:
    """Teacher requests the run sent per stage (its usage.json; answers from the cache not counted)."""
    if not (run / "usage.json").is_file():
        return {}
    stages = json.loads((run / "usage.json").read_text()).get("stages", {})
    return {stage: int(usage.get("calls", 0)) for stage, usage in stages.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for the data, runs and report")
    parser.add_argument("--student", type=Path, help="an existing student checkpoint (skips pretraining)")
    parser.add_argument("--pretrain-steps", type=int, help="pretraining steps (default: pretrain_student.py's, as "
                                                            "the example's README runs it)")
    args = parser.parse_args()
    out, python = args.out.resolve(), sys.executable
    timings: dict[str, float] = {}
    data = out / "data" / "digits"
    _step("make_data", [python, str(EXAMPLE / "make_data.py"), "--out", str(data)], timings)
    if args.student is None:
        steps = [] if args.pretrain_steps is None else ["--steps", str(args.pretrain_steps)]
        _step("pretrain", [python, str(EXAMPLE / "pretrain_student.py"), "--data", str(data), "--out",
                           str(data / "student"), *steps], timings)
    else:
        shutil.copytree(args.student, data / "student", dirs_exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}/v1"
    server = subprocess.Popen([python, str(EXAMPLE / "teacher_server.py"), "--port", str(port)], cwd=ROOT,
                              stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        _wait_for(url, server)
        teacher = f"openai-compatible/digits-teacher@{url}"
        _step("annotate", [python, "-m", "edtune", "annotate", str(data / "pool.json"), "--teacher", teacher,
                           "--out", str(data / "pool.jsonl"), "--no-images", "--no-bars"], timings)
        for method, config in _configs(out, url).items():
            _step(method, [python, "-m", "edtune", "run", str(config), "--run-dir", str(out / "runs" / method),
                           "--no-bars"], timings)
    finally:
        server.terminate()  # the server prints its request counts as it stops
        print(f"[digits] teacher: {(server.communicate(timeout=10)[0] or b'').decode().strip()}", flush=True)
    _step("report", [python, "-m", "edtune", "report", str(out / "runs"), "--out", str(out)], timings)
    calls = {method: _teacher_calls(out / "runs" / method) for method in METHODS}
    (out / "timings.json").write_text(json.dumps({"wall_s": timings, "teacher_calls": calls}, indent=2) + "\n")
    print(f"\nwall seconds per step: {timings}\nteacher calls per run: {calls}")


if __name__ == "__main__":
    main()
