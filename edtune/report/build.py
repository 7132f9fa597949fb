"""`build_report`: report.md, its PNG plots and results.json for one run or a folder of runs."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path

from edtune.atomic import atomic_write_json, atomic_write_text
from edtune.report import plots
from edtune.report.groups import judge_of
from edtune.report.records import ReportResults
from edtune.report.results import ACCURACY_RULE, compare, format_table
from edtune.report.runs import LoadedRun, find_runs

REPORT = "report.md"
RESULTS = "results.json"
PLOT_DIR = "plots"

VIEWER = "viewer"
"""Folder beside report.md where `edtune report RUNS --html viewer` puts the static viewer, which the report
then links."""

_PLOTS: list[tuple[str, Callable[[list[LoadedRun], Path], plots.Plot]]] = [
    ("accuracy_vs_samples.png", plots.accuracy_curve),
    ("family_accuracy.png", plots.family_accuracy),
    ("missing_skills.png", plots.missing_skills),
    ("retrieved_skills.png", plots.retrieved_skills),
    ("usage.png", plots.usage),
]


def _runs_section(runs: list[LoadedRun]) -> list[str]:
    lines = ["## Runs", "", "The test accuracy of a run is that of the adapter it keeps (`RunConfig.keep`).", "",
             "| method | seed | judge | iterations | stopped | kept adapter | samples used | run directory |",
             "|---|---:|---|---:|---|---:|---:|---|"]
    for run in runs:
        lines.append(f"| {run.method} | {run.metrics.seed} | {judge_of(run) or '-'} | {len(run.finished)} | "
                     f"{run.metrics.stopped or 'running'} | {run.final.iteration} | {run.samples_used:,} | "
                     f"`{run.root}` |")
    return lines


def _without_accuracy(runs: list[LoadedRun]) -> list[str]:
    """In words, the runs left out of their row's mean accuracy, and why."""
    missing = [run for run in runs if run.final.test is None or run.final.test.accuracy is None]
    if not missing:
        return []
    lines = [f"{len(missing)} of {len(runs)} run(s) have no test accuracy and are left out of their row's mean "
             "(the test accuracy column says over how many seeds it is):", ""]
    for run in missing:
        if not run.config.get("data", {}).get("test"):
            why = "the run has no test set"
        elif run.metrics.stopped is None:
            why = "the run has not finished: its kept adapter is not tested yet"
        else:
            why = "its kept adapter has no test judgment"
        lines.append(f"- {run.method}, seed {run.metrics.seed} (`{run.root}`): {why}")
    return [*lines, ""]


def _shortfall_section(runs: list[LoadedRun]) -> list[str]:
    """Per iteration, the missing skills that had a quota but got no pool sample, and where it went."""
    lines = ["| method | seed | iteration | skills that got no sample (errors naming it, quota, pool matches) | "
             "quota left unmet | taken by other skills | not selected |", "|---|---:|---:|---|---:|---|---:|"]
    for run in runs:
        for it in run.metrics.iterations:
            if (short := it.shortfall) is None:
                continue
            skills = "; ".join(f"{s.skill} ({s.missing}, {s.quota}, {'-' if s.hits is None else s.hits})"
                               for s in short.skills)
            given = ", ".join(f"{skill} +{n}" for skill, n in short.given_to.items()) or "-"
            lines.append(f"| {run.method} | {run.metrics.seed} | {it.iteration} | {_cell(skills)} | {short.unmet} | "
                         f"{_cell(given)} | {short.unspent} |")
    if len(lines) == 2:
        return []
    return ["## Missing skills that got no pool sample", "", "Each missing skill the teacher named gets a quota "
            "of the iteration's samples. A skill that no pool sample matches (0 pool matches), or whose matches "
            "were all chosen already, gets none: its quota goes to the other skills' next samples, or is not "
            "selected at all. Pool samples need `required_skills` phrasing these skills for retrieval to find "
            "them (docs/data.md, `edtune annotate`).", "", *lines, ""]


