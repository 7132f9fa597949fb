"""Selection stages: which pool samples an iteration trains on, written as selection.jsonl.

Every method ends its iteration's selection with one of these, and every one writes the same record
(`edtune.retrieval.ChosenSample`: id, matched skill, score, rank), so training, metrics and the report
never need to know which method chose. Selections are computed in memory and written atomically once:
they make no paid calls, so a crash simply recomputes them, identically, from the seeded generators.
"""

from __future__ import annotations

from edtune.atomic import atomic_write_text
from edtune.jsonl import read_jsonl
from edtune.loop.rundir import RunDir
from edtune.loop.seeds import stage_rng
from edtune.retrieval.select import ChosenSample, QuotaShortfall, SkillQuota

RANDOM = "random"
"""The `skill` recorded for samples drawn at random (they matched no skill)."""
NAMED = 5
"""Skills a shortfall line names before it says how many more there are."""


def read_selection(run: RunDir, iteration: int) -> list[ChosenSample]:
    """The samples iteration `iteration` selected (empty before its selection stage ran)."""
    return read_jsonl(run.file(iteration, "selection.jsonl"), ChosenSample)


def read_quotas(run: RunDir, iteration: int) -> list[SkillQuota]:
    """Per missing skill: errors naming it, its quota and the samples it got (targeted methods only)."""
    return read_jsonl(run.file(iteration, "quotas.jsonl"), SkillQuota)


def _write(run: RunDir, iteration: int, name: str, records: list[ChosenSample] | list[SkillQuota]) -> None:
    atomic_write_text(run.file(iteration, name), "".join(r.model_dump_json() + "\n" for r in records))


def write_selection(run: RunDir, iteration: int, chosen: list[ChosenSample],
                    quotas: list[SkillQuota] | None = None) -> None:
    """Write the selection (and the per-skill account, when there is one). Quotas go first: the
    selection file is what marks the stage's output complete."""
    if quotas is not None:
        _write(run, iteration, "quotas.jsonl", quotas)
    _write(run, iteration, "selection.jsonl", chosen)


def random_choice(ids: list[str], count: int, *, seed: int, iteration: int, stage: str) -> list[ChosenSample]:
    """`count` ids (at most all) drawn without replacement, in draw order, recorded as random picks."""
    drawn = stage_rng(seed, iteration, stage).sample(ids, min(count, len(ids)))
    return [ChosenSample(sample_id=i, skill=RANDOM, score=0.0, rank=n) for n, i in enumerate(drawn, start=1)]



def shortfall_line(short: QuotaShortfall) -> str:
    """The run-log text of an iteration in which missing skills with a quota got no pool sample."""
    named = [f'"{s.skill}" (named by {s.missing} error(s), quota {s.quota}; '
             f'{"no pool sample matches it" if s.hits == 0 else "its matches were all chosen already"})'
             for s in short.skills[:NAMED]]
    more = f" and {len(short.skills) - NAMED} more" if len(short.skills) > NAMED else ""
    given = sum(short.given_to.values())
    return (f"{len(short.skills)} missing skill(s) got no pool sample: {', '.join(named)}"
            f"{more}. Of {short.unmet} sample(s) of quota left unmet, {given} went to other skills and "
            f"{short.unspent} were not selected (report.md: \"Missing skills that got no pool sample\").")
