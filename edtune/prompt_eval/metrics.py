"""Scores of one template on one gold set, from per-item outcomes.

Mistake identification (templates of tasks first_wrong_step, step_check, answer_switch):
- `exact`: predicted step == true first wrong step; `within_one`: |predicted - true| <= 1. Both are over
  the SCORED items (those where the method reported a step) and `unscored_rate` is reported beside them,
  as judges do; `exact_of_all` counts an unscored item as a miss, for a like-for-like comparison of methods.
Skill analysis (task missing_skills):
- `skill_exact`: some teacher phrase equals (after case, space and "_" folding) a gold skill name or one
  of the item's `skill_text` phrasings;
- `skill_bm25`: BM25 over the gold set's skill catalogue (one document per skill: its name and
  phrasings, terms by `edtune.retrieval.tokenize.Tokenizer`) ranks the teacher's phrases as a query; the
  item agrees when the top skill is a gold skill;
- `skill_overlap`: the best word-overlap F1 between the teacher's terms and one gold phrasing, averaged.
Judges (task judge_equivalence): `verdict_agreement` with the gold verdicts, over scored verdicts.
Cost: calls, prompt and completion tokens and latency, in total and per item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from edtune.prompt_eval.gold import GoldItem, GoldSet
from edtune.records import Record
from edtune.retrieval.tokenize import Tokenizer

LOCATE_TASKS = frozenset({"first_wrong_step", "step_check", "answer_switch"})
SKILL_TASK = "missing_skills"
JUDGE_TASK = "judge_equivalence"


class ItemOutcome(Record):
    """What a template produced for one gold item: the unit stored, scored and diffed."""

    item_id: str
    """The `GoldItem.id`."""
    status: Literal["answered", "unscored"]
    """answered: the output can be scored; unscored: failed, no step, or an unscored judgment."""
    step: int | None = None
    """Localisation: the 1-based step the method reported."""
    skills: list[str] = Field(default_factory=list)
    """Skill analysis: the teacher's phrases."""
    verdict: Literal["correct", "incorrect"] | None = None
    """Judge: the verdict on the student's answer."""
    output: str = ""
    """What to show a person: the teacher's reason, phrases or raw reply, or why it is unscored."""
    calls: int = 0
    """Requests made for this item (re-asks included, cache hits included)."""
    prompt_tokens: int = 0
    """Tokens sent."""
    completion_tokens: int = 0
    """Tokens generated."""
    latency_s: float = 0.0
    """Summed latency of the calls."""


class TemplateMetrics(Record):
    """One template's scores on one gold set (fields that do not apply to its task are None)."""

    items: int
    """Items run."""
    scored: int
    """Items whose output could be scored."""
    unscored_rate: float
    """Share of items with no usable output."""
    exact: float | None = None
    """Localisation: exact first-wrong-step accuracy over scored items."""
    within_one: float | None = None
    """Localisation: accuracy within one step, over scored items."""
    exact_of_all: float | None = None
    """Localisation: exact hits over all items (unscored counted as misses)."""
    skill_exact: float | None = None
    """Skills: exact agreement with a gold skill or phrasing, over scored items."""
    skill_bm25: float | None = None
    """Skills: BM25 top-1 over the catalogue is a gold skill, over scored items."""
    skill_overlap: float | None = None
    """Skills: mean best word-overlap F1 with a gold phrasing, over scored items."""
    verdict_agreement: float | None = None
    """Judges: agreement with gold verdicts, over scored items."""
    calls: int = 0
    """Requests in total."""
    prompt_tokens: int = 0
    """Prompt tokens in total."""
    completion_tokens: int = 0
    """Completion tokens in total."""
    latency_s: float = 0.0
    """Summed request latency in seconds (not wall time: calls overlap)."""

    @property
    def calls_per_item(self) -> float:
        return self.calls / self.items if self.items else 0.0

    @property
    def tokens_per_item(self) -> float:
        return (self.prompt_tokens + self.completion_tokens) / self.items if self.items else 0.0


def _fold(text: str) -> str:
    return " ".join(text.replace("_", " ").casefold().split()).rstrip(".")


