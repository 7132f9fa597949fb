"""Two runs side by side (two methods, or two template versions): accuracy per iteration, and per
iteration both ran, the teacher templates each used (name and hash) and where their errors, located steps and
selections differ."""

from __future__ import annotations

from typing import Any

from edtune.view import urls
from edtune.view.render import render
from edtune.view.runfiles import RunFiles

LISTED = 50
"""Sample ids listed per difference; the counts are always complete."""


def _accuracy(run: RunFiles) -> dict[int, tuple[float | None, float | None]]:
    if run.metrics is None:
        return {}
    return {m.iteration: (m.val.accuracy if m.val else None, m.test.accuracy if m.test else None)
            for m in run.metrics.iterations}


def _iteration_diff(a: RunFiles, b: RunFiles, i: int) -> dict[str, Any]:
    fa, fb = a.iteration(i), b.iteration(i)
    errors_a, errors_b = {r.sample_id for r in fa.errors}, {r.sample_id for r in fb.errors}
    both = sorted(errors_a & errors_b)
    moved = [(s, fa.located_step(s), fb.located_step(s)) for s in both if fa.located_step(s) != fb.located_step(s)]
    chosen_a, chosen_b = {c.sample_id for c in fa.selection}, {c.sample_id for c in fb.selection}
    return {"i": i, "templates_a": fa.templates(), "templates_b": fb.templates(),
            "only_a": sorted(errors_a - errors_b), "only_b": sorted(errors_b - errors_a), "both": len(both),
            "moved": moved, "sel_only_a": sorted(chosen_a - chosen_b), "sel_only_b": sorted(chosen_b - chosen_a),
            "sel_both": len(chosen_a & chosen_b)}


def compare_page(a: RunFiles, b: RunFiles) -> str:
    """The side-by-side page of runs `a` and `b`."""
    acc_a, acc_b = _accuracy(a), _accuracy(b)
    rows = [(i, acc_a.get(i), acc_b.get(i)) for i in sorted(acc_a.keys() | acc_b.keys())]
    shared = sorted(i for i in set(a.iterations()) & set(b.iterations()) if i > 0)
    diffs = [_iteration_diff(a, b, i) for i in shared]
    return render("compare.html", urls.compare(a.key, b.key), a=a, b=b, rows=rows, diffs=diffs, listed=LISTED,
                  problems=[f"{a.name}: {p}" for p in a.problems] + [f"{b.name}: {p}" for p in b.problems])
