"""The LLMClient protocol and the records a call sends and returns.

A teacher or judge is anything that satisfies `LLMClient`: the OpenAI-compatible client (vLLM, hosted
APIs, llama.cpp servers), or the in-process scripted client most tests use. Calls are async so that a
batch can keep a server busy; callers bound concurrency, not the protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, Field, model_validator

from edtune.records import Record

M = TypeVar("M", bound=BaseModel)

StructuredMode = Literal["json_schema", "structured_outputs", "json_object", "text"]
"""How a structured call constrains the server: OpenAI `response_format` json_schema (default), vLLM's
`structured_outputs` extra body, `json_object` plus validation, or plain text plus parsing."""


class ContentPart(Record):
    """One part of a multimodal message."""

    type: Literal["text", "image_url"]
    """Which of the two fields below is set."""
    text: str | None = None
    """The text, for a text part."""
    image_url: str | None = None
    """A data URI (data:image/png;base64,...) or URL, for an image part."""


class Message(Record):
    """One chat message."""

    role: Literal["system", "user", "assistant"]
    """Who speaks."""
    content: str | list[ContentPart]
    """Plain text, or parts for a message that carries images."""


class ChatRequest(Record):
    """Everything that defines one call; together with the client's model and base URL it is the cache key."""

    messages: list[Message] = Field(min_length=1)
    """The conversation to complete."""
    temperature: float = 0.0
    """Sampling temperature; 0 (greedy) by default so re-runs are reproducible."""
    max_tokens: int | None = None
    """Upper bound on generated tokens; None leaves it to the server."""
    seed: int | None = None
    """Server-side sampling seed, where the server honours one."""
    logprobs: bool = False
    """Ask for the log-probability of each generated token."""
    top_logprobs: int | None = None
    """How many alternatives per position to return with `logprobs` (answer-switch reads these)."""
    stage: str = "default"
    """Which pipeline stage makes the call (usage and budgets are counted per stage)."""
    template_name: str | None = None
    """Name of the prompt template that rendered `messages`, recorded in the call log."""
    template_hash: str | None = None
    """Content hash of that template, recorded in the call log and part of the cache key."""


class Usage(Record):
    """Token counts for one call (or a sum of calls): those paid for by sending a request, and apart from
    them those of replies answered from the cache, which were paid once when first asked and not again."""

    prompt_tokens: int = 0
    """Tokens sent (paid)."""
    completion_tokens: int = 0
    """Tokens generated (paid)."""
    cached_prompt_tokens: int = 0
    """Prompt tokens of replies answered from the cache, as counted when they were paid."""
    cached_completion_tokens: int = 0
    """Completion tokens of replies answered from the cache, as counted when they were paid."""

    @property
    def total_tokens(self) -> int:
        """Paid tokens (cached replies are not paid again)."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def cached_tokens(self) -> int:
        """Tokens of the replies answered from the cache."""
        return self.cached_prompt_tokens + self.cached_completion_tokens

    def as_cached(self) -> Usage:
        """The same tokens, all counted as answered from the cache (what a cache hit of this reply costs)."""
        return Usage(cached_prompt_tokens=self.prompt_tokens + self.cached_prompt_tokens,
                     cached_completion_tokens=self.completion_tokens + self.cached_completion_tokens)

    def __add__(self, other: Usage) -> Usage:
        return Usage(prompt_tokens=self.prompt_tokens + other.prompt_tokens,
                     completion_tokens=self.completion_tokens + other.completion_tokens,
                     cached_prompt_tokens=self.cached_prompt_tokens + other.cached_prompt_tokens,
                     cached_completion_tokens=self.cached_completion_tokens + other.cached_completion_tokens)


class TokenLogprob(Record):
    """One generated token with its log-probability and the top alternatives at that position."""

    token: str
    """The token as text."""
    logprob: float
    """Natural-log probability of `token`."""
    top: dict[str, float] = Field(default_factory=dict)
    """Alternative tokens at this position mapped to their log-probabilities (includes `token`)."""


class ChatResponse(Record):
    """What one call returned, with the facts the call log keeps."""

    text: str
    """The assistant message content."""
    model: str
    """The model name the server reported (or was asked for)."""
    usage: Usage = Field(default_factory=Usage)
    """Token counts of this call; served from the cache, its tokens are in the `cached_*` counts (paid
    when first asked) and the paid counts are zero."""
    logprobs: list[TokenLogprob] | None = None
    """Per-token log-probabilities, when requested and returned."""
    finish_reason: str | None = None
    """Why generation stopped (stop, length, ...)."""
    cached: bool = False
    """True when served from the persistent cache without a request."""
    latency_s: float = 0.0
    """Wall time of the request that produced this response (0 for a cache hit)."""
    constraint_honoured: bool | None = None
    """For structured calls: whether the raw output validated against the schema on the first try
    (False shows a server that ignored the constraint); None for plain calls."""


class Structured(BaseModel, Generic[M]):
    """A validated structured output together with the response that carried it."""

    value: M
    """The parsed, validated output."""
    response: ChatResponse
    """The final call's response (raw text, usage, logprobs)."""
    attempts: int = 1
    """How many asks it took (1 = valid the first time)."""
    cached_attempts: int = 0
    """How many of those asks were answered from the cache (no request sent)."""
    usage: Usage = Field(default_factory=Usage)
    """Tokens of all the asks, the refused ones included (`response.usage` is the accepted ask's alone).
    When a client leaves it out, it is `response.usage`."""

    @model_validator(mode="after")
    def _defaults_from_the_response(self) -> Structured[M]:
        """A client that leaves out the totals of the asks gets the accepted response's: its usage, and all
        asks cached when it was served from the cache."""
        if "usage" not in self.model_fields_set:
            self.usage = self.response.usage
        if "cached_attempts" not in self.model_fields_set and self.response.cached:
            self.cached_attempts = self.attempts
        return self


@runtime_checkable
class LLMClient(Protocol):
    """A chat model behind some transport. Implementations must be safe to call concurrently."""

    @property
    def name(self) -> str:
        """"provider/model" as shown in logs and run records, never containing secrets."""
        ...

    async def chat(self, request: ChatRequest) -> ChatResponse:
        """One completion. Transient failures are retried inside; what is left raises ProviderError."""
        ...

    async def structured(self, request: ChatRequest, output: type[M], *, mode: StructuredMode | None = None,
                         context: Mapping[str, Any] | None = None) -> Structured[M]:
        """One completion parsed into `output`, re-asking with the validation error fed back a bounded
        number of times; raises UnexpectedModelBehavior with every attempt when it never validates.
        `context` is passed to Pydantic validation (e.g. the step count a step index must stay below)."""
        ...
