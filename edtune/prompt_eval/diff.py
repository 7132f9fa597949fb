"""Two template versions side by side on the same gold set: metrics, and the items whose outcome changed.

An item's outcome is compared through its score against the gold item (`metrics.score_item`): it
changed when it went from right to wrong or back, or between scored and unscored. Items whose output
text differs but whose score does not are counted (`same_score_other_output`) but not listed.
"""

from __future__ import annotations

from edtune.errors import UserError
from edtune.prompt_eval.gold import GoldItem, GoldSet
from edtune.prompt_eval.metrics import SKILL_TASK, ItemOutcome, SkillMatcher, TemplateMetrics, score_item
from edtune.prompt_eval.runner import EvalRun
from edtune.records import Record


class ChangedItem(Record):
    """One gold item whose outcome differs between the two runs."""

    item_id: str
    """The gold item."""
    truth: str
    """The gold answer the outcomes are scored against (step, skills or verdict)."""
    before: str
    """Score under A: right, wrong or unscored."""
    after: str
    """Score under B."""
    output_a: str
    """A's output for the item."""
    output_b: str
    """B's output for the item."""


class RunDiff(Record):
    """The comparison of run A with run B."""

    a: str
    """A's label, "template@hash"."""
    b: str
    """B's label."""
    metrics_a: TemplateMetrics
    """A's scores."""
    metrics_b: TemplateMetrics
    """B's scores."""
    changed: list[ChangedItem]
    """Items whose score changed, in gold order."""
    same_score_other_output: int
    """Items with the same score but a different output text."""


def _verdict(correct: bool | None) -> str:
    return "unscored" if correct is None else ("right" if correct else "wrong")


def _truth(task: str, item: GoldItem) -> str:
    if task == SKILL_TASK:
        return ", ".join(item.missing_skills)
    if task == "judge_equivalence":
        return str(item.gold_verdict)
    return f"step {item.first_wrong_step}"


def diff_runs(a: EvalRun, b: EvalRun, gold: GoldSet) -> RunDiff:
    """Compare two runs of templates of the same task on `gold` (both must have been run on it)."""
    if a.task != b.task:
        raise UserError(f"cannot compare a '{a.task}' template with a '{b.task}' one")
    for run in (a, b):
        if run.gold_hash != gold.hash:
            raise UserError(f"run of {run.template}@{run.template_hash} was made on gold set {run.gold_hash}, "
                            f"not on {gold.hash}")
    items = {item.id: item for item in gold}
    matcher = SkillMatcher(gold.skill_catalogue()) if a.task == SKILL_TASK else None
    outcomes_b: dict[str, ItemOutcome] = {o.item_id: o for o in b.outcomes}
    changed, other = [], 0
    for outcome_a in a.outcomes:
        outcome_b = outcomes_b.get(outcome_a.item_id)
        if outcome_b is None:
            continue
        item = items[outcome_a.item_id]
        before = _verdict(score_item(a.task, outcome_a, item, matcher).correct)
        after = _verdict(score_item(b.task, outcome_b, item, matcher).correct)
        if before != after:
            changed.append(ChangedItem(item_id=item.id, truth=_truth(a.task, item), before=before,
                                       after=after, output_a=outcome_a.output, output_b=outcome_b.output))
        elif outcome_a.output != outcome_b.output:
            other += 1
    return RunDiff(a=f"{a.template}@{a.template_hash}", b=f"{b.template}@{b.template_hash}", metrics_a=a.metrics,
                   metrics_b=b.metrics, changed=changed, same_score_other_output=other)
