"""`edtune report --html` and `edtune view` from the command line."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from edtune.cli import report, view


def _app() -> typer.Typer:
    app = typer.Typer()
    report.register(app)
    view.register(app)
    return app


def test_report_html_writes_the_viewer(finished_run: Path, random_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "site"
    done = CliRunner().invoke(_app(), ["report", str(finished_run), str(random_run), "--html", str(out)])
    assert done.exit_code == 0, done.output
    assert f"viewer: {out.resolve() / 'index.html'}" in done.output
    assert (out / "compare" / "r0-r1.html").is_file() and (out / "r1" / "index.html").is_file()


def test_view_is_registered(tmp_path: Path) -> None:
    shown = CliRunner().invoke(_app(), ["view", "--help"])
    assert shown.exit_code == 0 and "--port" in shown.output
