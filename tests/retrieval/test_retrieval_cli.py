"""`edtune index build SPEC` and `edtune retrieve --index ... --skill ...` through typer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from edtune.cli import retrieval as retrieval_cli
from edtune.errors import UserError
from edtune.retrieval.spec import CorpusSpec


def _app() -> typer.Typer:
    app = typer.Typer()
    retrieval_cli.register(app)
    return app


def _spec_file(spec: CorpusSpec, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / "pool.toml"
    path.write_text(f'name = "pool"\npool = ["{spec.pool[0]}"]\nindex_dir = "{spec.index_dir}"\n', encoding="utf-8")
    return path


def test_build_then_retrieve_by_spec_name_and_by_folder(pool_spec: Callable[..., CorpusSpec], tmp_path: Path) -> None:
    spec = pool_spec(40)
    _spec_file(spec, tmp_path / "retrieval")
    runner, app = CliRunner(), _app()
    built = runner.invoke(app, ["index", "build", "pool", "--project-dir", str(tmp_path)])
    assert built.exit_code == 0, built.output
    assert "indexed 40 documents of 'pool'" in built.output
    by_name = runner.invoke(app, ["retrieve", "--index", "pool", "--project-dir", str(tmp_path),
                                  "--skill", "which shape is bigger", "--skill", "left of", "-k", "2"])
    assert by_name.exit_code == 0, by_name.output
    lines = by_name.output.splitlines()
    assert lines[0] == "skill: which shape is bigger"
    assert "s005" in lines[1] and "deciding which shape is bigger" in lines[1]
    assert lines[3] == "skill: left of" and "s001" in lines[4]
    by_folder = runner.invoke(app, ["retrieve", "--index", str(spec.index_dir), "--skill", "which shape is bigger",
                                    "-k", "2"])
    assert by_folder.output.splitlines() == lines[:3]


def test_retrieve_without_an_index_is_a_user_error(pool_spec: Callable[..., CorpusSpec], tmp_path: Path) -> None:
    path = _spec_file(pool_spec(40), tmp_path / "specs")
    result = CliRunner().invoke(_app(), ["retrieve", "--index", str(path), "--skill", "count"])
    assert isinstance(result.exception, UserError)
    with pytest.raises(UserError, match="no index at"):
        raise result.exception
