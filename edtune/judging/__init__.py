"""Judges: decide whether a student's answer is correct, incorrect, or cannot be scored.

Rule judges (`exact`, `choice`, `numeric`) live in the `judges` registry; the LLM judge in
`edtune.judging.llm`. `edtune.specs.build_judge` builds any of them from one string or a spec file.
"""

from edtune.judging.base import Judge, JudgeSummary, RuleJudge, accuracy, judge_sync, summarize
from edtune.judging.registry import judges

__all__ = ["Judge", "JudgeSummary", "RuleJudge", "accuracy", "judge_sync", "judges", "summarize"]
