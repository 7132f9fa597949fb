"""The text form of a step-by-step rationale, shared by gold data, the student and the teacher.

    Step 1: <text>
    Step 2: <text>
    Answer: <final answer>

`format_rationale` writes it; `parse_rationale` reads it back from free model output, tolerating
extra whitespace, a missing step numbering, and text before the first step.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from edtune.records import StudentOutput

STEP_LINE = re.compile(r"^\s*step\s*\d+\s*[:.)-]\s*(?P<text>.*\S)\s*$", re.IGNORECASE)
"""A rationale step line ("Step 2: ...", "step 2) ..."); group `text` is what the step says."""
ANSWER_PATTERN = r"(?i)^\s*(?:final\s+)?answer\s*[:\-]\s*(?P<answer>.*\S)\s*$"
"""The final-answer line ("Answer: ...", "Final answer - ..."); group `answer` is the answer text."""
_ANSWER = re.compile(ANSWER_PATTERN)


def format_rationale(steps: Sequence[str], answer: str) -> str:
    """Render steps and answer in the canonical form (one line each)."""
    lines = [f"Step {i}: {text.strip()}" for i, text in enumerate(steps, start=1)]
    lines.append(f"Answer: {answer.strip()}")
    return "\n".join(lines)


def parse_rationale(text: str) -> tuple[list[str], str | None]:
    """Steps and final answer from model output; answer is None when no `Answer:` line exists.

    The last `Answer:` line wins (models sometimes restate); lines after it are ignored.
    """
    steps: list[str] = []
    answer: str | None = None
    for line in text.splitlines():
        if (m := _ANSWER.match(line)) is not None:
            answer = m.group("answer")
            continue
        if answer is None and (m := STEP_LINE.match(line)) is not None:
            steps.append(m.group("text"))
    return steps, answer


def to_student_output(sample_id: str, raw_text: str) -> StudentOutput:
    """Wrap decoded generation text into a StudentOutput with parsed steps and answer."""
    steps, answer = parse_rationale(raw_text)
    return StudentOutput(sample_id=sample_id, raw_text=raw_text, steps=steps, answer=answer)
