"""`edtune reference-teacher` serves until interrupted, and reports what it served."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from reference_helpers import REPO_ROOT


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_cli_serves_until_ctrl_c_or_kill(world_dir: Path, stop: signal.Signals) -> None:
    command = [sys.executable, "-c", "from edtune.cli import main; main()", "reference-teacher", "--world",
               str(world_dir), "--port", "0", "--error-rate", "0.2", "--model", "ref-test"]
    # As a script's `cmd &` would start it: SIGINT ignored; the command must still stop on it.
    process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        second = process.stdout.readline()
        assert "error rate 0.2" in first and "ref-test" in second
        base_url = second.split(" at ")[1].split(" ")[0]
        with urllib.request.urlopen(f"{base_url}/models", timeout=10) as response:
            assert json.loads(response.read())["data"][0]["id"] == "ref-test"
        process.send_signal(stop)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stopped; served nothing; refused 0" in out


def test_cli_refuses_a_folder_without_a_world(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "from edtune.cli import main; main()", "reference-teacher", "--world",
               str(tmp_path), "--port", "0"]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "no shapes world here" in done.stderr
