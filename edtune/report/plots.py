"""The report's PNG plots (matplotlib, Agg backend, imported on first use). Each function returns the
file it wrote, or None when the runs hold nothing to plot (e.g. no teacher calls in a random-only report)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edtune.report.groups import group_runs
from edtune.report.results import METHOD_ORDER
from edtune.report.runs import LoadedRun

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TOP_SKILLS = 15
"""Bars shown in the skill histograms (the most frequent; long tails of teacher phrases stay readable)."""
_DPI = 110


def _figure(width: float, height: float, ncols: int = 1) -> tuple[Figure, Any]:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; must precede pyplot's first import
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(1, ncols, figsize=(width, height))
    return figure, axes


def _save(figure: Figure, path: Path) -> Path:
    from matplotlib import pyplot as plt

    figure.tight_layout()
    figure.savefig(path, dpi=_DPI)
    plt.close(figure)
    return path


def _by_method(runs: list[LoadedRun]) -> dict[str, list[LoadedRun]]:
    """Runs per line or bar series: one per method and settings (`edtune.report.groups`), labelled by the
    method (and the settings that set it apart), in the table's method order."""
    order = {m: i for i, m in enumerate(METHOD_ORDER)}
    groups = sorted(group_runs(runs), key=lambda g: (order.get(g.method, len(order) - 2), g.method))
    return {group.label: group.runs for group in groups}


def _curve(runs: list[LoadedRun]) -> tuple[list[float], list[float]]:
    """Mean (samples used, test accuracy) per iteration index over seeds (pretrained point first)."""
    points: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for run in runs:
        for it in [run.pretrained, *run.finished]:
            if it.test is not None and it.test.accuracy is not None:
                points[it.iteration].append((it.samples_used, it.test.accuracy))
    xs = [statistics.fmean(p[0] for p in points[i]) for i in sorted(points)]
    ys = [statistics.fmean(p[1] for p in points[i]) for i in sorted(points)]
    return xs, ys


def accuracy_curve(runs: list[LoadedRun], path: Path) -> Path | None:
    """Test accuracy against pool samples used, one line per method (mean over seeds); the full pool is
    a dashed horizontal line, since its single point sits far right of every budgeted method."""
    figure, axes = _figure(7, 4.5)
    plotted = False
    for method, group in _by_method(runs).items():
        xs, ys = _curve(group)
        if not ys:
            continue
        plotted = True
        if group[0].method == "full":
            axes.axhline(ys[-1], linestyle="--", color="grey", label=f"full pool ({xs[-1]:,.0f} samples)")
        else:
            axes.plot(xs, ys, marker="o", label=method)
    if not plotted:
        return None
    axes.set_xlabel("pool samples used")
    axes.set_ylabel("test accuracy")
    axes.set_ylim(0, 1.02)
    axes.grid(alpha=0.3)
    axes.legend()
    return _save(figure, path)


def _family_accuracy(group: list[LoadedRun], final: bool) -> dict[str, float]:
    scores: dict[str, list[float]] = defaultdict(list)
    for run in group:
        it = run.final if final else run.pretrained
        for family, summary in it.test_by_family.items():
            if summary.accuracy is not None:
                scores[family].append(summary.accuracy)
    return {family: statistics.fmean(values) for family, values in sorted(scores.items())}


def family_accuracy(runs: list[LoadedRun], path: Path) -> Path | None:
    """Test accuracy per question family before tuning and after each method (grouped bars)."""
    methods = _by_method(runs)
    series = {"pretrained": _family_accuracy(runs, final=False)}
    series |= {method: _family_accuracy(group, final=True) for method, group in methods.items()}
    families = sorted({f for values in series.values() for f in values})
    if not families:
        return None
    figure, axes = _figure(max(6, 1.6 * len(families) + 2), 4.5)
    width = 0.8 / len(series)
    for k, (name, values) in enumerate(series.items()):
        axes.bar([i + k * width for i in range(len(families))], [values.get(f, 0.0) for f in families],
                 width=width, label=name)
    axes.set_xticks([i + 0.4 - width / 2 for i in range(len(families))], families, rotation=15)
    axes.set_ylabel("test accuracy")
    axes.set_ylim(0, 1.02)
    axes.legend(fontsize="small")
    return _save(figure, path)


