"""The per-cluster (PROGRESS) or per-skill (skill-progress) account of one iteration, read as plain JSON.

The rows are shown with their own field names as columns, so this page follows the records of
`edtune.methods.progress.records` and `edtune.methods.skill_progress.method` without restating them.
"""

from __future__ import annotations

import json
from typing import Any

from edtune.view.runfiles import RunFiles

TABLES = ("cluster_accuracy.jsonl", "skill_accuracy.jsonl")
"""Per-iteration files of the progress methods, one record per cluster or skill."""
SCALARS = (str, int, float, type(None))


def progress_tables(run: RunFiles, i: int) -> list[dict[str, Any]]:
    """Per file of TABLES present in iteration `i`: its name, the columns and the rows (scalars as they
    are, anything nested as JSON text). An unreadable line is noted on the run and skipped."""
    out = []
    for name in TABLES:
        path = run.rundir.file(i, name)
        if not path.is_file():
            continue
        rows: list[dict[str, Any]] = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            try:
                row = json.loads(line)
            except ValueError as exc:
                run.problems.append(f"iterations/{i:03d}/{name} line {number}: {exc}")
                continue
            if isinstance(row, dict):
                rows.append({k: v if isinstance(v, SCALARS) else json.dumps(v) for k, v in row.items()})
        columns = list(dict.fromkeys(k for row in rows for k in row))
        out.append({"name": name, "columns": columns, "rows": rows})
    return out


def progress_round(run: RunFiles, i: int) -> dict[str, Any] | None:
    """progress_round.json of iteration `i` as plain JSON, or None when absent or unreadable."""
    path = run.rundir.file(i, "progress_round.json")
    if not path.is_file():
        return None
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        run.problems.append(f"iterations/{i:03d}/progress_round.json: {exc}")
        return None
    return found if isinstance(found, dict) else None
