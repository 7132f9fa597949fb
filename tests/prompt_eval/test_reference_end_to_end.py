"""End to end over HTTP: export a gold set from a small world, evaluate templates against the reference
teacher (a real local OpenAI-compatible server) through the CLI, with the LLM cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from edtune.bench.reference import reference_teacher
from edtune.bench.shapes import ShapesConfig, generate_world, write_world
from edtune.cli import prompts as prompts_cli
from edtune.prompt_eval import ResultStore, export, export_gold, load_gold

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def world_and_gold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    world = tmp_path / "shapes"
    write_world(generate_world(ShapesConfig(seed=4, pool_size=10, val_size=8, test_size=2, base_size=2)), world)
    monkeypatch.setattr(export, "_bundled_outputs", lambda samples, image_root: None)  # corrupted errors
    export_gold(world, tmp_path / "gold.jsonl", source="auto", size=12, seed=1)
    return world, tmp_path / "gold.jsonl"


def _app() -> typer.Typer:
    app = typer.Typer()
    prompts_cli.register(app)
    return app


def test_eval_against_the_reference_teacher_uses_images_and_the_cache(world_and_gold: tuple[Path, Path],
                                                                      tmp_path: Path) -> None:
    world, gold = world_and_gold
    results = tmp_path / "results"
    with reference_teacher(world, error_rate=0.0) as server:
        spec = f"openai-compatible/{server.model}@{server.base_url}"
        args = ["prompts", "eval", "first_wrong_step", "--gold", str(gold), "--teacher", spec,
                "--results", str(results), "--project-dir", str(REPO)]
        first = CliRunner().invoke(_app(), args)
        assert first.exit_code == 0, first.output
        served = server.teacher.stats().tasks["first_wrong_step"].requests
        again = CliRunner().invoke(_app(), args)
        assert again.exit_code == 0, again.output
        assert server.teacher.stats().tasks["first_wrong_step"].requests == served == 12  # second run: all cached
        assert server.teacher.stats().rejected == 0
    (run,) = ResultStore(results).runs("first_wrong_step")
    assert run.metrics.exact == 1.0 and run.metrics.items == 12 and run.metrics.unscored_rate == 0.0
    assert (results / "llm_cache.sqlite").is_file()
    assert json.loads(gold.read_text().splitlines()[0])["header"]["source"] == "corrupted"
    assert len(load_gold(gold)) == 12
