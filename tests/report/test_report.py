"""build_report over hand-made run directories: results.json numbers, report.md contents, plots, errors, CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from edtune.errors import DataError
from edtune.judging.base import JudgeSummary
from edtune.report import ReportResults, build_report, find_runs
from edtune.report.plots import retrieved_skill_counts
from report.helpers import iteration, write_comparison, write_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    return write_comparison(tmp_path / "runs")


def _rows(path: Path) -> dict[str, dict[str, Any]]:
    results = ReportResults.model_validate_json((path / "results.json").read_text())
    return {row.method: row.model_dump() for row in results.methods}


def test_results_per_method(runs: Path) -> None:
    build_report(runs)
    rows = _rows(runs)
    assert list(rows) == ["pretrained", "random", "error_driven", "full"]
    assert rows["random"]["accuracy"] == pytest.approx(0.45)
    assert rows["random"]["accuracy_std"] == pytest.approx(0.05)
    assert rows["error_driven"]["accuracy"] == pytest.approx(0.75)
    assert rows["error_driven"]["samples_used"] == 100 and rows["error_driven"]["pool_percent"] == pytest.approx(10)
    assert rows["error_driven"]["percent_of_full"] == pytest.approx(100 * 0.75 / 0.80)
    assert rows["random"]["percent_of_full"] == pytest.approx(100 * 0.45 / 0.80)
    assert rows["full"]["pool_percent"] == pytest.approx(100) and rows["full"]["percent_of_full"] == pytest.approx(100)
    assert rows["pretrained"]["accuracy"] == pytest.approx(0.10) and rows["pretrained"]["samples_used"] == 0
    assert rows["error_driven"]["seeds"] == [0, 1]
    assert [r["accuracy"] for r in rows["error_driven"]["runs"]] == pytest.approx([0.70, 0.80])


def test_report_markdown_and_plots(runs: Path) -> None:
    report = build_report(runs)
    text = report.read_text()
    assert report == runs / "report.md"
    assert "| error_driven | 2 | 100 | 10.0% | 0.750 ± 0.050 | 0.0% | 93.8% |" in text
    assert "counts every test question" in text.split("| method |")[0]  # the header says how
    for name in ("accuracy_vs_samples", "family_accuracy", "missing_skills", "retrieved_skills", "usage"):
        png = runs / "plots" / f"{name}.png"
        assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 2_000
        assert f"(plots/{name}.png)" in text
    assert "| error_driven | 0 | teacher.localise | 8 | 800 | 80 | 2 | 200 | 20 |" in text


def test_unscored_share_is_printed_beside_accuracy(tmp_path: Path) -> None:
    judge_failed = iteration(1, 40, 100).model_copy(update={"test": JudgeSummary(
        correct=40, incorrect=50, unscored=10, unscored_reasons={"error": 10}, accuracy=0.40)})
    root = write_run(tmp_path / "r", "random", 3, [iteration(0, 20, 0), judge_failed])
    text = build_report(root).read_text()
    assert "| random | 1 | 100 | 10.0% | 0.400 | 10.0% | - |" in text
    assert "| pretrained | 1 | 0 | 0.0% | 0.200 | 0.0% | - |" in text
    assert _rows(root)["random"]["unscored_share"] == pytest.approx(0.10)


def test_random_only_report_skips_empty_plots(tmp_path: Path) -> None:
    root = write_run(tmp_path / "r", "random", 3, [iteration(0, 20, 0), iteration(1, 30, 100)])
    report = build_report(root)
    assert not (root / "plots" / "missing_skills.png").exists() and not (root / "plots" / "usage.png").exists()
    assert (root / "plots" / "accuracy_vs_samples.png").is_file()
    assert "No teacher or judge calls were made." in report.read_text()
    rows = _rows(root)
    assert rows["random"]["percent_of_full"] is None and rows["random"]["accuracy_std"] == 0


def test_retrieved_skills_fall_back_to_matched_skill(tmp_path: Path) -> None:
    root = write_run(tmp_path / "r", "error_driven", 0,
                     [iteration(0, 20, 0), iteration(1, 30, 10, families={"all": 10}, matched={"counting": 10})])
    assert retrieved_skill_counts(find_runs(root)[0]) == {"counting": 10}


def test_runs_found_recursively_and_sorted(runs: Path) -> None:
    found = find_runs(runs)
    assert [(r.method, r.metrics.seed) for r in found] == [
        ("error_driven", 0), ("error_driven", 1), ("full", 0), ("random", 0), ("random", 1)]


def test_bad_inputs_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no run directory"):
        find_runs(tmp_path)
    with pytest.raises(DataError, match="no such run directory"):
        find_runs(tmp_path / "missing")
    root = write_run(tmp_path / "r", "random", 0, [iteration(0, 20, 0)])
    (root / "metrics.json").write_text(json.dumps({"method": "random"}))
    with pytest.raises(DataError) as info:
        find_runs(root)
    assert info.value.file == str(root / "metrics.json") and "RunMetrics" in str(info.value)


def test_cli_report(runs: Path, tmp_path: Path) -> None:
    from edtune.cli import _register_all, app

    _register_all()
    out = tmp_path / "elsewhere"
    result = CliRunner().invoke(app, ["report", str(runs / "seed0"), str(runs / "seed1"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "| full | 1 | 1,000 | 100.0% | 0.800 | 0.0% | 100.0% |" in result.output
    assert (out / "report.md").is_file() and (out / "results.json").is_file()


def test_versions_reach_results_and_report(tmp_path: Path) -> None:
    """Each run's env.json is carried into results.json and listed in report.md; unlike ones are flagged."""
    from edtune.environment import current, record_environment

    runs = write_comparison(tmp_path / "runs")
    roots = sorted(p.parent for p in runs.rglob("metrics.json") if p.parent.name != "iterations")
    env = current()
    for root in roots:
        record_environment(root, env)
    text = build_report(runs).read_text()
    results = ReportResults.model_validate_json((runs / "results.json").read_text())
    assert all(r.environments == [env] for row in results.methods if row.method != "pretrained" for r in row.runs)
    assert f"transformers {env.packages['transformers']}" in text and "not all execute" not in text
    record_environment(roots[0], env.model_copy(update={"torch_cpu_capability": "AVX2"}))
    assert "not all execute on one environment" in build_report(runs).read_text()
