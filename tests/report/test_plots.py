"""The report's plots: each PNG carries its title, every axis is labelled, empty data is said in words,
"top 15" draws 15 bars, and report.md says how to open the run viewer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image

from edtune.loop.metrics import IterationMetrics
from edtune.report import build_report, find_runs, plots
from edtune.view.static import write_site
from report.helpers import iteration, summary, write_comparison, write_run

ALL_PLOTS = (plots.accuracy_curve, plots.family_accuracy, plots.missing_skills, plots.retrieved_skills, plots.usage)


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    return write_comparison(tmp_path / "runs")


def _headings(report: Path) -> list[str]:
    return re.findall(r"^## (.+)$", report.read_text(), flags=re.MULTILINE)


def test_every_png_carries_its_title(runs: Path) -> None:
    report = build_report(runs)
    pngs = sorted((runs / "plots").glob("*.png"))
    assert len(pngs) == len(ALL_PLOTS)
    for png in pngs:
        with Image.open(png) as image:
            title = image.text.get("Title")
        assert title, f"{png.name} has no title"
        assert title in _headings(report) and f"![{title}](plots/{png.name})" in report.read_text()


def test_each_figure_draws_its_title_and_labels_its_axes(runs: Path, tmp_path: Path) -> None:
    loaded = find_runs(runs)
    for draw in ALL_PLOTS:
        plot = draw(loaded, tmp_path / f"{draw.__name__}.png")
        assert plot.path is not None and plot.figure is not None and plot.empty is None, draw.__name__
        assert plot.figure.get_suptitle() == plot.title, draw.__name__
        first, *others = plot.figure.axes
        assert first.get_xlabel() and first.get_ylabel(), draw.__name__
        assert all(axes.get_xlabel() for axes in others), draw.__name__
    retrieved = plots.retrieved_skills(loaded, tmp_path / "r.png").figure
    assert retrieved is not None and retrieved.axes[0].get_ylabel() == "skill of the selected sample"


def _zero_families(i: int) -> IterationMetrics:
    return iteration(i, 0, 10 * i).model_copy(update={"test_by_family": {"counting": summary(0, 50),
                                                                           "colour": summary(0, 50)}})


def test_family_accuracy_all_zero_is_said_in_words(tmp_path: Path) -> None:
    root = write_run(tmp_path / "r", "random", 0, [_zero_families(0), _zero_families(1)])
    report = build_report(root)
    assert not (root / "plots" / "family_accuracy.png").exists()
    text = report.read_text()
    section = text.split(f"## {plots.FAMILY_TITLE}\n\n")[1].split("\n## ")[0]
    assert "scored a test accuracy of 0" in section and "colour, counting" in section


def test_a_report_with_nothing_to_plot_says_so_under_each_heading(tmp_path: Path) -> None:
    bare = [iteration(0, 20, 0).model_copy(update={"test_by_family": {}}),
            iteration(1, 30, 100).model_copy(update={"test_by_family": {}})]
    root = write_run(tmp_path / "r", "full", 0, bare)
    report = build_report(root)
    text = report.read_text()
    for plot in (plots.family_accuracy, plots.missing_skills, plots.retrieved_skills, plots.usage):
        drawn = plot(find_runs(root), tmp_path / "unused.png")
        assert drawn.path is None and drawn.empty and not (tmp_path / "unused.png").exists()
        assert f"## {drawn.title}\n\n{drawn.empty}\n" in text
    assert sorted(p.name for p in (root / "plots").glob("*.png")) == ["accuracy_vs_samples.png"]


def test_a_plot_gone_empty_leaves_no_old_png(tmp_path: Path) -> None:
    root = write_run(tmp_path / "r", "random", 0, [iteration(0, 20, 0), iteration(1, 30, 100)])
    (root / "plots").mkdir()
    (root / "plots" / "missing_skills.png").write_bytes(b"left by an earlier report")
    build_report(root)
    assert not (root / "plots" / "missing_skills.png").exists()


LONG = "counting the objects of one colour that sit to the left of the largest shape in the image, variant"


def test_top_15_draws_15_bars_even_when_labels_read_alike(tmp_path: Path) -> None:
    skills = {f"{LONG} {n}": 30 - n for n in range(20)}  # alike in their first 60 characters
    root = write_run(tmp_path / "r", "error_driven", 0, [iteration(0, 20, 0), iteration(1, 30, 10, missing=skills)])
    plot = plots.missing_skills(find_runs(root), tmp_path / "m.png")
    assert plot.figure is not None and plot.title.endswith("(top 15 of 20)")
    axes = plot.figure.axes[0]
    assert len(axes.patches) == 15 and len({bar.get_y() for bar in axes.patches}) == 15
    assert [bar.get_width() for bar in axes.patches] == list(range(30, 15, -1))  # the 15 most common, in order
    assert len({label.get_text() for label in axes.get_yticklabels()}) == 15  # cut in the middle, still apart
    few = plots.missing_skills(find_runs(write_run(tmp_path / "few", "error_driven", 0, [
        iteration(0, 20, 0), iteration(1, 30, 10, missing={"a": 2, "b": 1})])), tmp_path / "f.png")
    assert few.title.endswith("(all 2)")


def test_usage_plot_shows_cached_replies_apart(runs: Path, tmp_path: Path) -> None:
    plot = plots.usage(find_runs(runs), tmp_path / "u.png")
    assert plot.figure is not None
    calls = plot.figure.axes[0]
    widths = [(bar.get_width(), bar.get_x()) for bar in calls.patches]
    # Two error_driven seeds: teacher.localise 2 x 8 paid calls, 2 x 2 cached stacked after them.
    assert (16, 0) in widths and (4, 16) in widths


def test_report_says_how_to_open_the_viewer(runs: Path) -> None:
    text = build_report(runs).read_text()
    viewer = text.split("## Looking at single errors")[1]
    assert "    edtune view .\n" in viewer and "`edtune report . --html viewer`" in viewer
    assert "(viewer/index.html)" not in viewer
    write_site([runs], runs / "viewer")
    text = build_report(runs).read_text()
    assert "[viewer/index.html](viewer/index.html)" in text
    assert (runs / "viewer" / "index.html").is_file()


def test_viewer_command_names_the_runs_from_the_report_folder(runs: Path, tmp_path: Path) -> None:
    from edtune.report import write_report

    report, _ = write_report([runs / "seed0", runs / "seed1"], tmp_path / "out")
    assert "    edtune view ../runs/seed0 ../runs/seed1\n" in report.read_text()
