"""examples/digits end to end at a tiny size, through the command line as its README runs it: write the data,
pretrain a student, serve the example teacher, `edtune annotate` the LLaVA pool, `edtune run` the example's
three TOML configs (error-driven, random, full), `edtune report` over them."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from edtune.data import load_samples
from edtune.jsonl import read_jsonl
from edtune.teacher.records import StepLocation

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "digits"
TINY = {"budget = 200": "budget = 8", "min_steps = 600": "min_steps = 2", "epochs = 10": "epochs = 1"}
"""The example configs' settings scaled down (each must be found, so the test follows the example's edits)."""


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"examples_digits_{name}", EXAMPLE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _tiny_config(name: str, examples: Path, base_url: str) -> Path:
    """The example's config copied beside a data folder laid out as the README's, scaled down."""
    text = (EXAMPLE / f"{name}.toml").read_text()
    for old, new in [*TINY.items(), ("http://127.0.0.1:8011/v1", base_url)]:
        if old in text:
            text = text.replace(old, new)
        else:
            assert old in ("epochs = 10", "http://127.0.0.1:8011/v1", "budget = 200"), (name, old)
    assert "min_steps = 2" in text
    path = examples / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.mark.slow
def test_digits_example_annotate_run_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edtune.cli import _register_all, app

    _register_all()
    runner = CliRunner()
    data, examples, runs = tmp_path / "data" / "digits", tmp_path / "examples" / "digits", tmp_path / "runs"
    examples.mkdir(parents=True)
    _load("make_data").write_task(data, pool=40, val=10, test=10, naming=30, seed=0)
    pool = load_samples(data / "pool.json")
    assert len(pool) == 40 and all(s.required_skills is None and s.rationale for s in pool)
    assert {s.metadata["family"] for s in pool} == {"naming", "parity", "greater_than_five", "successor"}

    monkeypatch.setattr(sys, "argv", ["pretrain_student.py", "--data", str(data), "--out", str(data / "student"),
                                      "--steps", "2"])
    _load("pretrain_student").main()
    tokenizer = json.loads((data / "student" / "tokenizer.json").read_text())["model"]["vocab"]
    assert {"even", "odd", "▁even", "▁odd"} <= set(tokenizer)  # the target's words, never trained on

    teacher = _load("teacher_server")
    server = teacher.serve()
    try:
        spec = f"openai-compatible/digits-teacher@{server.base_url}"
        annotated = runner.invoke(app, ["annotate", str(data / "pool.json"), "--teacher", spec,
                                        "--out", str(data / "pool.jsonl"), "--no-images", "--no-bars"])
        assert annotated.exit_code == 0, annotated.output
        assert all(s.required_skills for s in load_samples(data / "pool.jsonl"))
        outputs: dict[str, str] = {}
        for method in ("error_driven", "random", "full"):
            config = _tiny_config(method, examples, server.base_url)
            done = runner.invoke(app, ["run", str(config), "--run-dir", str(runs / method), "--no-bars"])
            assert done.exit_code == 0, (method, done.output)
            outputs[method] = done.output
        counts = dict(server.counts)
    finally:
        server.shutdown()
    # pool samples that ask the same question about the same digit send the same request: one call for all
    assert 0 < counts["RequiredSkills"] <= 40 and counts.get("refused", 0) == 0
    assert counts.get("MissingSkills", 0) > 0  # the untrained student's errors were diagnosed

    # two iterations trained; the third folder only validates the last adapter, and the summary says so
    assert "error_driven: stopped (iterations) after 2 iteration(s)" in outputs["error_driven"]
    assert "iteration 3: test -" in outputs["error_driven"]
    assert "(validation of the last adapter only)" in outputs["error_driven"].split("iteration 3:")[1]
    locations = read_jsonl(runs / "error_driven" / "iterations" / "001" / "locations.jsonl", StepLocation)
    assert locations and {loc.outcome for loc in locations} <= {"found", "no_steps"}
    reported = runner.invoke(app, ["report", str(runs)])
    assert reported.exit_code == 0, reported.output
    results = json.loads((runs / "results.json").read_text())
    assert {row["method"] for row in results["methods"]} >= {"error_driven", "random", "full"}