class SkillMatcher:
    """Exact, BM25 and word-overlap agreement of teacher phrases with gold skills (see module docstring)."""

    def __init__(self, catalogue: Mapping[str, Sequence[str]]) -> None:
        from rank_bm25 import BM25Okapi

        self.tokenize = Tokenizer()
        self.names = list(catalogue)
        documents = [self.tokenize(" ".join([name.replace("_", " "), *phrases])) for name, phrases in catalogue.items()]
        self._bm25 = BM25Okapi(documents) if documents and any(documents) else None

    def exact(self, phrases: Sequence[str], item: GoldItem) -> bool:
        wanted = {_fold(text) for text in [*item.missing_skills, *item.skill_text]}
        return any(_fold(phrase) in wanted for phrase in phrases)

    def bm25_top(self, phrases: Sequence[str]) -> str | None:
        """The catalogue skill BM25 ranks first for the phrases (None: no catalogue or no matching term)."""
        query = self.tokenize(" ".join(phrases))
        if self._bm25 is None or not query:
            return None
        scores = list(self._bm25.get_scores(query))
        best = max(range(len(scores)), key=scores.__getitem__)
        return self.names[best] if scores[best] > 0 else None

    def overlap(self, phrases: Sequence[str], item: GoldItem) -> float:
        got = set(self.tokenize(" ".join(phrases)))
        best = 0.0
        for text in [*(s.replace("_", " ") for s in item.missing_skills), *item.skill_text]:
            gold = set(self.tokenize(text))
            common = len(got & gold)
            if common:
                best = max(best, 2 * common / (len(got) + len(gold)))
        return best


@dataclass(frozen=True)
class ItemScore:
    """How one outcome compares with its gold item; None where the check does not apply."""

    correct: bool | None
    """The headline check of the task (exact step, exact skill, or verdict agreement)."""
    near: bool | None = None
    """Localisation: within one step of the truth."""
    bm25: bool | None = None
    """Skills: BM25's top catalogue skill is a gold skill."""
    overlap: float | None = None
    """Skills: best word-overlap F1 with a gold phrasing."""


def score_item(task: str, outcome: ItemOutcome, item: GoldItem, matcher: SkillMatcher | None = None) -> ItemScore:
    """Compare one outcome with its gold item; `correct` is None when unscored or the gold lacks the truth."""
    if outcome.status != "answered":
        return ItemScore(correct=None)
    if task in LOCATE_TASKS and item.first_wrong_step is not None and outcome.step is not None:
        distance = abs(outcome.step - item.first_wrong_step)
        return ItemScore(correct=distance == 0, near=distance <= 1)
    if task == SKILL_TASK and item.missing_skills and matcher is not None:
        top = matcher.bm25_top(outcome.skills)
        return ItemScore(correct=matcher.exact(outcome.skills, item), bm25=top in item.missing_skills,
                         overlap=matcher.overlap(outcome.skills, item))
    if task == JUDGE_TASK and item.gold_verdict is not None and outcome.verdict is not None:
        return ItemScore(correct=outcome.verdict == item.gold_verdict)
    return ItemScore(correct=None)


def _mean(values: Sequence[float | bool | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def compute_metrics(task: str, outcomes: Sequence[ItemOutcome], gold: GoldSet) -> TemplateMetrics:
    """Scores of `outcomes` (one per gold item, by id) for a template of `task`."""
    items = {item.id: item for item in gold}
    matcher = SkillMatcher(gold.skill_catalogue()) if task == SKILL_TASK else None
    scores = [score_item(task, o, items[o.item_id], matcher) for o in outcomes]
    scored = [s for s in scores if s.correct is not None]
    n = len(outcomes)
    fields: dict[str, float | None] = {}
    if task in LOCATE_TASKS:
        fields = {"exact": _mean([s.correct for s in scored]), "within_one": _mean([s.near for s in scored]),
                  "exact_of_all": sum(bool(s.correct) for s in scored) / n if n else None}
    elif task == SKILL_TASK:
        fields = {"skill_exact": _mean([s.correct for s in scored]), "skill_bm25": _mean([s.bm25 for s in scored]),
                  "skill_overlap": _mean([s.overlap for s in scored])}
    elif task == JUDGE_TASK:
        fields = {"verdict_agreement": _mean([s.correct for s in scored])}
    return TemplateMetrics(items=n, scored=len(scored), unscored_rate=(n - len(scored)) / n if n else 0.0,
                           calls=sum(o.calls for o in outcomes), prompt_tokens=sum(o.prompt_tokens for o in outcomes),
                           completion_tokens=sum(o.completion_tokens for o in outcomes),
                           latency_s=round(sum(o.latency_s for o in outcomes), 6), **fields)
