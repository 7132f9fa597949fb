"""From the skills a student was missing to the samples it trains on next.

`select_samples` turns one iteration's missing skills (one entry per wrong answer the teacher diagnosed, so
a skill missing five times appears five times) into a training set of at most `budget` samples:

1. Allocation (`allocate`): the budget is split across skills in proportion to how often each was missing,
   but every skill gets at least `floor` samples. Skills whose proportional share is below the floor are
   fixed at the floor and the rest of the budget is shared again among the others, until no share is
   below the floor; whole numbers come from the largest remainders. When the floor cannot be met for
   every skill (floor x skills > budget), the most-missed skills get it first. Ties in any order are broken
   by count (higher first), then skill text (alphabetical), so the allocation is deterministic.
2. Retrieval: each distinct skill is one query; its `top_k` best hits are its candidates. Hits with score
   <= `min_score` (by default: sharing no informative term with the skill) and samples in `exclude`
   (already used in earlier iterations) are never chosen.
3. Choice, round-robin: in skill order, each skill below its quota takes its best candidate not chosen yet,
   one per round, so no skill takes another's best samples wholesale; a sample is chosen at most once and
   is credited to the skill that took it. Budget left over by skills with too few candidates is then given
   out the same way to skills that still have candidates.

Every chosen sample records the skill it matched, its BM25 score and its rank for that skill; every skill's
account (`SkillQuota`) records how many pool samples matched it, and `shortfall` says where the quota of
skills that got no sample went (to other skills, or not spent).
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Collection, Iterable, Mapping, Sequence

from pydantic import Field

from edtune.records import Record
from edtune.retrieval.base import Hit, Retriever


class SelectionConfig(Record):
    """How one iteration's training set is drawn from the pool."""

    budget: int = Field(ge=0)
    """Most samples to choose."""
    floor: int = Field(default=1, ge=0)
    """Fewest samples a missing skill gets (when the budget allows)."""
    top_k: int = Field(default=200, ge=1)
    """Hits retrieved per skill; a skill never gets more than this many samples."""
    min_score: float = 0.0
    """Only hits scoring above this are chosen."""


class ChosenSample(Record):
    """One sample of the training set, with why it was chosen."""

    sample_id: str
    """The `Sample.id` chosen."""
    skill: str
    """The missing skill whose query retrieved it."""
    score: float
    """Its BM25 score for that skill."""
    rank: int
    """Its 1-based rank among that skill's hits."""


class SkillQuota(Record):
    """How one missing skill fared."""

    skill: str
    """The skill text, as the teacher wrote it (stripped)."""
    missing: int
    """How many diagnosed errors named it."""
    quota: int
    """Samples allocated to it."""
    chosen: int
    """Samples it got (less than `quota` when it had too few usable hits, more when left-over budget went
    to it)."""
    hits: int | None = None
    """Pool samples its query matched (scoring above `min_score`, within `top_k`), whether or not an earlier
    iteration had used them: 0 means no pool sample matched it at all. None in runs written before it was
    recorded."""


class QuotaShortfall(Record):
    """The missing skills of one iteration that got no sample despite a quota, and where the quota went."""

    skills: list[SkillQuota]
    """The skills with a quota and no sample chosen, most-missed first (`hits` 0: no pool sample matched;
    else every match had been chosen already, in this or an earlier iteration)."""
    unmet: int
    """Quota that skills (these, and any that got fewer samples than their quota) could not use."""
    given_to: dict[str, int]
    """Skills that took samples beyond their own quota, and how many beyond it: where unmet quota went."""
    unspent: int
    """Unmet quota no other skill could take: the iteration selected this many fewer than its budget."""


def shortfall(skills: Sequence[SkillQuota]) -> QuotaShortfall | None:
    """Where the quota of skills that got no sample went; None when every skill with a quota got one."""
    starved = [s for s in skills if s.quota > 0 and s.chosen == 0]
    if not starved:
        return None
    unmet = sum(max(0, s.quota - s.chosen) for s in skills)
    given = {s.skill: s.chosen - s.quota for s in skills if s.chosen > s.quota}
    return QuotaShortfall(skills=starved, unmet=unmet, given_to=given, unspent=max(0, unmet - sum(given.values())))


