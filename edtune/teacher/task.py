"""What every teacher task shares: options, template checks, request building and cost accounting.

A task object is built once (it loads and checks its template) and then called per sample, so a batch
of 100K samples reads the template file once. Every request it builds carries the template's name and
content hash, and every result repeats them, so a result can always be traced to the exact prompt.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, Field

from edtune.errors import SAMPLE_PROVIDER_ERRORS, ProviderError, RequestRejected, TemplateError, UnexpectedModelBehavior
from edtune.llm.base import ChatRequest, ChatResponse, LLMClient, M, Structured, StructuredMode, Usage
from edtune.llm.structured import cached_attempts, usage_of_attempts
from edtune.records import Record, Sample
from edtune.teacher.inputs import sample_images
from edtune.teacher.records import FailedAttempt, Failure
from edtune.templates import PromptTemplate, load_template

if TYPE_CHECKING:
    from edtune.specs import SamplingParams


class TaskOptions(Record):
    """Settings every teacher task has; each task subclasses this with its own defaults."""

    template: str
    """Name of the template in the project's `prompts/` folder."""
    images: bool = True
    """Send the sample's images as data URIs (a VLM teacher); False for a text-only teacher."""
    stage: str = "teacher"
    """Stage name under which calls are counted (usage, budgets, call log)."""
    mode: StructuredMode | None = None
    """How structured replies are constrained; None leaves the client's default (json_schema)."""
    max_tokens: int | None = Field(default=None, gt=0)
    """Upper bound on reply tokens; None takes the teacher spec's `params.max_tokens` (see
    `TeacherTask.request`), else leaves it to the server."""


@dataclass
class Tally:
    """Calls, tokens and latency spent on one result; calls and tokens answered from the cache apart."""

    calls: int = 0
    cached_calls: int = 0
    usage: Usage = field(default_factory=Usage)
    latency_s: float = 0.0

    def add(self, response: ChatResponse) -> None:
        """One plain call."""
        self.calls += 1
        self.cached_calls += response.cached
        self.usage += response.usage
        self.latency_s += response.latency_s

    def add_structured(self, result: Structured[Any]) -> None:
        """A structured call that validated: all its asks, with the tokens of the refused ones."""
        self.calls += result.attempts
        self.cached_calls += result.cached_attempts
        self.usage += result.usage
        self.latency_s += result.response.latency_s

    def add_failure(self, exc: UnexpectedModelBehavior) -> None:
        """A structured call that never validated: every refused ask and the tokens it spent."""
        self.calls += max(len(exc.attempts), 1)
        self.cached_calls += cached_attempts(exc.attempts)
        self.usage += usage_of_attempts(exc.attempts)


OptionsT = TypeVar("OptionsT", bound=TaskOptions)


class TeacherTask(ABC, Generic[OptionsT]):
    """Base of the task classes: holds the client, the options and the checked template."""

    TASK: ClassVar[str]
    """The `task` a template's front matter must name to be usable here."""
    OUTPUT: ClassVar[type[BaseModel] | None]
    """The output model whose name the template's `output` must give (None: plain-text reply)."""

    def __init__(self, client: LLMClient, options: OptionsT | None = None, *, template: PromptTemplate | None = None,
                 project_dir: str | Path | None = None, image_root: Path | None = None,
                 sampling: SamplingParams | None = None) -> None:
        """Options default to `default_options()`. `template` overrides loading `options.template` from
        the project's prompts folder (prompt evaluation passes an edited file this way); `image_root`
        resolves `Sample.images`; `sampling` is the teacher spec's `params`, the defaults of every request
        (precedence in `request`)."""
        self.client = client
        self.sampling = sampling
        self.options: OptionsT = options if options is not None else self.default_options()
        self.template = template if template is not None else load_template(self.options.template, project_dir)
        self.image_root = image_root
        self._check_template()

    @classmethod
    @abstractmethod
    def default_options(cls) -> OptionsT:
        """The task's options when the caller gives none."""

    def _check_template(self) -> None:
        meta = self.template.meta
        if meta.task != self.TASK:
            raise TemplateError(f"template '{meta.name}' is for task '{meta.task}', not '{self.TASK}'")
        expected = self.OUTPUT.__name__ if self.OUTPUT is not None else None
        if meta.output != expected:
            raise TemplateError(f"template '{meta.name}' declares output {meta.output!r}; task '{self.TASK}' "
                                f"replies with {expected!r}")

    def request(self, sample: Sample, variables: dict[str, Any], **fields: Any) -> ChatRequest:
        """Render the template for `sample` into a request stamped with the template name and hash.

        Sampling settings, each later source overriding the earlier ones: ChatRequest's defaults
        (temperature 0, no token cap, no seed); the teacher spec's `sampling` (temperature, and max_tokens
        and seed when set); the task's own `options.max_tokens` when set (answer-switch reads one token,
        so its 1 beats a spec's longer cap); `fields`, what this call needs (logprobs, top_logprobs ...).
        The spec thus tunes every task without breaking a task whose protocol fixes a setting."""
        images = sample_images(sample, self.image_root) if self.options.images and sample.images else []
        settings = self.sampling.request_fields() if self.sampling is not None else {}
        if self.options.max_tokens is not None:
            settings["max_tokens"] = self.options.max_tokens
        settings.update(fields)
        return ChatRequest(messages=self.template.render(variables, images), stage=self.options.stage,
                           template_name=self.template.name, template_hash=self.template.hash, **settings)

    async def ask(self, request: ChatRequest, output: type[M], tally: Tally) -> Structured[M]:
        """One structured call (the client re-asks on invalid output); counts its cost in `tally`.
        UnexpectedModelBehavior propagates after its attempts are counted."""
        try:
            result = await self.client.structured(request, output, mode=self.options.mode)
        except UnexpectedModelBehavior as exc:
            tally.add_failure(exc)
            raise
        tally.add_structured(result)
        return result

    def stamp(self, sample: Sample, tally: Tally) -> dict[str, Any]:
        """The `TeacherResult` fields for a result about `sample`."""
        return {"sample_id": sample.id, "teacher": self.client.name, "template": self.template.name,
                "template_hash": self.template.hash, "calls": tally.calls,
                "cached_calls": tally.cached_calls, "usage": tally.usage,
                "latency_s": round(tally.latency_s, 6)}


PER_SAMPLE_FAILURES = (UnexpectedModelBehavior, *SAMPLE_PROVIDER_ERRORS)
"""Failures that concern one sample's request (an invalid output, a rejected request, a malformed reply
once retries are spent): recorded in its result, never raised out of a batch."""


def failure_of(exc: UnexpectedModelBehavior | ProviderError) -> Failure:
    """The evidence of an unusable teacher reply, as a record that can be written to a results file."""
    if isinstance(exc, ProviderError):
        error = f"HTTP {exc.status}" if isinstance(exc, RequestRejected) else f"malformed reply, {exc.tries} tries"
        return Failure(message=str(exc), attempts=[FailedAttempt(raw=exc.body or "", error=error)])
    return Failure(message=str(exc), attempts=[FailedAttempt(raw=a.raw, error=a.error) for a in exc.attempts])
