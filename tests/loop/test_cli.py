"""`edtune run CONFIG` and `edtune resume RUN_DIR` through typer, and their one-line errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from edtune.cli import format_error
from edtune.cli import run as run_cli
from edtune.errors import ConfigError, DataError
from edtune.loop.rundir import RunDir


def _app() -> typer.Typer:
    app = typer.Typer()
    run_cli.register(app)
    return app


def _config(tmp_path: Path, world: Path, checkpoint: Path, extra: str = "") -> Path:
    text = f"""
method = "random"
budget = 6
iterations = 1
{extra}
[student]
path = "{checkpoint}"
[student.generation]
max_new_tokens = 8
[data]
val = {{path = "{world / 'counting_val.jsonl'}"}}
test = {{path = "{world / 'counting_test.jsonl'}"}}
pool = {{path = "{world / 'pool.jsonl'}"}}
[training.lora]
epochs = 1
min_steps = 0
print_targets = false
"""
    path = tmp_path / "random.toml"
    path.write_text(text)
    return path


def summary(output: str) -> list[str]:
    """The summary lines (transformers' own loading bars share the captured output)."""
    marks = ("random:", "  iteration", "adapter:", "run directory:")
    return [line[line.index(mark):] for line in output.splitlines() for mark in marks if mark in line]


def test_run_then_resume(tmp_path: Path, world: Path, checkpoint: Path) -> None:
    runner, app, run_dir = CliRunner(), _app(), tmp_path / "run"
    config = _config(tmp_path, world, checkpoint)
    done = runner.invoke(app, ["run", str(config), "--run-dir", str(run_dir), "--no-bars"])
    assert done.exit_code == 0, done.output
    assert "random: stopped (iterations) after 1 iteration(s); 6 samples used (7.5% of the pool)" in done.output
    assert (run_dir / "adapters" / "001" / "adapter_config.json").is_file()
    again = runner.invoke(app, ["resume", str(run_dir), "--no-progress"])  # the flag's old name, for a release
    assert again.exit_code == 0 and summary(again.output) == summary(done.output)
    assert "--progress/--no-progress is now --bars/--no-bars" in again.output
    assert len(summary(done.output)) == 5  # headline, iterations 0 and 1, adapter, run directory


def test_errors_are_one_line(tmp_path: Path, world: Path, checkpoint: Path) -> None:
    runner, app = CliRunner(), _app()
    bad = runner.invoke(app, ["run", str(_config(tmp_path, world, checkpoint, "budgte = 3")), "--no-bars"])
    assert isinstance(bad.exception, ConfigError)
    line = format_error(bad.exception)
    assert line.startswith("error: ") and "random.toml" in line and "field 'budgte'" in line and "\n" not in line
    config = _config(tmp_path, world, checkpoint).read_text().replace("pool.jsonl", "missing.jsonl")
    (tmp_path / "missing.toml").write_text(config)
    missing = runner.invoke(app, ["run", str(tmp_path / "missing.toml"), "--run-dir", str(tmp_path / "m")])
    assert isinstance(missing.exception, DataError) and "missing.jsonl" in format_error(missing.exception)
    gone = runner.invoke(app, ["resume", str(tmp_path / "nothing")])
    assert isinstance(gone.exception, ConfigError) and "config.json missing" in str(gone.exception)


def test_method_and_set_override_the_config(tmp_path: Path, world: Path, checkpoint: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """--method and --set replace config values (paths against the working directory) and name the default
    run directory after themselves, so an override never lands in the plain config's run."""
    runner, app = CliRunner(), _app()
    config = _config(tmp_path, world, checkpoint)
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")  # a path given relative to the working directory, not the config's folder
    relative = os.path.relpath(world / "counting_val.jsonl")
    done = runner.invoke(app, ["run", str(config), "--method", "full", "--set", "training.lora.epochs=2",
                               "--set", f'data.test={{"path": "{relative}"}}', "--no-progress"])
    assert done.exit_code == 0, done.output
    [run_dir] = (tmp_path / "here" / "runs").iterdir()
    assert run_dir.name.startswith("random+method=full+training.lora.epochs=2+data.test=_path_")
    saved = RunDir(run_dir).read_config()
    assert (saved.method, saved.training.lora.epochs) == ("full", 2)
    assert saved.data.test is not None and saved.data.test.path == world / "counting_val.jsonl"
    assert "full: stopped" in done.output and saved.budget == 6


def test_a_bad_override_names_itself(tmp_path: Path, world: Path, checkpoint: Path) -> None:
    runner, app, config = CliRunner(), _app(), _config(tmp_path, world, checkpoint)
    for override, says in (("budget", "expected DOTTED.KEY=VALUE"), ("budget.x=1", "budget is a value"),
                           ("training.lora.epoks=2", "epoks")):
        bad = runner.invoke(app, ["run", str(config), "--set", override, "--no-progress"])
        assert isinstance(bad.exception, ConfigError), bad.output
        assert says in format_error(bad.exception)
