"""Helpers of the viewer tests: a small real run, and a copy of one to damage."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

from loop.fakes import FamilyStudent, scripted_teacher

from edtune.loop import adapt


def make_run(world: Path, run_dir: Path, method: str = "error_driven") -> Path:
    """A finished 3-iteration run of `method` at budget 12 on the counting task of `world`."""
    from edtune.retrieval.base import TinyCorpusWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TinyCorpusWarning)
        teacher = scripted_teacher() if method != "random" else None
        adapt(FamilyStudent(), world / "counting_val.jsonl", world / "pool.jsonl", teacher=teacher,
              test=world / "counting_test.jsonl", replay=world / "base.jsonl", budget=12, iterations=3,
              run_dir=run_dir, show_bars=False, method=method)
    return run_dir


def copy_run(run: Path, to: Path) -> Path:
    """A copy of a run directory that a test may damage."""
    shutil.copytree(run, to, ignore=shutil.ignore_patterns("run.lock", "owner.json"))
    return to
