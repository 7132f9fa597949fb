"""Reduce runs to the paper's table: per method and settings (`edtune.report.groups`: runs that differ in
judge, teacher, budget ... are never averaged together), mean accuracy over seeds, samples used and % of
the pool, and % of the full pool's accuracy. A "pretrained" row per judge, student and test set comes from
the runs' iteration 0. A run without a test accuracy is left out of its row's mean and named there."""

from __future__ import annotations

import statistics

from edtune.report.groups import PRETRAINED_FIELDS, Group, group_runs
from edtune.report.records import MethodResult, ReportResults, SeedResult
from edtune.report.runs import LoadedRun

PRETRAINED = "pretrained"
"""Name of the row for the student before tuning (not a loop method: iteration 0 of the runs)."""
METHOD_ORDER = [PRETRAINED, "random", "ablation_random_samples", "ablation_random_step", "ablation_step_text",
                "error_driven", "full"]
"""Table order: no tuning, the random baseline, the paper's ablations, the method, then the upper bound.
Methods not listed (e.g. PROGRESS) come after error_driven, alphabetically."""


def _order(method: str) -> tuple[int, str]:
    if method in METHOD_ORDER:
        return METHOD_ORDER.index(method), ""
    return METHOD_ORDER.index("full") - 1, method


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def seed_result(run: LoadedRun) -> SeedResult:
    final = run.final
    return SeedResult(run_dir=run.root, seed=run.metrics.seed,
                      pretrained_accuracy=run.pretrained.test.accuracy if run.pretrained.test else None,
                      accuracy=final.test.accuracy if final.test else None,
                      unscored_share=final.test.unscored_share if final.test else None,
                      samples_used=run.samples_used, iterations=len(run.finished), stopped=run.metrics.stopped,
                      environments=run.environments)


def _method_result(group: Group, seeds: list[SeedResult], pool_size: int) -> MethodResult:
    accuracies = [s.accuracy for s in seeds if s.accuracy is not None]
    used = statistics.fmean(s.samples_used for s in seeds)
    return MethodResult(method=group.method, settings=group.settings, judge=group.judge,
                        seeds=sorted(s.seed for s in seeds),
                        seeds_without_accuracy=sorted(s.seed for s in seeds if s.accuracy is None),
                        pretrained_accuracy=_mean([s.pretrained_accuracy for s in seeds]),
                        accuracy=statistics.fmean(accuracies) if accuracies else None,
                        accuracy_std=statistics.pstdev(accuracies) if accuracies else None,
                        unscored_share=_mean([s.unscored_share for s in seeds]), samples_used=used, pool_size=pool_size,
                        pool_percent=100 * used / pool_size if pool_size else 0.0,
                        percent_of_full=None, runs=sorted(seeds, key=lambda s: s.seed))


def _pretrained_row(group: Group, pool_size: int) -> MethodResult | None:
    """One pretrained score per seed (every method of a seed starts from the same student); None when no
    run of the group has a test set."""
    by_seed: dict[int, SeedResult] = {}
    for run in group.runs:
        if run.metrics.seed not in by_seed and run.pretrained.test is not None:
            test = run.pretrained.test
            by_seed[run.metrics.seed] = SeedResult(run_dir=run.root, seed=run.metrics.seed,
                                                   pretrained_accuracy=test.accuracy, accuracy=test.accuracy,
                                                   unscored_share=test.unscored_share, samples_used=0,
                                                   iterations=0, stopped=None)
    return _method_result(group, list(by_seed.values()), pool_size) if by_seed else None


def _percent_of_full(rows: list[MethodResult]) -> float | None:
    """Fill each row's % of full from the full-pool row (of the row's judge when there are several);
    returns the full pool's accuracy when exactly one full-pool row exists."""
    fulls = [r for r in rows if r.method == "full"]
    for row in rows:
        same_judge = [f for f in fulls if f.judge == row.judge]
        full = fulls[0] if len(fulls) == 1 else same_judge[0] if len(same_judge) == 1 else None
        if full is not None and full.accuracy and row.accuracy is not None:
            row.percent_of_full = 100 * row.accuracy / full.accuracy
    return fulls[0].accuracy if len(fulls) == 1 else None


def compare(runs: list[LoadedRun]) -> ReportResults:
    """The table over `runs` (any mix of methods, settings and seeds); see the module docstring."""
    pool_size = max(run.metrics.pool_size for run in runs)
    rows = [_method_result(group, [seed_result(run) for run in group.runs], pool_size) for group in group_runs(runs)]
    pretrained = [_pretrained_row(g, pool_size) for g in group_runs(runs, only=PRETRAINED_FIELDS, method=PRETRAINED)]
    rows += [row for row in pretrained if row is not None]
    full = _percent_of_full(rows)
    rows.sort(key=lambda r: _order(r.method))
    return ReportResults(methods=rows, full_accuracy=full, pool_size=pool_size)


ACCURACY_RULE = ("Test accuracy counts every test question: an answer that cannot be read counts as wrong, and a "
                 "question the judge failed on (after a retry) counts as not correct; `unscored` is that share.")
"""How the table's accuracy is counted, said in the report's header."""


def format_table(results: ReportResults) -> str:
    """The paper-style table as Markdown: one row per method and settings (accuracy as mean ± std over the
    seeds that have one, the count said when some do not; the share of test questions the judge left
    unscored beside it), then the judge and the settings that set a row apart from its method's others."""
    lines = ["| method | seeds | samples used | % of pool | test accuracy | unscored | % of full | judge | settings |",
             "|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for row in results.methods:
        accuracy = "-" if row.accuracy is None else f"{row.accuracy:.3f}"
        scored = len(row.seeds) - len(row.seeds_without_accuracy)
        if row.accuracy_std and scored > 1:
            accuracy += f" ± {row.accuracy_std:.3f}"
        if row.seeds_without_accuracy:
            accuracy += f" ({scored} of {len(row.seeds)} seeds)"
        unscored = "-" if row.unscored_share is None else f"{row.unscored_share:.1%}"
        of_full = "-" if row.percent_of_full is None else f"{row.percent_of_full:.1f}%"
        settings = ", ".join(f"{k}={v}" for k, v in row.settings.items()).replace("|", "\\|")
        lines.append(f"| {row.method} | {len(row.seeds)} | {row.samples_used:,.0f} | {row.pool_percent:.1f}% | "
                     f"{accuracy} | {unscored} | {of_full} | {row.judge or '-'} | {settings} |")
    return "\n".join(lines)
