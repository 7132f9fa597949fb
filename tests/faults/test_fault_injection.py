"""Fault injection: a seeded faulty proxy in front of the reference teacher, a second process on the same
run directory, and kill -9 then resume. Transient faults change nothing in the run's outcome; faults
that outlast the retries cost only the samples they hit, recorded with their evidence."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from faulty_proxy import FAULTS, FaultPlan, ProxyLog, faulty_proxy
from loop.fakes import FamilyStudent

from edtune.bench.reference import RunningServer
from edtune.errors import RunDirBusy, TeacherPreflightFailed
from edtune.jsonl import read_jsonl
from edtune.llm.usage import StageUsage, UsageReport
from edtune.loop import AdaptResult, adapt, resume
from edtune.loop.consistency import check_run_dir
from edtune.loop.metrics import RunMetrics
from edtune.loop.ownership import StaleOwnerWarning, read_owner, read_takeovers
from edtune.loop.rundir import RunDir
from edtune.teacher.records import SkillAnalysis, StepLocation

TESTS = Path(__file__).resolve().parents[1]
SpecFile = Callable[..., Path]
"""The `teacher_spec` fixture: `(base_url, **settings) -> path` of a teacher spec file."""
ITERATIONS = 2


def run(world: Path, run_dir: Path, teacher: Path, **settings: Any) -> AdaptResult:
    return adapt(FamilyStudent(), world / "counting_val.jsonl", world / "pool.jsonl", teacher=str(teacher),
                 test=world / "counting_test.jsonl", replay=world / "base.jsonl", budget=12, iterations=ITERATIONS,
                 run_dir=run_dir, show_bars=False, **settings)


@dataclass(frozen=True)
class Outcome:
    """What must not change under faults: each iteration's selection and the teacher's answers."""

    selections: list[str]
    steps: list[dict[str, int | None]]
    skills: list[dict[str, list[str]]]
    lost: int
    """Teacher results that ended as failures."""
    stopped: str | None
    """Why the loop ended."""


def outcome(run_dir: Path) -> Outcome:
    rd = RunDir(run_dir)
    selections, steps, skills, lost = [], [], [], 0
    for i in range(1, ITERATIONS + 1):
        selections.append(rd.file(i, "selection.jsonl").read_text() if rd.file(i, "selection.jsonl").exists() else "")
        locations = read_jsonl(rd.file(i, "locations.jsonl"), StepLocation)
        analyses = read_jsonl(rd.file(i, "skills.jsonl"), SkillAnalysis)
        steps.append({r.sample_id: r.step for r in locations})
        skills.append({r.sample_id: r.missing_skills for r in analyses})
        lost += sum(r.failure is not None for r in [*locations, *analyses])
    return Outcome(selections, steps, skills, lost, rd.state().stopped)


@pytest.fixture(scope="module")
def clean_run(fault_world: Path, teacher_server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run directory of a run with no fault."""
    folder = tmp_path_factory.mktemp("clean")
    spec = folder / "teacher.toml"
    spec.write_text(f'provider = "openai-compatible"\nmodel = "{teacher_server.model}"\n'
                    f'base_url = "{teacher_server.base_url}"\n')
    run(fault_world, folder / "run", spec)
    return folder / "run"


@pytest.fixture(scope="module")
def clean(clean_run: Path) -> Outcome:
    clean = outcome(clean_run)
    assert clean.lost == 0 and clean.selections[0] and clean.steps[0] and clean.skills[0]
    return clean


def test_transient_faults_leave_the_selection_unchanged(fault_world: Path, teacher_server: RunningServer,
                                                        teacher_spec: SpecFile, tmp_path: Path, clean: Outcome) -> None:
    plan = FaultPlan(rate=0.9, seed=2, delay_s=2.5)
    with faulty_proxy(teacher_server.base_url, plan) as (url, proxy):
        run(fault_world, tmp_path / "run", teacher_spec(url, timeout_s=2.0))
    assert outcome(tmp_path / "run") == clean  # nothing lost, same answers, same selection
    assert {fault for _, fault in proxy.log.faults} == set(FAULTS)  # every kind was met and survived
    assert proxy.log.repaid() == 0
    check_run_dir(RunDir(tmp_path / "run"))


