"""Report rows are one method with one set of settings: unlike runs are never averaged, a run without a test
accuracy is named instead of silently dropped, and the missing skills that got no pool sample are shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from edtune.loop.config import DataFile, DataSettings
from edtune.report import ReportResults, build_report
from edtune.retrieval.select import QuotaShortfall, SkillQuota
from report.helpers import iteration, write_run


def _results(root: Path) -> ReportResults:
    return ReportResults.model_validate_json((root / "results.json").read_text())


def test_seed_0_runs_with_different_judges_are_three_rows_with_a_judge_column(tmp_path: Path) -> None:
    for correct, judge in [(40, "exact"), (60, "choice"), (80, "numeric")]:
        write_run(tmp_path / judge, "error_driven", 0, [iteration(0, 10, 0), iteration(1, correct, 100)], judge=judge)
    text = build_report(tmp_path).read_text()
    rows = [r for r in _results(tmp_path).methods if r.method == "error_driven"]
    assert sorted((r.judge, r.seeds, r.accuracy) for r in rows) == [("choice", [0], 0.6), ("exact", [0], 0.4),
                                                                      ("numeric", [0], 0.8)]
    assert all(r.settings == {"judge": f'"{r.judge}"'} for r in rows)
    assert '| error_driven | 1 | 100 | 10.0% | 0.600 | 0.0% | - | choice | judge="choice" |' in text
    # the pretrained scores differ by judge too, so they are not averaged either
    assert sorted(r.judge for r in _results(tmp_path).methods if r.method == "pretrained") == [
        "choice", "exact", "numeric"]
    assert "| error_driven | 0 | choice | 1 |" in text  # the runs table names each run's judge


def test_unlike_budgets_and_teachers_split_but_seed_folders_and_server_ports_do_not(tmp_path: Path) -> None:
    for seed in (0, 1):
        data = DataSettings(val=DataFile(path=Path(f"/runs/seed{seed}/world/val.jsonl")),
                            pool=DataFile(path=Path(f"/runs/seed{seed}/world/pool.jsonl"), image_root=Path("/img")))
        teacher = f"openai-compatible/ref-e0.1-s{seed}@http://127.0.0.1:{8000 + seed}/v1"  # as the demo's
        write_run(tmp_path / f"seed{seed}" / "a", "error_driven", seed, [iteration(0, 10, 0), iteration(1, 50, 100)],
                  data=data, teacher=teacher)
        write_run(tmp_path / f"seed{seed}" / "b", "error_driven", seed, [iteration(0, 10, 0), iteration(1, 70, 100)],
                  data=data, teacher=teacher, budget=300)
        write_run(tmp_path / f"seed{seed}" / "c", "error_driven", seed, [iteration(0, 10, 0), iteration(1, 90, 100)],
                  data=data, teacher="openai-compatible/other@http://127.0.0.1:9/v1")
    build_report(tmp_path)
    rows = {tuple(sorted(r.settings.items())): r for r in _results(tmp_path).methods if r.method == "error_driven"}
    assert [(r.seeds, r.accuracy) for r in rows.values()] == [([0, 1], 0.5), ([0, 1], 0.7), ([0, 1], 0.9)]
    assert set(rows) == {(("budget", "500"), ("teacher", '"openai-compatible/ref-e0.1-s<seed>"')),
                         (("budget", "300"), ("teacher", '"openai-compatible/ref-e0.1-s<seed>"')),
                         (("budget", "500"), ("teacher", '"openai-compatible/other"'))}


def test_a_run_without_test_accuracy_is_named_not_silently_dropped(tmp_path: Path) -> None:
    write_run(tmp_path / "s0", "random", 0, [iteration(0, 10, 0), iteration(1, 40, 100)])
    write_run(tmp_path / "s1", "random", 1, [iteration(0, 10, 0), iteration(1, 60, 100)])
    untested = iteration(1, 0, 100).model_copy(update={"test": None, "test_by_family": {}})
    write_run(tmp_path / "s2", "random", 2, [iteration(0, 10, 0), untested])  # its config names no test set
    text = build_report(tmp_path).read_text()
    [row] = [r for r in _results(tmp_path).methods if r.method == "random"]
    assert row.seeds == [0, 1, 2] and row.seeds_without_accuracy == [2]
    assert row.accuracy == pytest.approx(0.5)
    assert "| random | 3 | 100 | 10.0% | 0.500 ± 0.100 (2 of 3 seeds) |" in text
    assert "1 of 3 run(s) have no test accuracy and are left out of their row's mean" in text
    assert f"- random, seed 2 (`{tmp_path / 's2'}`): the run has no test set" in text


def test_each_row_is_divided_by_the_full_pool_row_of_its_own_judge(tmp_path: Path) -> None:
    for judge, full, method in [("exact", 80, 40), ("choice", 50, 40)]:
        write_run(tmp_path / judge / "full", "full", 0, [iteration(0, 10, 0), iteration(1, full, 1_000)], judge=judge)
        write_run(tmp_path / judge / "random", "random", 0, [iteration(0, 10, 0), iteration(1, method, 100)],
                  judge=judge)
    build_report(tmp_path)
    results = _results(tmp_path)
    of_full = {r.judge: r.percent_of_full for r in results.methods if r.method == "random"}
    assert of_full == {"exact": pytest.approx(50.0), "choice": pytest.approx(80.0)}
    assert results.full_accuracy is None  # two full-pool rows: no single reference


def test_skills_that_got_no_pool_sample_have_a_table(tmp_path: Path) -> None:
    short = QuotaShortfall(skills=[SkillQuota(skill="reading a digit", missing=27, quota=13, chosen=0, hits=0)],
                           unmet=13, given_to={"parity of a number": 10}, unspent=3)
    first = iteration(1, 30, 47).model_copy(update={"shortfall": short})
    write_run(tmp_path / "r", "error_driven", 0, [iteration(0, 10, 0), first])
    text = build_report(tmp_path / "r").read_text()
    assert "## Missing skills that got no pool sample" in text
    assert "| error_driven | 0 | 1 | reading a digit (27, 13, 0) | 13 | parity of a number +10 | 3 |" in text
