"""`edtune prompts list|show|render|eval|diff|export-gold` through typer, with a scripted teacher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from prompt_eval_fakes import oracle
from typer.testing import CliRunner, Result

from edtune.cli import format_error
from edtune.cli import prompts as prompts_cli
from edtune.errors import DataError, TemplateError
from edtune.llm.scripted import ScriptedClient
from edtune.templates import load_template


def _app() -> typer.Typer:
    app = typer.Typer()
    prompts_cli.register(app)
    return app


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(_app(), ["prompts", *args])


def test_list_and_show(project: Path) -> None:
    listed = _invoke("list", "--project-dir", str(project))
    assert listed.exit_code == 0, listed.output
    hash_ = load_template("step_check", project).hash
    assert any(line.startswith("step_check") and hash_ in line for line in listed.output.splitlines())
    assert "first_wrong_step" in listed.output and "judge_equivalence" in listed.output
    shown = _invoke("show", "first_wrong_step", "--project-dir", str(project))
    assert shown.exit_code == 0, shown.output
    assert "task first_wrong_step, output FirstWrongStep" in shown.output
    assert "n_steps" in shown.output and "=== user ===" in shown.output


def test_render_lists_variables_then_renders_values(project: Path, tmp_path: Path) -> None:
    needed = _invoke("render", "first_wrong_step", "--project-dir", str(project))
    assert needed.exit_code == 0 and "student_answer" in needed.output and "--vars" in needed.output
    values = {"question": "Is it red?", "options": None, "answer": "yes", "scene_text": None,
              "steps": ["I see red-circle.", "It is blue."], "student_answer": "no"}
    (tmp_path / "v.json").write_text(json.dumps(values))
    rendered = _invoke("render", "first_wrong_step", "--vars", str(tmp_path / "v.json"), "--var", "n_steps=2",
                       "--project-dir", str(project))
    assert rendered.exit_code == 0, rendered.output
    assert "=== system ===" in rendered.output and "Step 2: It is blue." in rendered.output
    assert "a whole number from 1 to 2" in rendered.output


def test_render_with_a_missing_variable_names_template_and_variable(project: Path) -> None:
    result = _invoke("render", "first_wrong_step", "--var", "question=Is it red?", "--project-dir", str(project))
    assert isinstance(result.exception, TemplateError)
    message = format_error(result.exception)
    assert message.startswith("error: template 'first_wrong_step' needs variable(s)")
    assert "n_steps" in message and "steps" in message


def test_a_template_reaching_python_internals_is_refused(project: Path) -> None:
    evil = project / "prompts" / "evil.jinja"
    evil.write_text('+++\nname = "evil"\ndescription = "Tries to escape the sandbox."\ntask = "first_wrong_step"\n'
                    '[variables]\nquestion = "q"\n+++\n=== user ===\n'
                    "{{ question.__class__.__mro__[1].__subclasses__() }}\n")
    result = _invoke("render", "evil", "--var", "question=x", "--project-dir", str(project))
    assert isinstance(result.exception, TemplateError)
    assert "template 'evil' was refused by the sandbox" in str(result.exception)
    assert "__class__" in str(result.exception)


def test_a_missing_template_file_is_a_template_error(tmp_path: Path) -> None:
    result = _invoke("show", str(tmp_path / "nope.jinja"))
    assert isinstance(result.exception, TemplateError) and "not found" in str(result.exception)


@pytest.fixture
def scripted(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """Replace the teacher built from the spec with a scripted oracle; `late` makes it miss the spatial item."""
    state: dict[str, object] = {"late": False}

    def build(spec: str, *, project_dir: Path | None, cache_path: Path | None) -> ScriptedClient:
        state["spec"], state["cache_path"] = spec, cache_path
        shift = (lambda q: -1 if "left or right" in q else 0) if state["late"] else (lambda q: 0)
        return ScriptedClient(oracle(shift))

    monkeypatch.setattr(prompts_cli, "teacher_client", build)
    return state


def test_eval_stores_and_compares_every_version(project: Path, gold_file: Path, tmp_path: Path,
                                                scripted: dict[str, object]) -> None:
    common = ["--gold", str(gold_file), "--teacher", "vllm/some-model", "--results", str(tmp_path / "res"),
              "--project-dir", str(project)]
    first = _invoke("eval", "first_wrong_step", *common)
    assert first.exit_code == 0, first.output
    old_hash = load_template("first_wrong_step", project).hash
    assert f"first_wrong_step@{old_hash} (this run)" in first.output and " 100.0 " in first.output
    assert scripted["spec"] == "vllm/some-model" and scripted["cache_path"] == tmp_path / "res" / "llm_cache.sqlite"

    path = project / "prompts" / "first_wrong_step.jinja"
    path.write_text(path.read_text().replace("Find the FIRST step", "Find the earliest step"))
    scripted["late"] = True
    second = _invoke("eval", "first_wrong_step", *common)
    assert second.exit_code == 0, second.output
    new_hash = load_template("first_wrong_step", project).hash
    rows = [line for line in second.output.splitlines() if line.startswith("first_wrong_step@")]
    assert len(rows) == 2 and rows[0].startswith(f"first_wrong_step@{old_hash}")
    assert f"first_wrong_step@{new_hash} (this run)" in rows[1] and " 75.0 " in rows[1]

    diffed = _invoke("diff", f"first_wrong_step@{old_hash[:8]}", "first_wrong_step", *common)
    assert diffed.exit_code == 0, diffed.output
    assert "1 item(s) changed outcome" in diffed.output and "i3: right -> wrong (truth: step 3)" in diffed.output
    assert "A: step 3 (found)" in diffed.output and "B: step 2 (found)" in diffed.output


def test_diff_of_two_files_and_a_bad_gold_file(project: Path, gold_file: Path, tmp_path: Path,
                                               scripted: dict[str, object]) -> None:
    common = ["--gold", str(gold_file), "--teacher", "x/y", "--results", str(tmp_path / "res"), "--no-cache"]
    same = str(project / "prompts" / "step_check.jinja")
    result = _invoke("diff", same, same, *common)
    assert result.exit_code == 0, result.output
    assert "0 item(s) changed" in result.output
    assert scripted["cache_path"] is None
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n')
    failed = _invoke("eval", same, "--gold", str(bad), "--teacher", "x/y")
    assert isinstance(failed.exception, DataError) and failed.exception.row == 1


def test_export_gold_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edtune.bench.shapes import ShapesConfig, generate_world, write_world
    from edtune.prompt_eval import export

    monkeypatch.setattr(export, "_bundled_outputs", lambda samples, root: None)
    world = tmp_path / "w"
    write_world(generate_world(ShapesConfig(pool_size=10, val_size=5, test_size=1, base_size=1)), world)
    result = _invoke("export-gold", "--world", str(world), "--out", str(tmp_path / "g.jsonl"), "--size", "6")
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "6 corrupted errors" in result.output
    bad = _invoke("export-gold", "--world", str(world), "--out", str(tmp_path / "h.jsonl"), "--source", "magic")
    assert "auto, student or corrupted" in str(bad.exception)
