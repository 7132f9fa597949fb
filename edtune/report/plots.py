"""The report's PNG plots (matplotlib, Agg backend, imported on first use).

Each plot function returns a `Plot`: its title, drawn on the figure and stored as the PNG's Title, and
either the PNG it wrote or, when the runs hold nothing to draw (no teacher call in a random-only report,
every family at accuracy 0), no file and a sentence saying so, which report.md prints instead of an empty
frame. Every axis is labelled; a "top N" plot draws N bars whenever N items exist, however alike their
labels, and its title says how many there were.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edtune.report.groups import group_runs
from edtune.report.results import METHOD_ORDER
from edtune.report.runs import LoadedRun

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TOP_SKILLS = 15
"""Bars shown in the skill histograms (the most frequent; long tails of teacher phrases stay readable)."""
LABEL_CHARS = 60
"""Longer bar labels are cut to about this many characters, in the middle, so that phrases that differ only
at their end stay apart (and each bar keeps its own position even when cut labels read alike)."""
_DPI = 110


@dataclass(frozen=True)
class Plot:
    """One of the report's plots: the PNG written, or in words why there is none."""

    title: str
    """The plot's title: drawn on the figure, stored in the PNG's Title field, and report.md's heading."""
    path: Path | None = None
    """The PNG written; None when there was nothing to draw."""
    empty: str | None = None
    """When no PNG was written: why, in a sentence for report.md."""
    figure: Figure | None = field(default=None, compare=False, repr=False)
    """The drawn figure (closed once saved), for callers that inspect what was drawn."""


def _figure(width: float, height: float, ncols: int = 1) -> tuple[Figure, Any]:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; must precede pyplot's first import
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(1, ncols, figsize=(width, height))
    return figure, axes


def _save(figure: Figure, path: Path, title: str) -> Plot:
    """Title `figure`, write it to `path` with the title in the PNG's metadata, and close it."""
    from matplotlib import pyplot as plt

    figure.suptitle(title, fontsize="medium")
    figure.tight_layout()
    figure.savefig(path, dpi=_DPI, metadata={"Title": title})
    plt.close(figure)
    return Plot(title=title, path=path, figure=figure)


def _label(text: str) -> str:
    half = (LABEL_CHARS - 3) // 2
    return text if len(text) <= LABEL_CHARS else f"{text[:half]}...{text[-half:]}"


def _top(total: int) -> str:
    """How much of a ranked list a plot shows, for its title."""
    return f"top {TOP_SKILLS} of {total}" if total > TOP_SKILLS else f"all {total}"


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


ACCURACY_TITLE = "Test accuracy against pool samples used"
FAMILY_TITLE = "Test accuracy per question family, before and after tuning"
USAGE_TITLE = "Teacher and judge calls and tokens per stage"


def accuracy_curve(runs: list[LoadedRun], path: Path) -> Plot:
    """Test accuracy against pool samples used, one line per method (mean over seeds); the full pool is
    a dashed horizontal line, since its single point sits far right of every budgeted method."""
    groups = _by_method(runs)
    curves = {label: _curve(group) for label, group in groups.items()}
    curves = {label: (xs, ys) for label, (xs, ys) in curves.items() if ys}
    if not curves:
        return Plot(ACCURACY_TITLE, empty="No run has a scored test set yet (no test file, or no test pass "
                                          "finished), so there is no accuracy to plot.")
    figure, axes = _figure(7, 4.5)
    for method, (xs, ys) in curves.items():
        if groups[method][0].method == "full":
            axes.axhline(ys[-1], linestyle="--", color="grey", label=f"full pool ({xs[-1]:,.0f} samples)")
        else:
            axes.plot(xs, ys, marker="o", label=method)
    axes.set_xlabel("pool samples used")
    axes.set_ylabel("test accuracy")
    axes.set_ylim(0, 1.02)
    axes.grid(alpha=0.3)
    axes.legend()
    return _save(figure, path, ACCURACY_TITLE)


def _family_accuracy(group: list[LoadedRun], final: bool) -> dict[str, float]:
    scores: dict[str, list[float]] = defaultdict(list)
    for run in group:
        it = run.final if final else run.pretrained
        for family, summary in it.test_by_family.items():
            if summary.accuracy is not None:
                scores[family].append(summary.accuracy)
    return {family: statistics.fmean(values) for family, values in sorted(scores.items())}


def family_accuracy(runs: list[LoadedRun], path: Path) -> Plot:
    """Test accuracy per question family before tuning and after each method (grouped bars, each labelled
    with its value so a bar at 0 still reads as 0). Said in words instead when no test sample has a family,
    or when every family scored 0 everywhere (a frame of zero-height bars would look empty)."""
    series = {"pretrained": _family_accuracy(runs, final=False)}
    series |= {method: _family_accuracy(group, final=True) for method, group in _by_method(runs).items()}
    series = {name: values for name, values in series.items() if values}
    families = sorted({f for values in series.values() for f in values})
    if not families:
        return Plot(FAMILY_TITLE, empty="No run's test set has a question family, so test accuracy is not split "
                                        "by family.")
    if all(value == 0 for values in series.values() for value in values.values()):
        return Plot(FAMILY_TITLE, empty=f"Every question family ({', '.join(families)}) scored a test accuracy of 0, "
                                        "before tuning and after every method: there is no bar to draw.")
    figure, axes = _figure(max(7, 1.6 * len(families) + 3), 4.5)
    width = 0.8 / len(series)
    for k, (name, values) in enumerate(series.items()):
        bars = axes.bar([i + k * width for i in range(len(families))], [values.get(f, 0.0) for f in families],
                        width=width, label=name)
        axes.bar_label(bars, labels=[f"{values[f]:.2f}" if f in values else "–" for f in families],
                       fontsize="x-small")
    axes.set_xticks([i + 0.4 - width / 2 for i in range(len(families))], [_label(f) for f in families], rotation=15)
    axes.set_xlabel("question family")
    axes.set_ylabel("test accuracy")
    axes.set_ylim(0, 1.1)
    axes.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))  # beside the bars, never over them
    return _save(figure, path, FAMILY_TITLE)