def _horizontal_bars(counts: Counter[str], path: Path, xlabel: str, title: str) -> Path | None:
    top = counts.most_common(TOP_SKILLS)
    if not top:
        return None
    figure, axes = _figure(8, 0.35 * len(top) + 1.5)
    labels = [label if len(label) <= 60 else label[:57] + "..." for label, _ in reversed(top)]
    axes.barh(labels, [n for _, n in reversed(top)])
    axes.set_xlabel(xlabel)
    axes.set_title(title, fontsize="medium")
    return _save(figure, path)


def missing_skills(runs: list[LoadedRun], path: Path) -> Path | None:
    """How often the teacher named each missing skill, over every error-analysing run and iteration."""
    counts: Counter[str] = Counter()
    for run in runs:
        for it in run.metrics.iterations:
            counts.update(it.missing_skills)
    return _horizontal_bars(counts, path, "errors naming the skill", f"missing skills (top {TOP_SKILLS})")


def retrieved_skill_counts(run: LoadedRun) -> Counter[str]:
    """Selected pool samples per gold skill (the pool's question family) when the pool records one, else
    per matched skill (the query that retrieved them)."""
    families: Counter[str] = Counter()
    matched: Counter[str] = Counter()
    for it in run.finished:
        families.update(it.selected_families)
        matched.update(it.matched_skills)
    return families if families and set(families) != {"all"} else matched


def retrieved_skills(runs: list[LoadedRun], path: Path) -> Path | None:
    """Share of each method's selected samples per skill (the full pool is left out: it takes all)."""
    shares: dict[str, Counter[str]] = {}
    for method, group in _by_method(runs).items():
        if group[0].method == "full":
            continue
        counts = sum((retrieved_skill_counts(run) for run in group), Counter[str]())
        if counts:
            shares[method] = counts
    skills = sorted({s for c in shares.values() for s in c}, key=lambda s: -sum(c[s] for c in shares.values()))
    skills = skills[:TOP_SKILLS]
    if not skills:
        return None
    figure, axes = _figure(8, 0.35 * len(skills) * max(1, len(shares) / 2) + 1.5)
    height = 0.8 / len(shares)
    for k, (method, counts) in enumerate(shares.items()):
        total = sum(counts.values())
        axes.barh([i + k * height for i in range(len(skills))], [counts[s] / total for s in skills],
                  height=height, label=method)
    axes.set_yticks([i + 0.4 - height / 2 for i in range(len(skills))], skills)
    axes.invert_yaxis()
    axes.set_xlabel("share of selected samples")
    axes.legend(fontsize="small")
    return _save(figure, path)


def usage(runs: list[LoadedRun], path: Path) -> Path | None:
    """Teacher/judge calls and tokens per stage, summed over every run (mean per run in the table)."""
    calls: Counter[str] = Counter()
    tokens: Counter[str] = Counter()
    for run in runs:
        for stage, spent in run.usage.stages.items():
            calls[stage] += spent.calls + spent.cached_calls
            tokens[stage] += spent.total_tokens
    if not calls:
        return None
    stages = sorted(calls)
    figure, (left, right) = _figure(10, 0.5 * len(stages) + 2, ncols=2)
    left.barh(stages, [calls[s] for s in stages])
    left.set_xlabel("calls (sent + cached)")
    right.barh(stages, [tokens[s] for s in stages], color="tab:orange")
    right.set_xlabel("tokens (prompt + completion)")
    right.set_yticks(range(len(stages)), [""] * len(stages))
    return _save(figure, path)
