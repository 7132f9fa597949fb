"""One process owns a run directory; a stale lock is taken over; a run continues only in a consistent
directory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from edtune.errors import DataError, RunDirBusy
from edtune.loop import adapt, resume
from edtune.loop.consistency import check_run_dir
from edtune.loop.ownership import StaleOwnerWarning, own_run_dir, read_owner, read_takeovers
from edtune.loop.rundir import RunDir
from loop.fakes import FamilyStudent, scripted_teacher

HOLD_AND_DIE = """
import os, signal, sys
from edtune.loop.ownership import own_run_dir
with own_run_dir(sys.argv[1]):
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _run(world: Path, run_dir: Path) -> None:
    adapt(FamilyStudent(), world / "counting_val.jsonl", world / "pool.jsonl", teacher=scripted_teacher(),
          test=world / "counting_test.jsonl", budget=6, iterations=1, run_dir=run_dir, show_bars=False)


def test_a_second_owner_is_refused_with_the_owner_named(tmp_path: Path) -> None:
    with own_run_dir(tmp_path / "run") as owner:
        assert read_owner(tmp_path / "run") == owner and owner.stale_owner is None
        with pytest.raises(RunDirBusy) as info, own_run_dir(tmp_path / "run"):
            pass
    assert info.value.pid == os.getpid() and info.value.host == socket.gethostname()
    assert f"process {os.getpid()} on {socket.gethostname()}" in str(info.value)
    assert read_owner(tmp_path / "run") is None
    with own_run_dir(tmp_path / "run"):
        pass


def test_a_lock_left_by_kill_9_is_taken_over(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", HOLD_AND_DIE, str(tmp_path / "run")], timeout=60,
                          capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    stale = read_owner(tmp_path / "run")
    assert stale is not None and stale.pid != os.getpid()
    with pytest.warns(StaleOwnerWarning) as caught, own_run_dir(tmp_path / "run") as owner:
        assert owner.pid == os.getpid() and owner.stale_owner is not None
        assert owner.stale_owner.pid == stale.pid
    assert len(caught) == 1, "the takeover is said once"
    assert f"from process {stale.pid} on {stale.host}" in str(caught[0].message)
    # owner.json goes when the new owner lets go; the takeover stays on record.
    assert read_owner(tmp_path / "run") is None and read_takeovers(tmp_path / "run") == [owner]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a directory let go of properly is taken without a word
        with own_run_dir(tmp_path / "run"):
            pass
    assert read_takeovers(tmp_path / "run") == [owner]


def test_a_run_killed_before_its_config_was_written_starts_after_the_takeover(world: Path, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", HOLD_AND_DIE, str(tmp_path / "run")], timeout=60,
                          capture_output=True, text=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    stale = read_owner(tmp_path / "run")
    assert stale is not None
    with pytest.warns(StaleOwnerWarning, match=f"from process {stale.pid} on "):
        _run(world, tmp_path / "run")
    takeovers = read_takeovers(tmp_path / "run")
    assert [t.stale_owner.pid if t.stale_owner else None for t in takeovers] == [stale.pid]
    assert RunDir(tmp_path / "run").state().stopped is not None


def test_adapt_and_resume_are_refused_while_another_process_owns_the_dir(world: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    with own_run_dir(run_dir), pytest.raises(RunDirBusy):
        _run(world, run_dir)
    _run(world, run_dir)
    with own_run_dir(run_dir), pytest.raises(RunDirBusy):
        resume(run_dir, student=FamilyStudent(), teacher=scripted_teacher(), show_bars=False)


def test_duplicate_rows_are_refused_on_resume(world: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    _run(world, run_dir)
    outputs = RunDir(run_dir).file(1, "val_outputs.jsonl")
    first_line = outputs.read_text().splitlines()[0]
    with outputs.open("a") as handle:
        handle.write(first_line + "\n")
    with pytest.raises(DataError) as info:
        resume(run_dir, student=FamilyStudent(), teacher=scripted_teacher(), show_bars=False)
    assert info.value.file == str(outputs) and info.value.field == "sample_id"
    assert info.value.row == len(outputs.read_text().splitlines())


def test_a_finished_stage_without_its_output_is_refused(world: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    _run(world, run_dir)
    check_run_dir(RunDir(run_dir))
    RunDir(run_dir).file(1, "locations.jsonl").unlink()
    with pytest.raises(DataError, match=r"001/locate .* missing") as info:
        resume(run_dir, student=FamilyStudent(), teacher=scripted_teacher(), show_bars=False)
    assert info.value.field == "done" and info.value.file == str(RunDir(run_dir).state_path)


def test_a_torn_last_line_is_not_corruption(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    run.root.mkdir()
    run.state_path.write_text('{"done": []}')
    path = run.file(1, "val_outputs.jsonl")
    path.parent.mkdir(parents=True)
    path.write_text('{"sample_id": "a"}\n{"sample_id": "b"}\n{"sample_id": "a"')
    check_run_dir(run)
