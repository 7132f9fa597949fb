"""Records that cross a boundary (files, processes, the teacher, the run directory).

All are Pydantic models with `extra="forbid"`, so a misspelt field in a data file is an error, not a
silently ignored key. Field docstrings are the documentation (`use_attribute_docstrings`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Record(BaseModel):
    """Base of every boundary record: unknown fields are refused, field docstrings become descriptions."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class RationaleStep(Record):
    """One step of a step-by-step rationale."""

    text: str
    """What the step says, in the words a student or teacher would write."""
    skill: str | None = None
    """The skill the step exercises (gold rationales only), e.g. "counting"; None when unknown."""


class Sample(Record):
    """One visual question with its answer: the unit of every data set edtune reads or writes."""

    id: str = Field(min_length=1)
    """Unique within its data set; used as the key in run directories and caches."""
    images: list[str] = Field(default_factory=list)
    """Image paths relative to the data set's image root; empty for a text-only sample."""
    question: str
    """The question as shown to the student (without the options, which are in `choices`)."""
    choices: list[str] | None = None
    """Answer options for a multiple-choice question, in display order; None for open questions."""
    answer: str
    """The reference answer (for multiple choice: the text of the correct option)."""
    rationale: list[RationaleStep] | None = None
    """Gold step-by-step rationale, when the data set has one."""
    required_skills: list[str] | None = None
    """Short phrases naming the skills the sample needs; the text BM25 retrieval indexes."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """Anything else the data set carries (source, task name, scene graph ...); JSON-serialisable. The keys
    edtune reads (a question family, gold-step skills, a scene description) are listed in docs/data.md."""

    @field_validator("question", "answer")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class StudentOutput(Record):
    """What the student said about one sample, raw and parsed."""

    sample_id: str
    """The `Sample.id` this answers."""
    raw_text: str
    """The generated text exactly as decoded (special tokens removed)."""
    steps: list[str] = Field(default_factory=list)
    """Rationale steps parsed from `raw_text`, in order; empty when none were found."""
    answer: str | None = None
    """The final answer parsed from `raw_text`; None when the output had no recognisable answer."""


Outcome = Literal["correct", "incorrect", "unscored"]


class Judgment(Record):
    """A judge's verdict on one student answer. `unscored` is the judge's failure, never the student's."""

    sample_id: str
    """The `Sample.id` judged."""
    outcome: Outcome
    """correct, incorrect (an unreadable answer too), or unscored (the judge itself failed; see `reason`)."""
    reason: str | None = None
    """Why: for unscored one of error / refused / invalid, followed by detail; "unparseable: ..." for an
    incorrect answer that could not be read; free text otherwise."""
    judge: str
    """Name of the judge that decided, e.g. "exact" or "vllm/Qwen2.5-7B-Instruct"."""