def _cell(text: str) -> str:
    """`text` safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _environment_section(runs: list[LoadedRun]) -> list[str]:
    """The versions the runs executed with (env.json); several lines when they differ, which makes their
    numbers not comparable."""
    seen: dict[str, list[str]] = {}
    for run in runs:
        for env in run.environments:
            versions = ", ".join(f"{name} {version}" for name, version in env.packages.items() if version)
            line = f"{versions}; CPU kernels {env.torch_cpu_capability}; CUDA {env.cuda or 'none'}"
            seen.setdefault(line, []).append(f"{run.method}/seed {run.metrics.seed}")
    if not seen:
        return []
    lines = ["## Environment", ""]
    if len(seen) > 1:
        lines += ["The runs did not all execute on one environment; compare their numbers with care.", ""]
    return lines + [f"- {line} ({len(who)} run(s))" for line, who in seen.items()] + [""]


def _usage_section(runs: list[LoadedRun]) -> list[str]:
    lines = ["Calls and tokens are those paid for. Cached replies were answered from the run's cache, not paid "
             "again: their tokens are those paid when they were first asked (by the run before it was resumed, or "
             "by an earlier identical call).", "",
             "| method | seed | stage | calls | prompt tokens | completion tokens | cached replies | "
             "their prompt tokens | their completion tokens |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for run in runs:
        for stage, spent in sorted(run.usage.stages.items()):
            lines.append(f"| {run.method} | {run.metrics.seed} | {stage} | {spent.calls} | {spent.prompt_tokens:,} | "
                         f"{spent.completion_tokens:,} | {spent.cached_calls} | {spent.cached_prompt_tokens:,} | "
                         f"{spent.cached_completion_tokens:,} |")
    return lines if len(lines) > 4 else ["No teacher or judge calls were made."]


def _family_note(runs: list[LoadedRun]) -> list[str]:
    """In words, the runs whose test set has no question family (so no per-family plot shows them)."""
    missing = [run for run in runs if run.final.test is not None and not run.final.test_by_family]
    if not missing:
        return []
    keys = ", ".join(sorted({f'"{run.metrics.family_field or "skill"}"' for run in missing}))
    return [f"The test set of {len(missing)} of {len(runs)} run(s) has no question family: no test sample's "
            f"metadata holds the key {keys}, so their test accuracy is not split by family. To split it, name the "
            "metadata key that holds a sample's family with `family_field` on the test data file (docs/data.md).", ""]


def _plot_section(plot: plots.Plot, runs: list[LoadedRun]) -> list[str]:
    """A plot's heading, then its image, or in words why it has none."""
    body = f"![{plot.title}]({PLOT_DIR}/{plot.path.name})" if plot.path is not None else (plot.empty or "")
    extra = _family_note(runs) if plot.title == plots.FAMILY_TITLE else []
    return [f"## {plot.title}", "", body, "", *extra]


def _viewer_section(paths: Sequence[Path], target: Path) -> list[str]:
    """How to open the run viewer on these runs: the command, and the static copy beside the report."""
    given = " ".join(shlex.quote(os.path.relpath(p.resolve(), target.resolve())) for p in paths)
    static = target / VIEWER / "index.html"
    lines = ["## Looking at single errors", "",
             "The run viewer shows every error of these runs: the student's steps with the located one highlighted, "
             "the teacher's diagnosis, and the pool samples chosen for it. From this report's folder, serve it with",
             "", f"    edtune view {given}", "", "and open http://127.0.0.1:8765/ (docs/viewer.md)."]
    if static.is_file():
        return [*lines, f"The same pages as static files, which open with no server: [{VIEWER}/index.html]"
                        f"({VIEWER}/index.html).", ""]
    return [*lines, f"`edtune report {given} --html {VIEWER}` writes the same pages as static files to "
                    f"{VIEWER}/ beside this report, which then links them.", ""]


