"""What the teacher replies (output models) and what each teacher task returns (result records).

Step indices are 1-based everywhere: step 1 is the first line "Step 1: ..." of the student's rationale,
exactly as the teacher sees it. `n_steps` is the number of steps, so a valid index lies in 1..n_steps.

Output models (`FirstWrongStep`, `StepVerdict`, `MissingSkills`, `RequiredSkills`) are what a template
asks the teacher to produce; tasks tighten their bounds per call (the step range, the skill count) with
`pydantic.create_model`, so an out-of-range reply fails validation and is re-asked.
Result records all extend `TeacherResult`, which carries the template name and hash and the call costs.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, Field, StringConstraints, create_model

from edtune.llm.base import Usage
from edtune.records import Record

MAX_PHRASE_WORDS = 8
"""A skill phrase longer than this is refused (and re-asked): skills are short phrases, not sentences."""
MAX_PHRASE_CHARS = 80
"""Length cap of a skill phrase in the JSON schema, so a server that constrains decoding stops a run-on."""
MAX_REASON_CHARS = 400
"""Length cap of a teacher's explanation in the JSON schema (small models otherwise ramble until cut off)."""


_PLACEHOLDER = re.compile(r"<[^<>]*>|\{\{|\}\}|^\[.*\]$|^\{.*\}$|^\W+$")
"""A template placeholder copied instead of filled in ("<skill1>", "{{skill}}", "[skill]"), or no word at all."""


def _short_phrase(value: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise ValueError("a skill must not be empty")
    if _PLACEHOLDER.search(text):
        raise ValueError(f"a skill must name a skill in words, not a placeholder or symbols like {text!r}")
    if "\n" in value.strip() or len(text.split()) > MAX_PHRASE_WORDS:
        raise ValueError(f"a skill must be one short phrase of at most {MAX_PHRASE_WORDS} words")
    return text


SkillPhrase = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PHRASE_CHARS),
                        AfterValidator(_short_phrase)]
"""A short skill phrase, e.g. "counting objects of one colour"; whitespace is normalised."""


# ---- what the teacher replies -------------------------------------------------------------------


class FirstWrongStep(Record):
    """Teacher reply of the direct task: the first wrong step and why."""

    step: int = Field(ge=1)
    """1-based index of the first incorrect step (the task also bounds it by the number of steps)."""
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)
    """Why that step is wrong, in one or two sentences."""


class StepVerdict(Record):
    """Teacher reply of the per-step task: is this one step correct?"""

    correct: bool
    """True when the step is correct given the question, the image and the steps before it."""
    reason: str = Field(default="", max_length=MAX_REASON_CHARS)
    """A short justification (may be empty)."""


class MissingSkills(Record):
    """Teacher reply of the skill-analysis task."""

    skills: list[SkillPhrase] = Field(min_length=1)
    """The skill(s) the student lacked at the wrong step, most important first."""


class RequiredSkills(Record):
    """Teacher reply of the annotation task."""

    skills: list[SkillPhrase] = Field(min_length=1)
    """The skills needed to answer the sample, most important first."""


SkillReply = TypeVar("SkillReply", MissingSkills, RequiredSkills)


@lru_cache(maxsize=32)
def bounded_skills(reply: type[SkillReply], max_phrases: int) -> type[SkillReply]:
    """`reply` limited to 1..max_phrases phrases, in its validation and in the JSON schema sent, so a
    constrained server cannot run on past the limit."""
    return create_model(
        reply.__name__, __base__=reply,
        skills=(list[SkillPhrase], Field(min_length=1, max_length=max_phrases,
                                         description=f"1 to {max_phrases} short skill phrases, most important first")),
    )


# ---- evidence and results ------------------------------------------------------------------------


class FailedAttempt(Record):
    """One unusable teacher reply."""

    raw: str
    """The reply text exactly as returned."""
    error: str
    """Why it was refused (the validation error)."""


class Failure(Record):
    """Why a task gave no answer: the teacher never produced a usable reply."""

    message: str
    """The error message."""
    attempts: list[FailedAttempt] = Field(default_factory=list)
    """Every refused reply, in order."""