class Selection(Record):
    """The training set of one iteration and the per-skill account."""

    samples: list[ChosenSample]
    """Chosen samples in the order they were chosen."""
    skills: list[SkillQuota]
    """One entry per distinct missing skill, most-missed first."""

    @property
    def sample_ids(self) -> list[str]:
        """The chosen sample ids, in order."""
        return [s.sample_id for s in self.samples]


def _order(counts: Mapping[str, int]) -> list[str]:
    return sorted(counts, key=lambda s: (-counts[s], s))


def _largest_remainder(shares: dict[str, float], total: int, counts: Mapping[str, int]) -> dict[str, int]:
    out = {s: math.floor(v) for s, v in shares.items()}
    left = total - sum(out.values())
    by_fraction = sorted(shares, key=lambda s: (-(shares[s] - out[s]), -counts[s], s))
    for s in by_fraction[:left]:
        out[s] += 1
    return out


def allocate(counts: Mapping[str, int], budget: int, floor: int) -> dict[str, int]:
    """Samples per skill: proportional to `counts` with a `floor`, summing to `budget` (see module doc)."""
    order = _order({s: c for s, c in counts.items() if c > 0})
    if budget <= 0 or not order:
        return {s: 0 for s in order}
    if floor * len(order) >= budget:
        quotas: dict[str, int] = {}
        for s in order:
            quotas[s] = min(floor, budget - sum(quotas.values()))
        return quotas
    fixed: set[str] = set()
    while True:
        free = [s for s in order if s not in fixed]
        rest = budget - floor * len(fixed)
        total = sum(counts[s] for s in free)
        shares = {s: rest * counts[s] / total for s in free}
        low = {s for s, v in shares.items() if v < floor}
        if not low:
            break
        fixed |= low
    quotas = {s: floor for s in fixed} | _largest_remainder(shares, rest, counts)
    return {s: quotas[s] for s in order}


def _round_robin(candidates: dict[str, deque[tuple[int, Hit]]], limits: Mapping[str, int], budget: int,
                 taken: dict[str, ChosenSample], per_skill: Counter[str]) -> None:
    """Each skill under its limit takes its next free candidate, one per round, until none can."""
    progress = True
    while progress and len(taken) < budget:
        progress = False
        for skill, queue in candidates.items():
            if per_skill[skill] >= limits[skill] or len(taken) >= budget:
                continue
            while queue and queue[0][1].sample_id in taken:
                queue.popleft()
            if queue:
                rank, hit = queue.popleft()
                taken[hit.sample_id] = ChosenSample(sample_id=hit.sample_id, skill=skill, score=hit.score, rank=rank)
                per_skill[skill] += 1
                progress = True


def select_samples(retriever: Retriever, missing: Iterable[str], config: SelectionConfig,
                   exclude: Collection[str] = ()) -> Selection:
    """The training set for `missing` skills (one entry per diagnosed error); see the module docstring."""
    counts = Counter(s.strip() for s in missing if s.strip())
    quotas = allocate(counts, config.budget, config.floor)
    skills = list(quotas)
    excluded = set(exclude)
    found = dict(zip(skills, retriever.search(skills, config.top_k), strict=True))
    hits = {skill: sum(hit.score > config.min_score for hit in found[skill]) for skill in skills}
    candidates = {
        skill: deque((rank, hit) for rank, hit in enumerate(found[skill], start=1)
                     if hit.score > config.min_score and hit.sample_id not in excluded)
        for skill in skills
    }
    taken: dict[str, ChosenSample] = {}
    per_skill: Counter[str] = Counter()
    _round_robin(candidates, quotas, config.budget, taken, per_skill)
    _round_robin(candidates, {s: config.top_k for s in skills}, config.budget, taken, per_skill)
    account = [SkillQuota(skill=s, missing=counts[s], quota=quotas[s], chosen=per_skill[s], hits=hits[s])
               for s in skills]
    return Selection(samples=list(taken.values()), skills=account)
