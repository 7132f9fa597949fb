"""Split a gold assistant turn (a LLaVA `gpt` value) into rationale steps and a final answer.

The convention is edtune's rationale form (`edtune.rationale`): "Step N:" lines, then a final-answer line.

- A line matching `STEP_LINE` starts a step; a following line that is neither a step nor the answer line
  continues that step (joined with one space). Text before the first step is dropped.
- The answer line is the *last* line in which the answer pattern is found (`re.search`); its `answer`
  group is the answer. Step lines after it are ignored.
- A turn with no step lines is an answer-only sample: its answer is the answer group when an answer line
  is there, else the whole turn.
- A turn with steps but no answer line is refused (`ValueError`), so a rationale never becomes the answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edtune.rationale import ANSWER_PATTERN, STEP_LINE


@dataclass(frozen=True)
class SplitTurn:
    """A gold assistant turn split into its parts."""

    steps: list[str]
    """The rationale steps in order; empty for an answer-only turn."""
    answer: str
    """The final answer text."""


def compile_answer_pattern(pattern: str | None) -> re.Pattern[str]:
    """The compiled answer pattern (None: the rationale convention's `Answer:` line).

    Raises ValueError when the text is not a regular expression or has no named group `answer`.
    """
    text = ANSWER_PATTERN if pattern is None else pattern
    try:
        compiled = re.compile(text)
    except re.error as exc:
        raise ValueError(f"answer pattern {text!r} is not a regular expression: {exc}") from exc
    if "answer" not in compiled.groupindex:
        raise ValueError(f"answer pattern {text!r} needs a named group (?P<answer>...)")
    return compiled


def split_turn(text: str, answer_pattern: re.Pattern[str]) -> SplitTurn:
    """Steps and final answer of `text`; ValueError when it has steps but no answer line."""
    steps: list[str] = []
    answer: str | None = None
    steps_at_answer = 0
    for line in text.splitlines():
        if (found := answer_pattern.search(line)) is not None and (found.group("answer") or "").strip():
            answer, steps_at_answer = found.group("answer").strip(), len(steps)
        elif (step := STEP_LINE.match(line)) is not None:
            steps.append(step.group("text"))
        elif steps and answer is None and line.strip():
            steps[-1] = f"{steps[-1]} {line.strip()}"
    steps = steps[:steps_at_answer] if answer is not None else steps
    if answer is None:
        if steps:
            raise ValueError(f"the turn has {len(steps)} step line(s) but no line matches the answer pattern "
                             f"{answer_pattern.pattern!r}")
        return SplitTurn(steps=[], answer=text.strip())
    return SplitTurn(steps=steps, answer=answer)