_OUTCOMES = ("found", "fallback", "failed", "no_steps")


def _localisation_section(runs: list[LoadedRun]) -> list[str]:
    """Errors per localisation outcome, per run and iteration (runs that asked the teacher only)."""
    lines = ["| method | seed | iteration | errors | found | fallback | failed | no steps |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for run in runs:
        for it in run.metrics.iterations:
            if it.localisation:
                counts = " | ".join(str(it.localisation.get(outcome, 0)) for outcome in _OUTCOMES)
                lines.append(f"| {run.method} | {run.metrics.seed} | {it.iteration} | {it.errors} | {counts} |")
    if len(lines) == 2:
        return []
    return ["## Localisation of errors", "", "found: the first wrong step was found (a one-step rationale's step "
            "is); fallback: the method did not decide; failed: the teacher gave no usable reply; no steps: the "
            "output had no steps, so the error lies in its answer.", "", *lines, ""]


def render_markdown(runs: list[LoadedRun], results: ReportResults, drawn: Sequence[plots.Plot],
                    viewer: Sequence[str] = ()) -> str:
    """report.md's text: the table, each plot (a relative link, or in words why it has none), the
    localisation outcomes, the runs and their usage, and `viewer` (how to open the run viewer)."""
    out_of = f"pool of {results.pool_size:,} samples"
    lines = ["# edtune report", "", f"{len(runs)} run(s), {out_of}. A row is one method with one set of settings: "
             "runs that differ in anything but the seed (judge, teacher, budget, training ...) get rows of their own, "
             "and the settings column names what sets a row apart. Accuracy is the test accuracy of the adapter "
             "each run keeps, mean ± standard deviation over seeds; % of full divides by the full-pool mean (of "
             "the same judge). " + ACCURACY_RULE, "",
             format_table(results), "", *_without_accuracy(runs)]
    for plot in drawn:
        lines += _plot_section(plot, runs)
    lines += [*_localisation_section(runs), *_shortfall_section(runs), *_runs_section(runs), "",
              *_environment_section(runs),
              "## Teacher usage per stage", "", *_usage_section(runs), "", *viewer]
    return "\n".join(lines)


def build_report(runs: Path | Sequence[Path], out_dir: Path | None = None) -> Path:
    """Write report.md, plots/*.png and results.json; returns the report.md path (see `write_report`)."""
    return write_report(runs, out_dir)[0]


def write_report(runs: Path | Sequence[Path], out_dir: Path | None = None) -> tuple[Path, ReportResults]:
    """Write report.md, plots/*.png and results.json; returns report.md's path and the results.

    `runs` is one run directory, a folder with run directories below it (any methods and seeds), or a
    list of either. `out_dir` defaults to the single path given (for a list: the first one's parent).
    A plot with nothing to draw writes no PNG; report.md says why instead. report.md ends with how to open
    the run viewer on the same runs, linking the static copy in `VIEWER` beside it when there is one.
    DataError naming the file when a run directory is missing or its metrics are unreadable.
    """
    paths = [Path(runs)] if isinstance(runs, str | Path) else [Path(p) for p in runs]
    loaded = find_runs(paths)
    target = Path(out_dir) if out_dir is not None else (paths[0] if len(paths) == 1 else paths[0].parent)
    (target / PLOT_DIR).mkdir(parents=True, exist_ok=True)
    results = compare(loaded)
    drawn = []
    for name, draw in _PLOTS:
        (target / PLOT_DIR / name).unlink(missing_ok=True)  # a plot now empty must not show an old PNG
        drawn.append(draw(loaded, target / PLOT_DIR / name))
    atomic_write_json(target / RESULTS, results)
    report = target / REPORT
    atomic_write_text(report, render_markdown(loaded, results, drawn, _viewer_section(paths, target)))
    return report, results
