"""The files of one iteration folder, joined by sample id, and the error rows the errors page lists."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError

from edtune.errors import EdtuneError
from edtune.jsonl import read_jsonl
from edtune.loop.rundir import RandomStep, RunDir
from edtune.records import Judgment, Record, StudentOutput
from edtune.retrieval.select import ChosenSample, SkillQuota
from edtune.teacher.records import SkillAnalysis, StepLocation
from edtune.view.urls import slug

R = TypeVar("R", bound=Record)
T = TypeVar("T")
Note = Callable[[str, BaseException], None]


@dataclass(frozen=True)
class ErrorRow:
    """One validation error of an iteration, as the errors page lists and filters it."""

    sample_id: str
    judge: str
    """The judge outcome: incorrect or unscored."""
    location: str
    """The localisation outcome (found, fallback, failed, no_steps), random, or none (not localised)."""
    step: int | None
    """The located (or drawn) 1-based first wrong step."""
    skills: tuple[str, ...]
    """Missing skills the teacher named (empty when none or failed)."""
    teacher_failed: bool
    """Whether a teacher call on this error gave no usable reply."""


@dataclass
class IterationFiles:
    """Records of iteration folder `i`, each keyed by sample id where it has one."""

    number: int
    outputs: dict[str, StudentOutput] = field(default_factory=dict)
    judgments: dict[str, Judgment] = field(default_factory=dict)
    locations: dict[str, StepLocation] = field(default_factory=dict)
    random_steps: dict[str, RandomStep] = field(default_factory=dict)
    skills: dict[str, SkillAnalysis] = field(default_factory=dict)
    quotas: list[SkillQuota] = field(default_factory=list)
    selection: list[ChosenSample] = field(default_factory=list)
    test_judgments: dict[str, Judgment] = field(default_factory=dict)
    errors: list[ErrorRow] = field(default_factory=list)
    """Every judged validation sample not judged correct, in file order."""
    memo: dict[object, object] = field(default_factory=dict, repr=False, compare=False)
    """What pages computed from these records once (filters, filtered rows, lookups)."""

    @classmethod
    def read(cls, rundir: RunDir, i: int, note: Note) -> IterationFiles:
        """Read iteration `i`; an unreadable file is noted through `note` and read as empty."""

        def rows(name: str, model: type[R]) -> list[R]:
            path: Path = rundir.file(i, name)
            try:
                return read_jsonl(path, model)
            except (OSError, ValueError, ValidationError, EdtuneError) as exc:
                note(f"iterations/{i:03d}/{name}", exc)
                return []

        def keyed(name: str, model: type[R]) -> dict[str, R]:
            return {getattr(r, "sample_id"): r for r in rows(name, model)}  # noqa: B009

        files = cls(i, keyed("val_outputs.jsonl", StudentOutput), keyed("val_judgments.jsonl", Judgment),
                    keyed("locations.jsonl", StepLocation), keyed("random_steps.jsonl", RandomStep),
                    keyed("skills.jsonl", SkillAnalysis), rows("quotas.jsonl", SkillQuota),
                    rows("selection.jsonl", ChosenSample), keyed("test_judgments.jsonl", Judgment))
        files.errors = [files._row(j) for j in files.judgments.values() if j.outcome != "correct"]
        return files

    def _row(self, judgment: Judgment) -> ErrorRow:
        sid = judgment.sample_id
        location, analysis, drawn = self.locations.get(sid), self.skills.get(sid), self.random_steps.get(sid)
        outcome: str
        if location is not None:
            outcome, step = location.outcome, location.step
        elif drawn is not None:
            outcome, step = "random", drawn.step
        else:
            outcome, step = "none", None
        failed = (location is not None and location.failure is not None) or (
            analysis is not None and analysis.failure is not None)
        skills = tuple(analysis.missing_skills) if analysis is not None else ()
        return ErrorRow(sid, judgment.outcome, outcome, step, skills, failed)

    def templates(self) -> list[str]:
        """The teacher templates this iteration's results were made with, as "name@hash" (12 hex digits)."""
        used = {f"{r.template}@{r.template_hash[:12]}" for r in [*self.locations.values(), *self.skills.values()]}
        return sorted(used)

    def _memo(self, key: str, make: Callable[[], T]) -> T:
        if key not in self.memo:
            self.memo[key] = make()
        found: T = self.memo[key]  # type: ignore[assignment]
        return found

    def chosen_by_skill(self) -> dict[str, list[ChosenSample]]:
        """The selection grouped by the missing skill that retrieved each sample, in rank order."""

        def make() -> dict[str, list[ChosenSample]]:
            out: dict[str, list[ChosenSample]] = defaultdict(list)
            for chosen in self.selection:
                out[chosen.skill].append(chosen)
            return {skill: sorted(hits, key=lambda c: c.rank) for skill, hits in out.items()}

        return self._memo("chosen_by_skill", make)

    def errors_by_skill(self) -> dict[str, list[str]]:
        """The ids of the errors naming each missing skill, in file order."""

        def make() -> dict[str, list[str]]:
            out: dict[str, list[str]] = defaultdict(list)
            for row in self.errors:
                for skill in dict.fromkeys(row.skills):
                    out[skill].append(row.sample_id)
            return dict(out)

        return self._memo("errors_by_skill", make)

    def neighbours(self, sample_id: str) -> tuple[str | None, str | None]:
        """The errors listed before and after `sample_id` (None at either end)."""
        order = self._memo("error_order", lambda: {r.sample_id: n for n, r in enumerate(self.errors)})
        n = order.get(sample_id)
        if n is None:
            return None, None
        before = self.errors[n - 1].sample_id if n > 0 else None
        after = self.errors[n + 1].sample_id if n + 1 < len(self.errors) else None
        return before, after

    def error_slugs(self) -> dict[str, str]:
        """URL slug (`edtune.view.urls.slug`) → id of every error."""
        return self._memo("error_slugs", lambda: {slug(r.sample_id): r.sample_id for r in self.errors})

    def located_step(self, sample_id: str) -> int | None:
        """The first wrong step the teacher located (or the ablation drew) for this error."""
        location = self.locations.get(sample_id)
        if location is not None:
            return location.step
        drawn = self.random_steps.get(sample_id)
        return drawn.step if drawn is not None else None
