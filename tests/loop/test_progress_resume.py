"""PROGRESS resumes like the error-driven loop: after a crash at any stage boundary, inside an evaluation,
or a SIGKILL, the run ends with the same files as an uninterrupted one, no finished training repeated, no
judged evaluation judged again, and features and clusterings never recomputed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from edtune.loop.ownership import TAKEOVERS_NAME, StaleOwnerWarning, read_takeovers
from edtune.loop.rundir import RunDir
from edtune.records import Sample, StudentOutput
from loop.fakes import Crash, FamilyStudent
from loop.test_progress_method import CountingJudge, run

TESTS = Path(__file__).resolve().parents[1]


class CrashingStudent(FamilyStudent):
    """Raises Crash on answer call number `crash_at` (after the earlier calls' outputs were written)."""

    def __init__(self, crash_at: int | None = None) -> None:
        super().__init__()
        self.crash_at = crash_at
        self.calls = 0

    def answer(self, samples: Sequence[Sample], image_root: Path, *, batch_size: int = 64) -> list[StudentOutput]:
        self.calls += 1
        if self.calls == self.crash_at:
            raise Crash(f"killed at answer call {self.calls}")
        return super().answer(samples, image_root, batch_size=batch_size)


@dataclass(frozen=True)
class Reference:
    run_dir: Path
    files: dict[str, str]
    judged: list[str]
    trainings: int
    answer_calls: int


@pytest.fixture(scope="module")
def reference(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    run_dir = tmp_path_factory.mktemp("progress-reference") / "run"
    student, judge = CrashingStudent(), CountingJudge()
    assert run(world, run_dir, student, judge).stopped == "iterations"
    return Reference(run_dir, snapshot(run_dir), judge.judged, len(student.trained), student.calls)



def resume_and_check(world: Path, run_dir: Path, first: CrashingStudent, first_judge: CountingJudge,
                     reference: Reference, monkeypatch: pytest.MonkeyPatch) -> None:
    """Resume with a fresh student and judge; features and k-means must not run again once cached."""
    if (run_dir / "progress" / "warmup.npz").is_file():
        def refuse(*args: object, **kwargs: object) -> None:
            raise AssertionError("cached PROGRESS features or clusters were recomputed")

        monkeypatch.setattr("edtune.methods.progress.pool.build_features", refuse)
        monkeypatch.setattr("edtune.methods.progress.pool.spherical_kmeans", refuse)
    second, judge = CrashingStudent(), CountingJudge()
    assert run(world, run_dir, second, judge).stopped == "iterations"
    assert len(first.trained) + len(second.trained) == reference.trainings, "a finished training was repeated"
    assert Counter(first_judge.judged) + Counter(judge.judged) == Counter(reference.judged), "re-judged"
    assert snapshot(run_dir) == reference.files


STAGES = [(key, when) for key in ("000/judge_test", "001/features", "001/select", "001/train",
                                  "002/evaluate_previous", "002/evaluate_current", "002/select", "003/train",
                                  "004/select")
          for when in ("before", "after")]


@pytest.mark.parametrize(("key", "when"), STAGES)
def test_crash_at_a_stage_boundary(world: Path, tmp_path: Path, reference: Reference, key: str, when: str,
                                   crash_at_stage: Callable[[str, str], None], monkeypatch: pytest.MonkeyPatch) -> None:
    crash_at_stage(key, when)
    first, judge = CrashingStudent(), CountingJudge()
    with pytest.raises(Crash):
        run(world, tmp_path / "run", first, judge)
    crash_at_stage("", "never")
    resume_and_check(world, tmp_path / "run", first, judge, reference, monkeypatch)


@pytest.mark.parametrize("share", [0.2, 0.5, 0.8])
def test_crash_while_the_student_answers(world: Path, tmp_path: Path, reference: Reference, share: float,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    first, judge = CrashingStudent(crash_at=1 + int(share * reference.answer_calls)), CountingJudge()
    with pytest.raises(Crash):
        run(world, tmp_path / "run", first, judge)
    resume_and_check(world, tmp_path / "run", first, judge, reference, monkeypatch)


def snapshot(run_dir: Path) -> dict[str, str]:
    """Every file of the run by relative path, except the record of takeovers from killed processes; the
    cached arrays by content (an .npz member records the time it was written, so its bytes differ between
    two runs)."""
    files = {}
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file() and p.name != TAKEOVERS_NAME):
        if path.suffix in (".npy", ".npz"):
            loaded = np.load(path)
            parts = [loaded] if isinstance(loaded, np.ndarray) else [loaded[k] for k in sorted(loaded.files)]
            files[str(path.relative_to(run_dir))] = "|".join(part.tobytes().hex() for part in parts)
        else:
            files[str(path.relative_to(run_dir))] = path.read_text()
    return files


KILLED_RUN = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from loop.test_progress_method import CountingJudge, run
from loop.test_progress_resume import CrashingStudent as Base

class CrashingStudent(Base):  # the run records the student's class name: it must match on resume
    def answer(self, samples, image_root, *, batch_size=64):
        if self.calls + 1 == {kill_at}:
            os.kill(os.getpid(), signal.SIGKILL)
        return super().answer(samples, image_root, batch_size=batch_size)

class LoggedJudge(CountingJudge):
    async def judge(self, samples, outputs):
        with open({log!r}, "a") as log:
            log.write("".join(s.id + "\\n" for s in samples))
        return await super().judge(samples, outputs)

run(Path({world!r}), Path({run_dir!r}), CrashingStudent(), LoggedJudge())
"""


def test_resume_after_sigkill(world: Path, tmp_path: Path, reference: Reference,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir, log = tmp_path / "run", tmp_path / "judged.log"
    kill_at = reference.answer_calls - 3  # inside a late round's evaluation
    code = KILLED_RUN.format(tests=str(TESTS), kill_at=kill_at, log=str(log), world=str(world), run_dir=str(run_dir))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    assert done.returncode == -signal.SIGKILL, done.stderr
    first, judge = CrashingStudent(), CountingJudge()
    judge.judged = log.read_text().split()
    first.trained = [[] for _ in RunDir(run_dir).root.glob("adapters/0*")]
    assert first.trained, "the kill came before any training finished"
    with pytest.warns(StaleOwnerWarning):  # the killed process still holds owner.json
        resume_and_check(world, run_dir, first, judge, reference, monkeypatch)
    assert len(read_takeovers(run_dir)) == 1
