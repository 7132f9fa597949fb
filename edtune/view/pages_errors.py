"""The errors of one iteration: a paginated list, filtered by one missing skill, localisation outcome,
judge outcome, or failed teacher calls at a time."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from edtune.view import urls
from edtune.view.iteration import ErrorRow, IterationFiles
from edtune.view.render import render
from edtune.view.runfiles import RunFiles

TOP_SKILLS = 40
"""Skill filters offered as links on an errors page (most-named first); the others stay reachable from
error pages and the selection page."""


@dataclass(frozen=True)
class Filter:
    """One way to narrow the list: its URL key, its label, and the rows it keeps."""

    key: str
    label: str
    keep: Callable[[ErrorRow], bool]
    count: int = 0


def filters(files: IterationFiles) -> dict[str, list[Filter]]:
    """Every filter that keeps at least one error, grouped by what it looks at, biggest first (computed
    once per read of the iteration)."""
    if "filters" not in files.memo:
        files.memo["filters"] = _filters(files.errors)
    found: dict[str, list[Filter]] = files.memo["filters"]  # type: ignore[assignment]
    return found


def filtered(files: IterationFiles, chosen: Filter) -> list[ErrorRow]:
    """The errors `chosen` keeps, in file order (computed once per filter and read)."""
    key = ("rows", chosen.key)
    if key not in files.memo:
        files.memo[key] = [r for r in files.errors if chosen.keep(r)]
    rows: list[ErrorRow] = files.memo[key]  # type: ignore[assignment]
    return rows


def _filters(rows: list[ErrorRow]) -> dict[str, list[Filter]]:

    def group(prefix: str, values: Counter[str], pick: Callable[[ErrorRow, str], bool]) -> list[Filter]:
        return [Filter(f"{prefix}-{v}" if prefix != "skill" else urls.skill_filter(v), v, _bind(pick, v), n)
                for v, n in values.most_common()]

    skills = Counter(s for r in rows for s in set(r.skills))
    out = {"missing skill": group("skill", skills, _names_skill),
           "localisation": group("loc", Counter(r.location for r in rows), _located_as),
           "judge": group("judge", Counter(r.judge for r in rows), _judged_as)}
    failed = sum(r.teacher_failed for r in rows)
    teacher = Filter("teacher-failed", "failed teacher call", lambda r: r.teacher_failed, failed)
    out["teacher"] = [teacher] if failed else []
    return out


def _bind(pick: Callable[[ErrorRow, str], bool], value: str) -> Callable[[ErrorRow], bool]:
    return lambda row: pick(row, value)


def _names_skill(row: ErrorRow, value: str) -> bool:
    return value in row.skills


def _located_as(row: ErrorRow, value: str) -> bool:
    return row.location == value


def _judged_as(row: ErrorRow, value: str) -> bool:
    return row.judge == value


def find_filter(files: IterationFiles, key: str) -> Filter | None:
    """The filter named `key` ("" = every error), or None when no error matches such a filter."""
    if not key:
        return Filter("", "all errors", lambda r: True, len(files.errors))
    return next((f for group in filters(files).values() for f in group if f.key == key), None)


def page_count(n: int) -> int:
    """Pages a list of `n` errors takes (at least one, saying it is empty)."""
    return max(1, -(-n // urls.PAGE_SIZE))


def errors_page(run: RunFiles, i: int, key: str, page: int) -> str | None:
    """Page `page` (1-based) of iteration `i`'s errors kept by filter `key`; None when there is no such page."""
    files = run.iteration(i)
    chosen = find_filter(files, key)
    if chosen is None:
        return None
    rows = filtered(files, chosen)
    pages = page_count(len(rows))
    if not 1 <= page <= pages:
        return None
    shown = rows[(page - 1) * urls.PAGE_SIZE: page * urls.PAGE_SIZE]
    groups = dict(filters(files))
    groups["missing skill"] = groups["missing skill"][:TOP_SKILLS]
    return render("errors.html", urls.errors(run.key, i, key, page), run=run, i=i, rows=shown, total=len(rows),
                  all_errors=len(files.errors), page=page, pages=pages, current=chosen, groups=groups,
                  judged=len(files.judgments), problems=run.problems)