def test_faults_outlasting_the_retries_fail_only_their_samples(fault_world: Path, teacher_server: RunningServer,
                                                              teacher_spec: SpecFile, tmp_path: Path) -> None:
    plan = FaultPlan(rate=1.0, seed=0, kinds=("truncated", "html", "reset"), max_faults_per_body=99)
    with faulty_proxy(teacher_server.base_url, plan) as (url, _):
        with pytest.raises(TeacherPreflightFailed) as refused:  # a teacher that never answers is refused at start
            run(fault_world, tmp_path / "run", teacher_spec(url, max_retries=1))
        assert (refused.value.check, refused.value.tries) == ("reachable", 2) and "after 2 tries" in str(refused.value)
        assert not RunDir(tmp_path / "run").started()
        result = run(fault_world, tmp_path / "run", teacher_spec(url, max_retries=1), teacher_preflight=False)
    assert result.stopped == "nothing_selected"
    locations = read_jsonl(RunDir(tmp_path / "run").file(1, "locations.jsonl"), StepLocation)
    assert locations and all(r.outcome == "failed" and r.failure is not None for r in locations)
    for record in locations:
        assert record.failure is not None and "malformed reply" in record.failure.message
        assert "2 tries" in record.failure.attempts[0].error


HOLD_AT_STAGE = """
import os, signal, sys
from pathlib import Path
sys.path[:0] = [{tests!r}, {tests!r} + "/faults"]
from edtune.loop.rundir import RunDir
from faults.test_fault_injection import run

original = RunDir.mark_done

def mark_done(self, key):
    original(self, key)
    if key == {key!r}:
        {action}

RunDir.mark_done = mark_done
{extra}
run(Path({world!r}), Path({run_dir!r}), Path({spec!r}))
print("finished", flush=True)
"""
WAIT = 'print("holding", flush=True); sys.stdin.readline()'
KILL = "os.kill(os.getpid(), signal.SIGKILL)"


KILL_AFTER_RESULTS = """
import edtune.teacher.batch as batch
write, written = batch._Appender.write, []

def killing_write(self, finished):
    write(self, finished)
    written.extend(finished)
    if len(written) >= {results}:
        os.kill(os.getpid(), signal.SIGKILL)

batch._Appender.write = killing_write
"""


def _script(action: str, key: str, world: Path, run_dir: Path, spec: Path, extra: str = "") -> list[str]:
    code = HOLD_AT_STAGE.format(tests=str(TESTS), key=key, action=action, world=str(world), run_dir=str(run_dir),
                                spec=str(spec), extra=extra)
    return [sys.executable, "-c", code]


