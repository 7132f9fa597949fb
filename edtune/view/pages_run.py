"""The runs index, a run's overview and an iteration's selection page."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from edtune.view import urls
from edtune.view.images import image_ref
from edtune.view.pages_progress import progress_round, progress_tables
from edtune.view.render import render
from edtune.view.runfiles import RunFiles


def index_page(runs: Sequence[RunFiles]) -> str:
    """Every run given, with its status, and links to compare each pair."""
    pairs = [(a.key, b.key) for n, a in enumerate(runs) for b in runs[n + 1:]]
    return render("index.html", "index.html", runs=runs, pairs=pairs)


def _iteration_rows(run: RunFiles) -> list[dict[str, Any]]:
    """One row per iteration: from metrics.json when it exists, else from the iteration folders."""
    if run.metrics is not None:
        return [{"i": m.iteration, "m": m, "folder": m.iteration in run.iterations()} for m in run.metrics.iterations]
    return [{"i": i, "m": None, "folder": True} for i in run.iterations()]


def _per_iteration_metrics(run: RunFiles) -> list[dict[str, Any]]:
    """Per-iteration metrics files (iterations/NNN/metrics.json) of a run without metrics.json yet."""
    out = []
    for i in run.iterations():
        path = run.rundir.file(i, "metrics.json")
        if path.is_file():
            try:
                out.append({"i": i, "data": json.loads(path.read_text(encoding="utf-8"))})
            except (OSError, ValueError) as exc:
                run.problems.append(f"iterations/{i:03d}/metrics.json: {exc}")
    return out


def overview_page(run: RunFiles) -> str:
    """Method, config, versions, accuracy per iteration, budget spent, usage per stage, and links."""
    here = urls.overview(run.key)
    config = run.config
    config_json = config.model_dump_json(indent=2) if config is not None else None
    rows = _iteration_rows(run)
    partial = _per_iteration_metrics(run) if run.metrics is None else []
    stages = run.usage.get("stages", {}) if isinstance(run.usage.get("stages"), dict) else {}
    return render("overview.html", here, run=run, config=config, config_json=config_json, rows=rows,
                  partial=partial, stages=stages, budget_tokens=run.usage.get("budget_tokens"),
                  metrics=run.metrics, envs=run.environments, problems=run.problems)


def selection_page(run: RunFiles, i: int) -> str:
    """The samples chosen in iteration `i` (with their images), the per-skill quotas, and for the
    progress methods the per-cluster or per-skill account of the round."""
    files = run.iteration(i)
    pool = run.pool_samples(c.sample_id for c in files.selection)
    chosen = []
    for c in files.selection:
        sample = pool.get(c.sample_id)
        images = [image_ref(run, "pool", rel) for rel in (sample.images if sample else [])]
        chosen.append({"c": c, "sample": sample, "images": images})
    tables, round_ = progress_tables(run, i), progress_round(run, i)
    return render("selection.html", urls.selection(run.key, i), run=run, i=i, chosen=chosen, quotas=files.quotas,
                  tables=tables, round=round_, named=files.errors_by_skill(), problems=run.problems)
