"""SIGINT and SIGTERM on `edtune run` end with exit 130 / 143 and a line saying how to resume; the run
directory stays consistent (SIGINT too when it was inherited as ignored), and the resumed run ends with
the same selection as an uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edtune.loop.consistency import check_run_dir
from edtune.loop.ownership import read_owner
from edtune.loop.rundir import RunDir
from loop.test_cli import _app, _config, summary

SIGNAL_AT_STAGE = """
import os, signal, sys
from edtune.loop.rundir import RunDir

original = RunDir.mark_done

def mark_done(self, key):
    original(self, key)
    if key == {key!r}:
        os.kill(os.getpid(), {signum})

RunDir.mark_done = mark_done
sys.argv = ["edtune", "run", {config!r}, "--run-dir", {run_dir!r}, "--no-bars"]
from edtune.cli import main
main()
"""


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(("signum", "key", "inherited_ignore"),
                         [(signal.SIGTERM, "001/select", False), (signal.SIGINT, "000/judge_test", True)])
def test_a_signal_stops_the_run_cleanly_and_resume_finishes_it(tmp_path: Path, world: Path, checkpoint: Path,
                                                               signum: int, key: str, inherited_ignore: bool) -> None:
    config, run_dir = _config(tmp_path, world, checkpoint), tmp_path / "run"
    code = SIGNAL_AT_STAGE.format(key=key, signum=int(signum), config=str(config), run_dir=str(run_dir))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          preexec_fn=_ignore_sigint if inherited_ignore else None,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    assert done.returncode == 128 + signum, done.stderr
    assert done.stderr.rstrip().endswith(f"interrupted; resume with edtune resume {run_dir}")
    run = RunDir(run_dir)
    assert run.is_done(key) and run.state().stopped is None and read_owner(run_dir) is None
    check_run_dir(run)

    runner, app = CliRunner(), _app()
    resumed = runner.invoke(app, ["resume", str(run_dir), "--no-bars"])
    reference = runner.invoke(app, ["run", str(config), "--run-dir", str(tmp_path / "ref"), "--no-bars"])
    assert resumed.exit_code == 0 and reference.exit_code == 0, resumed.output + reference.output
    assert summary(resumed.output)[:3] == summary(reference.output)[:3]  # headline and the iterations
    selection = RunDir(tmp_path / "ref").file(1, "selection.jsonl").read_text()
    assert run.file(1, "selection.jsonl").read_text() == selection
