"""Resume after a crash at any point: same selections and outputs as an uninterrupted run, no teacher
call answered twice, no finished training repeated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from edtune.llm.base import ChatRequest
from edtune.loop import AdaptResult, adapt, resume
from edtune.loop.ownership import TAKEOVERS_NAME, StaleOwnerWarning, read_takeovers
from edtune.loop.rundir import RunDir
from loop.fakes import Crash, FamilyStudent, request_key, scripted_teacher

TESTS = Path(__file__).resolve().parents[1]


def run(world: Path, run_dir: Path, student: FamilyStudent, on_call: Callable[[ChatRequest], None]) -> AdaptResult:
    return adapt(student, world / "counting_val.jsonl", world / "pool.jsonl", teacher=scripted_teacher(on_call),
                 test=world / "counting_test.jsonl", replay=world / "base.jsonl", budget=12, iterations=3,
                 run_dir=run_dir, show_bars=False)


UNORDERED = ("locations.jsonl", "skills.jsonl")
"""Teacher results are appended as concurrent calls finish, so only their set of lines is fixed."""
COSTS = ("usage", "cached_calls", "latency_s")
"""Cost fields of teacher results: a reply read back from the cache instead of paid again has its tokens
counted as cached, and no latency."""


def _lines(text: str, drop: tuple[str, ...]) -> str:
    rows = [json.loads(line) for line in text.splitlines()]
    return "".join(sorted(json.dumps({k: v for k, v in row.items() if k not in drop}) + "\n" for row in rows))


def snapshot(run_dir: Path, *, costs: bool = True) -> dict[str, str]:
    """Every file the run wrote by relative path, except the SQLite cache and the record of takeovers from
    killed processes. With `costs=False`, teacher cost fields and the metrics/usage files that sum them are
    left out."""
    files = {}
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file() and not p.name.startswith("llm_cache")
                       and p.name != TAKEOVERS_NAME):
        if not costs and path.name in ("metrics.json", "usage.json"):
            continue
        text = path.read_text()
        if path.name in UNORDERED:
            text = _lines(text, () if costs else COSTS)
        files[str(path.relative_to(run_dir))] = text
    return files


class Recorder:
    """Logs the key of every answered teacher call; raises Crash instead of answering call number `crash_at`."""

    def __init__(self, crash_at: int | None = None) -> None:
        self.crash_at = crash_at
        self.calls = 0
        self.answered: list[str] = []

    def __call__(self, request: ChatRequest) -> None:
        self.calls += 1
        if self.calls == self.crash_at:
            raise Crash(f"killed at teacher call {self.calls}")
        self.answered.append(request_key(request))


@dataclass(frozen=True)
class Reference:
    """The uninterrupted run: its folder, files, teacher calls, and how many training calls it made."""

    run_dir: Path
    files: dict[str, str]
    calls: list[str]
    trainings: int


@pytest.fixture(scope="module")
def reference(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    run_dir = tmp_path_factory.mktemp("reference") / "run"
    recorder, student = Recorder(), FamilyStudent()
    result = run(world, run_dir, student, recorder)
    assert result.stopped == "iterations" and len(student.trained) == 3
    return Reference(run_dir, snapshot(run_dir), recorder.answered, len(student.trained))



def check_resume(world: Path, run_dir: Path, first: Recorder, trained_first: int,
                 reference: Reference) -> None:
    """Resume with a fresh student and teacher (as a new process would) and compare with the reference."""
    second, student = Recorder(), FamilyStudent()
    result = run(world, run_dir, student, second)
    assert result.stopped == "iterations"
    # Equal multisets: together the two processes made exactly the uninterrupted run's calls, so none
    # answered before the crash was asked again (identical requests do recur across iterations).
    assert Counter(first.answered) + Counter(second.answered) == Counter(reference.calls)
    assert trained_first + len(student.trained) == reference.trainings, "a finished training step was repeated"
    assert snapshot(run_dir) == reference.files


STAGE_CRASHES = [(key, when) for key in ("000/judge_test", "001/answer_val", "001/locate", "001/skills",
                                         "001/select", "001/train", "002/judge_val", "002/train", "003/answer_test")
                 for when in ("before", "after")]


@pytest.mark.parametrize(("key", "when"), STAGE_CRASHES)
def test_crash_at_a_stage_boundary(world: Path, tmp_path: Path, reference: Reference,
                                   crash_at_stage: Callable[[str, str], None], key: str, when: str) -> None:
    crash_at_stage(key, when)
    first, student = Recorder(), FamilyStudent()
    with pytest.raises(Crash):
        run(world, tmp_path / "run", student, first)
    crash_at_stage("", "never")
    check_resume(world, tmp_path / "run", first, len(student.trained), reference)


@pytest.mark.parametrize("share", [0.0, 0.3, 0.6, 0.99])
def test_crash_inside_a_teacher_stage(world: Path, tmp_path: Path, reference: Reference, share: float) -> None:
    crash_at = 1 + int(share * (len(reference.calls) - 1))
    first, student = Recorder(crash_at), FamilyStudent()
    with pytest.raises(Crash):
        run(world, tmp_path / "run", student, first)
    assert len(first.answered) >= crash_at - 1  # calls already in flight beside the crashed one finish
    check_resume(world, tmp_path / "run", first, len(student.trained), reference)


KILLED_RUN = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from loop.fakes import FamilyStudent, request_key, scripted_teacher
from edtune.loop import adapt

calls = 0
def on_call(request):
    global calls
    calls += 1
    if calls == {kill_at}:
        os.kill(os.getpid(), signal.SIGKILL)
    with open({log!r}, "a") as log:
        log.write(request_key(request).replace("\\n", " ") + "\\n")

world = Path({world!r})
adapt(FamilyStudent(), world / "counting_val.jsonl", world / "pool.jsonl", teacher=scripted_teacher(on_call),
      test=world / "counting_test.jsonl", replay=world / "base.jsonl", budget=12, iterations=3,
      run_dir={run_dir!r}, show_bars=False)
"""


