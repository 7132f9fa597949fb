"""Re-run every number the README and examples/README claim, and print claimed against measured.

    .venv/bin/python benchmarks/claims.py --out runs/claims                 # run what is missing, then compare
    .venv/bin/python benchmarks/claims.py --out runs/claims --only demo_counting
    .venv/bin/python benchmarks/claims.py --out runs/claims --compare-only  # no runs, compare what is there
    .venv/bin/python benchmarks/claims.py --list                            # jobs, their commands and cost

The claims live in `benchmarks/claims.toml`: each names the document and the exact text it appears in (a
test checks that the text is still there, so a document cannot drift from its claim), the value claimed,
the tolerance within which a rerun counts as reproducing it, the job that measures it, and where in the
job's results.json the measured value is. A job is a command that writes a report (`results.json`); a
finished job is reused, so a long list can be measured over several calls. Exit status 1 when any
compared claim is outside its tolerance, 2 when a job failed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import tomllib

REGISTRY = Path(__file__).with_name("claims.toml")
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Job:
    name: str
    command: list[str]
    minutes: float
    """Wall minutes measured on a quiet 2-core machine (for planning; not checked)."""


@dataclass(frozen=True)
class Claim:
    id: str
    doc: str
    text: str
    value: float
    tolerance: float
    job: str
    metric: str
    """"<method>.<field of MethodResult>", e.g. "error_driven.accuracy" or "random.percent_of_full"."""


def load_registry(path: Path = REGISTRY) -> tuple[dict[str, Job], list[Claim]]:
    """The jobs and claims of `path`; ValueError naming the claim whose job is unknown."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    jobs = {name: Job(name=name, command=list(spec["command"]), minutes=float(spec["minutes"]))
            for name, spec in data["job"].items()}
    claims = [Claim(**spec) for spec in data["claim"]]
    for claim in claims:
        if claim.job not in jobs:
            raise ValueError(f"{path}: claim {claim.id} names unknown job {claim.job!r}")
    return jobs, claims


def results_path(out: Path, job: str) -> Path:
    return out / job / "results.json"


def run_job(job: Job, out: Path) -> bool:
    """Run `job` writing under out/<job>; True when it exited 0."""
    command = [part.replace("{out}", str(out / job.name)).replace("{python}", sys.executable)
               for part in job.command]
    print(f"[claims] {job.name}: {' '.join(command)}  (~{job.minutes:.0f} min on a quiet 2-core machine)",
          flush=True)
    started = time.perf_counter()
    code = subprocess.call(command, cwd=ROOT)
    print(f"[claims] {job.name}: exit {code} after {time.perf_counter() - started:.0f} s", flush=True)
    return code == 0


def measured(claim: Claim, out: Path) -> float | None:
    """The claim's value in its job's results.json; None when the job has not run or has no such row."""
    path = results_path(out, claim.job)
    if not path.is_file():
        return None
    method, field = claim.metric.split(".", 1)
    rows = {row["method"]: row for row in json.loads(path.read_text())["methods"]}
    value = rows.get(method, {}).get(field)
    return None if value is None else float(value)


def compare(claims: list[Claim], out: Path) -> int:
    """Print the side-by-side table; returns how many measured claims are outside their tolerance."""
    print("\n| claim | where | claimed | measured | difference | reproduced |\n|---|---|---:|---:|---:|---|")
    missed = 0
    for claim in claims:
        value = measured(claim, out)
        if value is None:
            print(f"| {claim.id} | {claim.doc} | {claim.value:g} | not run | | |")
            continue
        ok = abs(value - claim.value) <= claim.tolerance
        missed += not ok
        print(f"| {claim.id} | {claim.doc} | {claim.value:g} | {value:.4g} | {value - claim.value:+.4g} | "
              f"{'yes' if ok else f'NO (tolerance {claim.tolerance:g})'} |")
    return missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("runs/claims"))
    parser.add_argument("--only", action="append", help="run (and compare) only these jobs")
    parser.add_argument("--compare-only", action="store_true", help="run nothing; compare what is there")
    parser.add_argument("--list", action="store_true", help="print the jobs and claims, run nothing")
    args = parser.parse_args()
    jobs, claims = load_registry()
    if args.list:
        for job in jobs.values():
            print(f"{job.name} (~{job.minutes:.0f} min): {' '.join(job.command)}")
        for claim in claims:
            print(f"  {claim.id}: {claim.doc}: {claim.text!r} = {claim.value:g} ± {claim.tolerance:g}")
        return
    chosen = [jobs[name] for name in args.only] if args.only else list(jobs.values())
    out = args.out.resolve()
    failed = False
    for job in chosen:
        if not args.compare_only and not results_path(out, job.name).is_file():
            failed |= not run_job(job, out)
    missed = compare([c for c in claims if c.job in {job.name for job in chosen}], out)
    sys.exit(2 if failed else 1 if missed else 0)


if __name__ == "__main__":
    main()
