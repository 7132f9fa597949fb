"""Run one template's teacher task over a gold set, concurrently, and score it.

The template's front matter `task` picks the code that renders it: first_wrong_step (direct
localisation), step_check (per-step localisation), answer_switch, missing_skills (skill analysis, given
the TRUE first wrong step so it is scored apart from localisation) or judge_equivalence (the LLM judge,
on the student's answer). Calls go through whatever client is given; the CLI gives one with an
`LLMCache`, so re-running an unchanged template on the same gold set costs no request, while an edited
template (new hash, hence new cache keys) is asked afresh.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import Field

from edtune.errors import TemplateError, UnexpectedModelBehavior
from edtune.judging.llm import LLMJudge
from edtune.llm.base import ChatRequest, ChatResponse, LLMClient, M, Structured, StructuredMode
from edtune.llm.concurrency import map_bounded
from edtune.prompt_eval.gold import GoldItem, GoldSet
from edtune.prompt_eval.metrics import ItemOutcome, TemplateMetrics, compute_metrics
from edtune.records import Record
from edtune.teacher import (
    AnswerSwitchLocator,
    AnswerSwitchOptions,
    DirectLocator,
    DirectOptions,
    PerStepLocator,
    PerStepOptions,
    SkillAnalyzer,
    SkillOptions,
    StepLocation,
)
from edtune.teacher.task import Tally
from edtune.templates import PromptTemplate

EVAL_TASKS = ("first_wrong_step", "step_check", "answer_switch", "missing_skills", "judge_equivalence")
"""Template tasks a gold set can score."""


class EvalSettings(Record):
    """How a template is run over a gold set."""

    concurrency: int = Field(default=8, ge=1)
    """Items in flight at once."""
    images: bool = True
    """Send the samples' images (a vision teacher); False for a text-only teacher, which then relies on
    the samples' `scene_text`."""
    fallback: Literal["last", "none"] = "last"
    """Localisation: the step reported when a method does not decide (none leaves the item unscored)."""
    mode: StructuredMode | None = None
    """Structured-output mode; None keeps the client's default."""


class EvalRun(Record):
    """One template version run over one gold set by one teacher: what the store keeps."""

    template: str
    """Template name."""
    template_hash: str
    """Content hash of the template file that was run."""
    task: str
    """The template's task."""
    gold: str
    """Gold set name."""
    gold_hash: str
    """Content hash of the gold set file."""
    teacher: str
    """The client's name ("provider/model")."""
    created: str
    """UTC time the run finished (ISO 8601)."""
    metrics: TemplateMetrics
    """Scores and costs."""
    outcomes: list[ItemOutcome]
    """One outcome per gold item, in gold order."""


def _location_outcome(item: GoldItem, result: StepLocation) -> ItemOutcome:
    answered = result.outcome != "failed" and result.step is not None
    if result.failure is not None:
        raw = result.failure.attempts[-1].raw[:300] if result.failure.attempts else ""
        text = f"failed: {result.failure.message}" + (f"; last reply {raw!r}" if raw else "")
    else:
        text = f"step {result.step} ({result.outcome})" + (f": {result.reason}" if result.reason else "")
    return ItemOutcome(item_id=item.id, status="answered" if answered else "unscored", step=result.step, output=text,
                       calls=result.calls, prompt_tokens=result.usage.prompt_tokens,
                       completion_tokens=result.usage.completion_tokens, latency_s=result.latency_s)


_TALLY: contextvars.ContextVar[Tally | None] = contextvars.ContextVar("edtune_prompt_eval_tally", default=None)


class _CountingClient:
    """Passes calls through and adds their cost to the current item's tally (for the judge, whose
    judgments carry no cost)."""

    def __init__(self, inner: LLMClient) -> None:
        self.inner = inner

    @property
    def name(self) -> str:
        return self.inner.name

    async def chat(self, request: ChatRequest) -> ChatResponse:
        response = await self.inner.chat(request)
        if (tally := _TALLY.get()) is not None:
            tally.add(response)
        return response

    async def structured(self, request: ChatRequest, output: type[M], *, mode: StructuredMode | None = None,
                         context: Mapping[str, Any] | None = None) -> Structured[M]:
        tally = _TALLY.get()
        try:
            result = await self.inner.structured(request, output, mode=mode, context=context)
        except UnexpectedModelBehavior as exc:
            if tally is not None:
                tally.add_failure(exc)
            raise
        if tally is not None:
            tally.add_structured(result)
        return result