class TeacherResult(Record):
    """Fields shared by every teacher task result."""

    sample_id: str
    """The `Sample.id` the result is about."""
    teacher: str
    """The client's name ("provider/model")."""
    template: str
    """Name of the prompt template used."""
    template_hash: str
    """Content hash of that template file when it was used."""
    calls: int = 0
    """Requests made for this result, re-asks included (a cache hit counts as a call)."""
    cached_calls: int = 0
    """Of `calls`, those answered from the cache (paid once before, e.g. by a run killed after the reply
    arrived and before this result was written)."""
    usage: Usage = Field(default_factory=Usage)
    """Tokens of every ask, refused re-asks included; those of cached replies in the `cached_*` counts."""
    latency_s: float = 0.0
    """Summed latency of the accepted responses."""
    failure: Failure | None = None
    """Set when the teacher never gave a usable reply; the result then carries no answer."""


class DirectEvidence(Record):
    """How the direct task got its answer."""

    kind: Literal["direct"] = "direct"
    """Discriminator."""
    attempts: int
    """Asks it took (1 = valid the first time)."""
    raw: str
    """The accepted reply text."""


class StepCheck(Record):
    """The per-step verdict on one step."""

    step: int
    """1-based step index."""
    correct: bool
    """The teacher's verdict."""
    reason: str
    """The teacher's justification."""


class PerStepEvidence(Record):
    """The verdicts the per-step task collected, in step order (it stops at the first incorrect one)."""

    kind: Literal["per_step"] = "per_step"
    """Discriminator."""
    verdicts: list[StepCheck]
    """One verdict per step asked."""


SwitchRule = Literal["switch", "no_switch", "prior_not_held"]


class AnswerSwitchEvidence(Record):
    """Everything the answer-switch rule saw, so a localisation can be audited or re-scored offline."""

    kind: Literal["answer_switch"] = "answer_switch"
    """Discriminator."""
    letters: list[str]
    """The option letters, in display order."""
    gold: str
    """Letter of the gold option."""
    wrong: str | None
    """Letter of the student's option; None when the student's answer matched no option, in which case
    each prefix uses the most probable non-gold option instead."""
    probabilities: list[dict[str, float]]
    """Per prefix k = 0..n_steps (k steps shown): the teacher's probability of each letter."""
    letters_seen: list[int]
    """Per prefix: how many option letters appeared in the first token's top logprobs (0 = all floored)."""
    margins: list[float]
    """Per prefix: P(wrong) - P(gold)."""
    delta: float
    """The margin threshold that was used."""
    lam: int
    """The run length that was used."""
    prior: float | None
    """The prior shown for the gold option (None = no prior)."""
    rule: SwitchRule
    """switch: a run started at a step; no_switch: no run; prior_not_held: the run started at k = 0,
    before any step was shown, so no step can be blamed (the fallback applies)."""
    switch_prefix: int | None
    """The prefix length where the run started (None when no run)."""


Evidence = Annotated[DirectEvidence | PerStepEvidence | AnswerSwitchEvidence, Field(discriminator="kind")]
LocationMethod = Literal["direct", "per_step", "answer_switch"]


class StepLocation(TeacherResult):
    """Where a localisation method put the student's first wrong step."""

    method: LocationMethod
    """Which method decided."""
    n_steps: int
    """Number of steps in the student's rationale."""
    step: int | None
    """1-based index of the first wrong step; None when failed, without steps, or when the fallback is `none`."""
    outcome: Literal["found", "fallback", "failed", "no_steps"]
    """found: the method decided (or the rationale has one step, which is then the wrong one); fallback: it
    did not and the configured fallback gave `step`; failed: the teacher gave no usable reply (see
    `failure`); no_steps: the output has no steps, so the error lies in its final answer itself (no call)."""
    reason: str | None = None
    """The teacher's explanation, where the method asks for one."""
    evidence: Evidence | None = None
    """Method-specific detail (absent when failed before any evidence existed)."""


class SkillAnalysis(TeacherResult):
    """The skill(s) the student lacked at the wrong step."""

    step: int | None
    """The 1-based wrong step the analysis was about (None: not localised, the whole rationale was shown)."""
    missing_skills: list[str] = Field(default_factory=list)
    """Short phrases, most important first; empty when failed."""
    outcome: Literal["found", "failed"]
    """found, or failed (see `failure`)."""


class SkillAnnotation(TeacherResult):
    """The skills a supporting-pool sample requires: one line of an annotation JSONL file."""

    required_skills: list[str] = Field(default_factory=list)
    """Short phrases, most important first; empty when failed."""
    outcome: Literal["found", "failed"]
    """found, or failed (see `failure`); a failed id is retried by a run with `retry_failed`."""
