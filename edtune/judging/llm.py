"""The LLM judge: a model decides whether the student's answer is semantically equivalent to the reference.

This is the judge PROGRESS used ("Answer - correct/incorrect, Reason - ..."), asked for as JSON and
validated into `JudgeVerdict`. The prompt is the template `prompts/judge_equivalence.jinja` (or any
template whose front matter says `task = "judge_equivalence"`). The judge sees text only.

Nothing the model or its server does can turn into a wrong answer for the student:
- the client failing after its retries (ProviderError) -> unscored, reason "error: ...";
- the model never producing a valid verdict after the client's re-asks -> unscored "invalid: ...",
  or "refused: ..." when its last reply reads as a refusal.
A student output with no text is the student's failure: incorrect, "unparseable: ...", without a call.
A budget stop (BudgetExceeded) and template errors are the user's settings at work and are raised.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from edtune.errors import ConfigError, ProviderError, TemplateError, UnexpectedModelBehavior
from edtune.judging.base import UnscoredReason, answer_text, check_pairs, scored, unreadable, unscored
from edtune.llm.base import ChatRequest, LLMClient, StructuredMode
from edtune.llm.concurrency import map_bounded
from edtune.records import Judgment, Record, Sample, StudentOutput
from edtune.templates import PromptTemplate, load_template

JUDGE_TASK = "judge_equivalence"
"""The template task the LLM judge renders; a template made for another task is refused."""
DEFAULT_TEMPLATE = "judge_equivalence"
"""Template name used when a spec names none."""

# Openings of a model declining to grade (OpenAI's `refusal` text arrives as the reply text too); checked
# only on output that already failed validation, so a valid verdict is never mistaken for one.
_REFUSAL = re.compile(r"^\W*(?:(?:i'?m |i am )?sorry|i (?:can ?not|can't|won't|will not|refuse)\b"
                      r"|i(?:'m| am) (?:unable|not able)|i (?:must|have to) decline|as an ai\b)", re.IGNORECASE)


class JudgeVerdict(Record):
    """The LLM judge's reply. `reason` comes first so the model explains before it decides."""

    reason: str
    """One short sentence on why the student's answer is or is not equivalent to the reference."""
    verdict: Literal["correct", "incorrect"]
    """Whether the student's answer means the same as the reference answer."""


def looks_like_refusal(text: str | None) -> bool:
    """Whether a reply that failed validation is the model declining rather than garbled output."""
    return text is not None and _REFUSAL.search(text.strip().replace("’", "'")) is not None


class LLMJudge:
    """Judges through any `LLMClient`, at most `concurrency` calls in flight per batch.

    Every request carries stage="judge" and the template's name and content hash (so editing the
    template invalidates cached verdicts). `mode` None uses the client's default structured mode.
    """

    def __init__(self, client: LLMClient, *, template: str | PromptTemplate = DEFAULT_TEMPLATE,
                 project_dir: str | Path | None = None, mode: StructuredMode | None = None,
                 concurrency: int = 8, temperature: float = 0.0, max_tokens: int | None = 256,
                 seed: int | None = None) -> None:
        if concurrency < 1:
            raise ConfigError(f"LLM judge concurrency must be >= 1, got {concurrency}")
        self.client = client
        self.template = load_template(template, project_dir) if isinstance(template, str) else template
        if self.template.meta.task != JUDGE_TASK:
            raise TemplateError(f"template '{self.template.name}' is for task '{self.template.meta.task}', "
                                f"not '{JUDGE_TASK}'")
        self.mode = mode
        self.concurrency = concurrency
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.seed = seed

    @property
    def name(self) -> str:
        return self.client.name

    async def judge(self, samples: Sequence[Sample], outputs: Sequence[StudentOutput]) -> list[Judgment]:
        """One judgment per pair, in order; calls run concurrently up to `concurrency`."""
        check_pairs(samples, outputs)

        async def one(pair: tuple[Sample, StudentOutput]) -> Judgment:
            return await self.judge_one(*pair)

        return await map_bounded(one, zip(samples, outputs, strict=True), self.concurrency)

    def request_for(self, sample: Sample, answer: str) -> ChatRequest:
        """The chat request that asks for a verdict on `answer` to `sample`."""
        messages = self.template.render({"question": sample.question, "choices": sample.choices or [],
                                         "reference": sample.answer, "answer": answer})
        return ChatRequest(messages=messages, stage="judge", template_name=self.template.name,
                           template_hash=self.template.hash, temperature=self.temperature,
                           max_tokens=self.max_tokens, seed=self.seed)

    async def judge_one(self, sample: Sample, output: StudentOutput) -> Judgment:
        """The judgment for one pair (see the module docstring for the unscored cases)."""
        answer = answer_text(output).strip()
        if not answer:
            return unreadable(sample.id, self.name, "the student output is empty")
        try:
            result = await self.client.structured(self.request_for(sample, answer), JudgeVerdict, mode=self.mode)
        except ProviderError as exc:
            status = f" (HTTP {exc.status}, {exc.tries} tries)" if exc.status is not None else ""
            return unscored(sample.id, self.name, "error", f"{exc}{status}")
        except UnexpectedModelBehavior as exc:
            raw = (exc.raw_output or "")[:300]
            kind: UnscoredReason = "refused" if looks_like_refusal(exc.raw_output) else "invalid"
            return unscored(sample.id, self.name, kind, f"{exc}; last output {raw!r}")
        verdict = result.value
        return scored(sample.id, self.name, verdict.verdict == "correct", verdict.reason)
