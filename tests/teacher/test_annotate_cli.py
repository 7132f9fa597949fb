"""`edtune annotate` against the reference teacher over HTTP: skills filled in, a summary with usage, and a
rerun that sends no request (resumable results file and content cache)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from edtune.bench.reference import reference_teacher
from edtune.bench.shapes import ShapesConfig, generate_world, write_world
from edtune.cli import annotate as annotate_cli
from edtune.data import load_samples, write_samples


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("annotate") / "shapes"
    write_world(generate_world(ShapesConfig(seed=2, pool_size=12, val_size=4, test_size=4, base_size=4,
                                            tasks=["counting"])), out)
    return out


def _app() -> typer.Typer:
    app = typer.Typer()
    annotate_cli.register(app)
    app.command("unused")(lambda: None)  # two commands keep `annotate` a subcommand
    return app


def test_annotate_fills_skills_and_a_rerun_sends_nothing(world: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    gold = {s.id: s.required_skills for s in load_samples(world / "pool.jsonl", check_images=False)}
    plain = world / "pool_plain.jsonl"
    write_samples([s.model_copy(update={"required_skills": None}) for s in load_samples(world / "pool.jsonl")], plain)
    out = tmp_path / "annotated.jsonl"
    monkeypatch.setenv("OPENAI_API_KEY", "unused-by-a-local-server")
    runner, app = CliRunner(), _app()
    with reference_teacher(world) as server:
        args = ["annotate", str(plain), "--teacher", f"openai-compatible/{server.model}@{server.base_url}",
                "--out", str(out), "--image-root", str(world), "--max-skills", "5", "--concurrency", "4",
                "--no-bars"]
        first = runner.invoke(app, args)
        assert first.exit_code == 0, first.output
        sent = server.stats().tasks["required_skills"].requests
        again = runner.invoke(app, args)
        assert again.exit_code == 0, again.output
        assert server.stats().tasks["required_skills"].requests == sent == 12
    assert "annotate: 12 samples; 0 already had skills, 0 answered by an earlier annotation, 12 annotated now; " \
           "0 left without skills" in first.output
    assert "teacher usage: 12 call(s) sent, " in first.output and " paid; 0 answered from the cache" in first.output
    assert "12 answered by an earlier annotation, 0 annotated now" in again.output
    assert "teacher usage: 0 call(s) sent" in again.output
    annotated = {s.id: s.required_skills for s in load_samples(out, image_root=world)}
    assert annotated.keys() == gold.keys()  # the reference teacher words skills its own way
    assert all(skills and len(skills) == len(gold[i] or []) for i, skills in annotated.items())


def test_ray_options_without_the_ray_engine_are_refused(world: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(_app(), ["annotate", str(world / "pool.jsonl"), "--teacher", "openai/gpt-4o-mini",
                                         "--out", str(tmp_path / "out.jsonl"), "--address", "auto"])
    assert result.exit_code == 2 and "--address and --endpoint go with --engine ray" in result.output