def test_resume_after_sigkill(world: Path, tmp_path: Path, reference: Reference) -> None:
    run_dir, log = tmp_path / "run", tmp_path / "answered.log"
    code = KILLED_RUN.format(tests=str(TESTS), kill_at=11, log=str(log), world=str(world), run_dir=str(run_dir))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    assert done.returncode == -signal.SIGKILL, done.stderr
    first = Recorder()
    first.answered = [line.rstrip("\n") for line in log.read_text().splitlines()]
    assert len(first.answered) == 10
    assert RunDir(run_dir).is_done("001/answer_val") and not RunDir(run_dir).is_done("001/skills")
    second, student = Recorder(), FamilyStudent()
    with pytest.warns(StaleOwnerWarning):  # the killed process still holds owner.json
        resume(run_dir, student=student, teacher=scripted_teacher(second), show_bars=False)
    assert len(read_takeovers(run_dir)) == 1
    resumed = [c.replace("\n", " ") for c in second.answered]
    assert Counter(first.answered) + Counter(resumed) == Counter(c.replace("\n", " ") for c in reference.calls)
    assert len(student.trained) == reference.trainings
    # Calls answered just before the kill come back from the run's cache, their tokens counted as cached.
    assert snapshot(run_dir, costs=False) == snapshot(reference.run_dir, costs=False)
    assert_usage_counts_cached_replies(run_dir, reference.run_dir)


def _stage_usage(run_dir: Path) -> dict[str, dict[str, dict[str, int]]]:
    """Usage per stage from usage.json and summed over metrics.json's iterations."""
    from edtune.llm.usage import StageUsage, UsageReport
    from edtune.loop.metrics import RunMetrics

    metrics = RunMetrics.model_validate_json((run_dir / "metrics.json").read_text())
    summed: dict[str, StageUsage] = {}
    for it in metrics.iterations:
        for stage, usage in it.teacher.items():
            summed[stage] = summed.get(stage, StageUsage()) + usage
    report = UsageReport.model_validate_json((run_dir / "usage.json").read_text())
    return {"metrics": {k: v.model_dump() for k, v in summed.items()},
            "usage": {k: v.model_dump() for k, v in report.stages.items()}}


def assert_usage_counts_cached_replies(run_dir: Path, reference_dir: Path) -> None:
    """Paid plus cached tokens equal the uninterrupted run's, stage by stage, in metrics.json and usage.json,
    and more replies are flagged as cached than there (those answered before the kill): a reply read back
    from the cache keeps the tokens it was paid with instead of counting 0."""
    resumed, clean = _stage_usage(run_dir), _stage_usage(reference_dir)
    for source in ("metrics", "usage"):
        assert resumed[source].keys() == clean[source].keys() and resumed[source]
        for stage, got in resumed[source].items():
            want = clean[source][stage]
            for paid, cached in (("calls", "cached_calls"), ("prompt_tokens", "cached_prompt_tokens"),
                                 ("completion_tokens", "cached_completion_tokens")):
                assert got[paid] + got[cached] == want[paid] + want[cached], (source, stage, paid)
        more = {stage: got["cached_calls"] - clean[source][stage]["cached_calls"]
                for stage, got in resumed[source].items()}
        more_tokens = sum(got["cached_prompt_tokens"] - clean[source][stage]["cached_prompt_tokens"]
                          for stage, got in resumed[source].items())
        assert sum(more.values()) > 0 and more_tokens > 0, f"{source}: no reply answered before the kill is cached"