def _horizontal_bars(counts: Counter[str], path: Path, xlabel: str, ylabel: str, title: str) -> Plot:
    """The TOP_SKILLS most common of `counts` as horizontal bars, most common on top."""
    top = counts.most_common(TOP_SKILLS)
    figure, axes = _figure(8, 0.35 * len(top) + 1.5)
    positions = range(len(top))
    axes.barh(positions, [n for _, n in top])
    axes.set_yticks(positions, [_label(label) for label, _ in top])
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    return _save(figure, path, f"{title} ({_top(len(counts))})")


def missing_skills(runs: list[LoadedRun], path: Path) -> Plot:
    """How often the teacher named each missing skill, over every error-analysing run and iteration."""
    counts: Counter[str] = Counter()
    for run in runs:
        for it in run.metrics.iterations:
            counts.update(it.missing_skills)
    title = "Missing skills named by the teacher"
    if not counts:
        return Plot(title, empty="No run asked the teacher for missing skills (no error-driven run, or no error was "
                                 "analysed), so there is no skill to count.")
    return _horizontal_bars(counts, path, "errors naming the skill", "missing skill", title)


def retrieved_skill_counts(run: LoadedRun) -> Counter[str]:
    """Selected pool samples per gold skill (the pool's question family) when the pool records one, else
    per matched skill (the query that retrieved them)."""
    families: Counter[str] = Counter()
    matched: Counter[str] = Counter()
    for it in run.finished:
        families.update(it.selected_families)
        matched.update(it.matched_skills)
    return families if families and set(families) != {"all"} else matched


def retrieved_skills(runs: list[LoadedRun], path: Path) -> Plot:
    """Share of each method's selected samples per skill (the full pool is left out: it takes all)."""
    shares: dict[str, Counter[str]] = {}
    for method, group in _by_method(runs).items():
        if group[0].method == "full":
            continue
        counts = sum((retrieved_skill_counts(run) for run in group), Counter[str]())
        if counts:
            shares[method] = counts
    ranked = sorted({s for c in shares.values() for s in c}, key=lambda s: -sum(c[s] for c in shares.values()))
    title = "Skills of the selected pool samples"
    if not ranked:
        return Plot(title, empty="No method selected pool samples (apart from the full pool, which takes them all), "
                                 "so there is no skill to count.")
    skills = ranked[:TOP_SKILLS]
    figure, axes = _figure(8, 0.35 * len(skills) * max(1, len(shares) / 2) + 1.5)
    height = 0.8 / len(shares)
    for k, (method, counts) in enumerate(shares.items()):
        total = sum(counts.values())
        axes.barh([i + k * height for i in range(len(skills))], [counts[s] / total for s in skills],
                  height=height, label=method)
    axes.set_yticks([i + 0.4 - height / 2 for i in range(len(skills))], [_label(s) for s in skills])
    axes.invert_yaxis()
    axes.set_xlabel("share of the method's selected samples")
    axes.set_ylabel("skill of the selected sample")
    axes.legend(fontsize="small")
    return _save(figure, path, f"{title} ({_top(len(ranked))}; gold family where the pool records one)")


def usage(runs: list[LoadedRun], path: Path) -> Plot:
    """Teacher/judge calls and tokens per stage, summed over every run (mean per run in the table): what was
    paid, with the replies answered from the cache stacked beside it in a lighter shade."""
    paid: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    cached: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for run in runs:
        for stage, spent in run.usage.stages.items():
            paid[stage][0] += spent.calls
            paid[stage][1] += spent.total_tokens
            cached[stage][0] += spent.cached_calls
            cached[stage][1] += spent.cached_tokens
    stages = sorted(stage for stage in paid if paid[stage][0] + cached[stage][0] > 0)
    if not stages:
        return Plot(USAGE_TITLE, empty="No teacher or judge calls were made.")
    figure, (left, right) = _figure(10, 0.5 * len(stages) + 2.5, ncols=2)
    for axes, k, xlabel in ((left, 0, "calls"), (right, 1, "tokens (prompt + completion)")):
        axes.barh(stages, [paid[s][k] for s in stages], color="tab:blue", label="paid")
        axes.barh(stages, [cached[s][k] for s in stages], left=[paid[s][k] for s in stages], color="lightsteelblue",
                  label="answered from the cache (paid when first asked)")
        axes.set_xlabel(xlabel)
    left.set_ylabel("stage")
    right.set_yticks(range(len(stages)), [""] * len(stages))
    left.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(0, -0.3), ncols=2)  # below, off the bars
    return _save(figure, path, USAGE_TITLE)