ItemRunner = Callable[[GoldItem], Awaitable[ItemOutcome]]


def _locate_runner(template: PromptTemplate, client: LLMClient, settings: EvalSettings, gold: GoldSet) -> ItemRunner:
    common: dict[str, Any] = {"template": template.name, "images": settings.images, "mode": settings.mode}
    locator: DirectLocator | PerStepLocator | AnswerSwitchLocator
    if template.meta.task == "first_wrong_step":
        locator = DirectLocator(client, DirectOptions(**common), template=template, image_root=gold.image_root)
    elif template.meta.task == "step_check":
        locator = PerStepLocator(client, PerStepOptions(**common, fallback=settings.fallback), template=template,
                                 image_root=gold.image_root)
    else:
        locator = AnswerSwitchLocator(client, AnswerSwitchOptions(**common, fallback=settings.fallback),
                                      template=template, image_root=gold.image_root)

    async def run(item: GoldItem) -> ItemOutcome:
        return _location_outcome(item, await locator.locate(item.sample, item.student_output()))

    return run


def _skills_runner(template: PromptTemplate, client: LLMClient, settings: EvalSettings, gold: GoldSet) -> ItemRunner:
    analyzer = SkillAnalyzer(client, SkillOptions(template=template.name, images=settings.images, mode=settings.mode),
                             template=template, image_root=gold.image_root)

    async def run(item: GoldItem) -> ItemOutcome:
        result = await analyzer.analyse(item.sample, item.student_output(), item.first_wrong_step)
        text = "; ".join(result.missing_skills) if result.failure is None else f"failed: {result.failure.message}"
        return ItemOutcome(item_id=item.id, status="answered" if result.outcome == "found" else "unscored",
                           skills=result.missing_skills, output=text, calls=result.calls,
                           prompt_tokens=result.usage.prompt_tokens, completion_tokens=result.usage.completion_tokens,
                           latency_s=result.latency_s)

    return run


def _judge_runner(template: PromptTemplate, client: LLMClient, settings: EvalSettings, gold: GoldSet) -> ItemRunner:
    judge = LLMJudge(_CountingClient(client), template=template, mode=settings.mode, concurrency=1)

    async def run(item: GoldItem) -> ItemOutcome:
        tally = Tally()
        _TALLY.set(tally)
        judgment = await judge.judge_one(item.sample, item.student_output())
        scored = judgment.outcome != "unscored"
        return ItemOutcome(item_id=item.id, status="answered" if scored else "unscored",
                           verdict=judgment.outcome if scored else None,
                           output=f"{judgment.outcome}: {judgment.reason or ''}".strip(), calls=tally.calls,
                           prompt_tokens=tally.usage.prompt_tokens, completion_tokens=tally.usage.completion_tokens,
                           latency_s=round(tally.latency_s, 6))

    return run


def item_runner(template: PromptTemplate, client: LLMClient, settings: EvalSettings, gold: GoldSet) -> ItemRunner:
    """The per-item coroutine for the template's task; TemplateError for a task a gold set cannot score."""
    task = template.meta.task
    if task in ("first_wrong_step", "step_check", "answer_switch"):
        return _locate_runner(template, client, settings, gold)
    if task == "missing_skills":
        return _skills_runner(template, client, settings, gold)
    if task == "judge_equivalence":
        return _judge_runner(template, client, settings, gold)
    raise TemplateError(f"template '{template.name}' is for task '{task}', which a gold set cannot score "
                        f"(scored tasks: {', '.join(EVAL_TASKS)})")


async def evaluate_template(template: PromptTemplate, gold: GoldSet, client: LLMClient,
                            settings: EvalSettings | None = None, *,
                            on_done: Callable[[int], None] | None = None) -> EvalRun:
    """Run `template` on every gold item (at most `settings.concurrency` at once) and score the outcomes.

    A bad sample (DataError, e.g. answer-switch on an open question) or a server failing after its
    retries (ProviderError) stops the run; an unusable teacher reply only makes its item unscored.
    """
    chosen = settings or EvalSettings()
    run = item_runner(template, client, chosen, gold)
    outcomes = await map_bounded(run, list(gold), chosen.concurrency, on_done=on_done)
    return EvalRun(template=template.name, template_hash=template.hash, task=template.meta.task, gold=gold.meta.name,
                   gold_hash=gold.hash, teacher=client.name, created=datetime.now(timezone.utc).isoformat(),
                   metrics=compute_metrics(template.meta.task, outcomes, gold), outcomes=outcomes)