def test_a_second_run_is_refused_and_the_first_is_unharmed(fault_world: Path, teacher_server: RunningServer,
                                                           teacher_spec: SpecFile, tmp_path: Path,
                                                           clean: Outcome) -> None:
    run_dir, spec = tmp_path / "run", teacher_spec(teacher_server.base_url)
    first = subprocess.Popen(_script(WAIT, "001/locate", fault_world, run_dir, spec), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert first.stdout is not None and first.stdout.readline() == "holding\n"
        with pytest.raises(RunDirBusy) as info:
            run(fault_world, run_dir, spec)
        assert info.value.pid == first.pid
        with pytest.raises(RunDirBusy):
            resume(run_dir, student=FamilyStudent(), show_bars=False)
        out, err = first.communicate("go\n", timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0 and out == "finished\n", err
    assert outcome(run_dir) == clean
    check_run_dir(RunDir(run_dir))


KILL_POINTS = ["000/judge_test", "001/locate", "001/skills", "001/train"]


@pytest.mark.parametrize("key", KILL_POINTS)
def test_kill_9_then_resume_gives_the_same_selection(fault_world: Path, teacher_server: RunningServer,
                                                    teacher_spec: SpecFile, tmp_path: Path, clean: Outcome,
                                                    key: str) -> None:
    plan = FaultPlan(rate=0.3, seed=2, kinds=("rate_limit", "server_error", "truncated", "prose"))
    with faulty_proxy(teacher_server.base_url, plan) as (url, proxy):
        spec = teacher_spec(url)
        killed = subprocess.run(_script(KILL, key, fault_world, tmp_path / "run", spec), capture_output=True,
                                text=True, timeout=120, env={**os.environ, "PYTHONHASHSEED": "0"})
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        stale = read_owner(tmp_path / "run")
        assert stale is not None and stale.pid != os.getpid()
        with pytest.warns(StaleOwnerWarning, match=f"from process {stale.pid} on {stale.host}"):
            resume(tmp_path / "run", student=FamilyStudent(), show_bars=False)
    assert [t.stale_owner for t in read_takeovers(tmp_path / "run")] == [stale]
    assert outcome(tmp_path / "run") == clean
    assert_no_call_repaid(proxy.log)


@pytest.mark.slow
def test_kill_9_at_every_stage_boundary_in_turn(fault_world: Path, teacher_server: RunningServer,
                                                teacher_spec: SpecFile, tmp_path: Path, clean: Outcome,
                                                clean_run: Path) -> None:
    """One process per stage boundary of the clean run: each resumes the run its predecessor was killed in
    and is killed with SIGKILL just after marking the next stage finished; the last resume finishes it."""
    keys, run_dir = RunDir(clean_run).state().done, tmp_path / "run"
    assert len(keys) >= 10
    plan = FaultPlan(rate=0.3, seed=5, kinds=("rate_limit", "server_error", "truncated", "prose"))
    with faulty_proxy(teacher_server.base_url, plan) as (url, proxy):
        spec = teacher_spec(url)
        for key in keys:
            killed = subprocess.run(_script(KILL, key, fault_world, run_dir, spec), capture_output=True, text=True,
                                    timeout=120, env={**os.environ, "PYTHONHASHSEED": "0"})
            assert killed.returncode == -signal.SIGKILL, (key, killed.stderr)
            assert RunDir(run_dir).state().done[-1] == key
        with pytest.warns(StaleOwnerWarning):
            resume(run_dir, student=FamilyStudent(), show_bars=False)
    assert outcome(run_dir) == clean
    assert_no_call_repaid(proxy.log)
    assert len(read_takeovers(run_dir)) == len(keys)  # each process took over from the one killed before it
    check_run_dir(RunDir(run_dir))


KILL_MID_STUDENT_STAGE = {
    "answer": """
import edtune.loop.rundir as rundir
append = rundir.append_jsonl

def torn_append(path, records):
    records = list(records)
    if str(path).endswith("001/val_outputs.jsonl") and len(records) > 1:
        append(path, records[:1])
        with open(path, "a") as handle:  # half of the next record, as a kill during the write leaves it
            handle.write(records[1].model_dump_json()[:20])
        os.kill(os.getpid(), signal.SIGKILL)
    return append(path, records)

rundir.append_jsonl = torn_append
""",
    "train": """
from loop.fakes import FamilyStudent
save = FamilyStudent.save_adapter

def killed_while_saving(self, directory):
    save(self, directory)
    os.kill(os.getpid(), signal.SIGKILL)  # the scratch folder holds a half-saved adapter

FamilyStudent.save_adapter = killed_while_saving
""",
}


@pytest.mark.parametrize("stage", sorted(KILL_MID_STUDENT_STAGE))
def test_kill_9_inside_a_student_stage_then_resume(fault_world: Path, teacher_server: RunningServer,
                                                   teacher_spec: SpecFile, tmp_path: Path, clean: Outcome,
                                                   stage: str) -> None:
    """Killed while appending validation outputs (a torn last line) or while saving an adapter (a scratch
    folder left in adapters/): the resumed run drops the torn line, sweeps the scratch folder, and ends as the
    clean run did, paying no call twice."""
    run_dir = tmp_path / "run"
    with faulty_proxy(teacher_server.base_url, FaultPlan()) as (url, proxy):
        spec = teacher_spec(url)
        killed = subprocess.run(_script("pass", "never", fault_world, run_dir, spec, KILL_MID_STUDENT_STAGE[stage]),
                                capture_output=True, text=True, timeout=120)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        rd = RunDir(run_dir)
        if stage == "answer":
            assert not rd.file(1, "val_outputs.jsonl").read_text().endswith("\n")
        else:
            assert list((run_dir / "adapters").glob(".001.*")) and not rd.adapter(1).exists()
        check_run_dir(rd)
        with pytest.warns(StaleOwnerWarning):
            resume(run_dir, student=FamilyStudent(), show_bars=False)
    assert outcome(run_dir) == clean
    assert_no_call_repaid(proxy.log)
    assert not list((run_dir / "adapters").glob(".*"))


@pytest.mark.parametrize("results", [3, 11])
def test_kill_9_inside_a_teacher_stage_repays_only_calls_in_flight(
        fault_world: Path, teacher_server: RunningServer, teacher_spec: SpecFile, tmp_path: Path, clean: Outcome,
        clean_run: Path, results: int) -> None:
    """Killed after `results` teacher results were written (3: inside localisation, 11: inside skill analysis)."""
    concurrency = 4
    with faulty_proxy(teacher_server.base_url, FaultPlan()) as (url, proxy):
        spec = teacher_spec(url, concurrency=concurrency)
        killer = KILL_AFTER_RESULTS.format(results=results)
        script = _script("pass", "never", fault_world, tmp_path / "run", spec, killer)
        killed = subprocess.run(script, capture_output=True, text=True, timeout=120)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        with pytest.warns(StaleOwnerWarning):
            resume(tmp_path / "run", student=FamilyStudent(), show_bars=False)
    assert outcome(tmp_path / "run") == clean
    assert proxy.log.repaid() < concurrency  # at most the calls in flight beside the one just written
    assert_usage_counts_cached_replies(tmp_path / "run", clean_run)


def _teacher_usage(run_dir: Path) -> dict[str, StageUsage]:
    """Teacher usage per stage, summed over metrics.json's iterations (from the result records)."""
    metrics = RunMetrics.model_validate_json((run_dir / "metrics.json").read_text())
    summed: dict[str, StageUsage] = {}
    for it in metrics.iterations:
        for stage, usage in it.teacher.items():
            summed[stage] = summed.get(stage, StageUsage()) + usage
    return summed


def assert_usage_counts_cached_replies(run_dir: Path, clean_run: Path) -> None:
    """The resumed run's results cost what the clean run's did, paid plus cached: a reply answered before
    the kill and read back from the cache keeps the tokens it was paid with, flagged as cached (whether
    the kill left such a reply depends on timing; tests/loop/test_resume.py forces one). usage.json (the
    call log) counts at least those replies as cached, with their tokens."""
    resumed, clean = _teacher_usage(run_dir), _teacher_usage(clean_run)
    assert resumed.keys() == clean.keys() and resumed
    logged = UsageReport.model_validate_json((run_dir / "usage.json").read_text()).stages
    for stage, got in resumed.items():
        want = clean[stage]
        assert got.calls + got.cached_calls == want.calls + want.cached_calls, stage
        assert got.total_tokens + got.cached_tokens == want.total_tokens + want.cached_tokens > 0, stage
        assert logged[stage].cached_calls >= got.cached_calls, stage
        for usage in (got, logged[stage]):
            assert (usage.cached_calls > 0) == (usage.cached_tokens > 0), stage


TERMINATE_AFTER_RESULTS = """
import os, signal, sys
from pathlib import Path
sys.path[:0] = [{tests!r}, {tests!r} + "/faults"]
import edtune.teacher.batch as batch
from faults.test_fault_injection import run
from edtune.cli import install_signal_handlers
from edtune.errors import Interrupted

install_signal_handlers()
write, written = batch._Appender.write, []

def terminating_write(self, finished):
    write(self, finished)
    written.extend(finished)
    if len(written) >= {results} and len(written) - len(finished) < {results}:
        os.kill(os.getpid(), signal.SIGTERM)  # from the LLM loop's thread; the handler runs in the main one

batch._Appender.write = terminating_write
try:
    run(Path({world!r}), Path({run_dir!r}), Path({spec!r}))
except Interrupted as exc:
    sys.exit(exc.exit_code)
"""


def test_sigterm_inside_a_teacher_stage_leaves_a_resumable_run(fault_world: Path, teacher_server: RunningServer,
                                                               teacher_spec: SpecFile, tmp_path: Path,
                                                               clean: Outcome) -> None:
    concurrency, run_dir = 4, tmp_path / "run"
    with faulty_proxy(teacher_server.base_url, FaultPlan()) as (url, proxy):
        spec = teacher_spec(url, concurrency=concurrency)
        code = TERMINATE_AFTER_RESULTS.format(tests=str(TESTS), results=3, world=str(fault_world),
                                              run_dir=str(run_dir), spec=str(spec))
        stopped = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert stopped.returncode == 128 + signal.SIGTERM, stopped.stderr
        rd = RunDir(run_dir)
        assert not rd.is_done("001/locate") and read_owner(run_dir) is None
        check_run_dir(rd)
        resume(run_dir, student=FamilyStudent(), show_bars=False)
    assert outcome(run_dir) == clean
    assert proxy.log.repaid() <= concurrency  # at most the calls in flight when the work was cancelled


def assert_no_call_repaid(log: ProxyLog) -> None:
    """A kill at a stage boundary has no call in flight: every reply delivered before it is in the run's
    cache, so none is delivered twice."""
    assert log.repaid() == 0, f"{log.repaid()} calls paid twice"
