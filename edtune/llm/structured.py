"""Structured output shared by every client: how to ask, how to check, how to re-ask.

A client supplies one coroutine, `send(request, shape) -> ChatResponse`, that puts `shape`'s
`response_format` / `extra_body` on the wire. `structured_call` does the rest: validates the raw text
with Pydantic, re-asks with the validation error fed back, and raises UnexpectedModelBehavior with
every attempt as evidence when the model never complies.

Servers may ignore a constraint and still answer HTTP 200 (vLLM >= 0.12 drops `guided_json`, which is
therefore never sent), so output is validated in every mode, constrained or not, and the response records
whether the first raw output validated (`constraint_honoured`).

The re-ask history is bounded: each re-ask is the original conversation plus only the last failed
output and its error, so a stubborn model does not grow the prompt without limit.

Refused asks cost tokens too: `Structured.usage` sums every ask of the call, and each refused `Attempt`
carries in `extra` its mode, finish_reason, whether it was answered from the cache, and its token counts
(`Usage` fields), so a caller can count what a call that never validated spent (`usage_of_attempts`).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from edtune.errors import Attempt, UnexpectedModelBehavior
from edtune.llm.base import ChatRequest, ChatResponse, M, Message, Structured, StructuredMode, Usage
from edtune.templates import PromptTemplate, load_template_or_default

REASK_TEMPLATE = "reask"
"""Template (`prompts/reask.jinja`) that words the re-ask; variables: error, schema, output_name."""
TRUNCATED = "\n(the reply was cut off by the max_tokens limit: answer more briefly)"
"""Appended to the error of a reply that stopped because of max_tokens, for the model and for the log."""


@dataclass(frozen=True)
class OutputShape:
    """What a structured call adds to the request body, and the hash that enters the cache key."""

    mode: StructuredMode | None
    """The structured mode; None for a plain chat call."""
    schema_hash: str | None = None
    """sha256 of the schema as sent (None for a plain call)."""
    response_format: dict[str, Any] | None = None
    """The OpenAI `response_format` parameter, when the mode uses one."""
    extra_body: dict[str, Any] | None = None
    """Extra top-level body fields (vLLM `structured_outputs`), when the mode uses them."""


PLAIN = OutputShape(mode=None)


@dataclass(frozen=True)
class AttemptOutcome:
    """One ask of a structured call, as the call log records it."""

    request: ChatRequest
    shape: OutputShape
    response: ChatResponse
    number: int
    parsed: dict[str, Any] | None
    error: str | None


Send = Callable[[ChatRequest, OutputShape], Awaitable[ChatResponse]]
OnAttempt = Callable[[AttemptOutcome], None]


def sent_schema(output: type[BaseModel]) -> tuple[dict[str, Any], bool]:
    """`output`'s JSON schema as sent to a server, and whether OpenAI strict mode can take it.

    Objects that say nothing about extra keys get `additionalProperties: false`. Strict mode needs every
    object to list its properties and require all of them, so a model with optional fields or free-form
    dicts is sent non-strict (and still validated here).
    """
    schema = copy.deepcopy(output.model_json_schema())
    return schema, _close_objects(schema)


def _close_objects(node: Any) -> bool:
    """Close every object in `node` (in place); True when all of them qualify for strict mode."""
    # Lists, not generators, inside all(): every node must be visited even after one fails strictness.
    if isinstance(node, list):
        return all([_close_objects(item) for item in node])
    if not isinstance(node, dict):
        return True
    strict = all([_close_objects(value) for value in node.values()])
    if node.get("type") == "object":
        props = node.get("properties")
        if props is not None:
            node.setdefault("additionalProperties", False)
        strict = strict and props is not None and node["additionalProperties"] is False \
            and set(node.get("required", [])) == set(props)
    return strict


@functools.cache
def shape_for(output: type[BaseModel], mode: StructuredMode) -> OutputShape:
    """The request additions for `mode`. `text` adds nothing: the prompt must ask for JSON itself.
    Computed once per output model and mode (building a JSON schema costs more than sending a request to a
    fast server); the shape's dicts are shared, so nothing may change them."""
    schema, strict = sent_schema(output)
    digest = hashlib.sha256(json.dumps([schema, strict], sort_keys=True).encode()).hexdigest()
    if mode == "json_schema":
        name = re.sub(r"[^a-zA-Z0-9_-]", "_", output.__name__)[:64]
        fmt = {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": strict}}
        return OutputShape(mode, digest, response_format=fmt)
    if mode == "structured_outputs":
        return OutputShape(mode, digest, extra_body={"structured_outputs": {"json": schema}})
    if mode == "json_object":
        return OutputShape(mode, digest, response_format={"type": "json_object"})
    return OutputShape(mode, digest)


def extract_json_object(text: str) -> str | None:
    """The first complete JSON object embedded in free text (code fences and chatter around it are
    skipped), or None when there is none."""
    decoder = json.JSONDecoder()
    for start in (m.start() for m in re.finditer(r"\{", text)):
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return text[start:end]
    return None


def validate_output(text: str, output: type[M], mode: StructuredMode,
                    context: Mapping[str, Any] | None = None) -> M:
    """Parse `text` into `output`. Constrained modes must return the JSON alone; `text` mode takes the
    first JSON object found in the reply. Raises ValueError with a short, model-readable message."""
    candidate: str | None = text if mode != "text" else extract_json_object(text)
    if candidate is None:
        raise ValueError("the reply contains no JSON object")
    try:
        return output.model_validate_json(candidate, context=dict(context) if context else None)
    except ValidationError as exc:
        raise ValueError(format_validation_error(exc)) from None


def format_validation_error(exc: ValidationError) -> str:
    """One line per problem, `field.path: message`, without URLs (they only cost the model tokens)."""
    lines = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(part) for part in err["loc"]) or "(root)"
        lines.append(f"{where}: {err['msg']}")
    return "\n".join(lines)


def reask_template(project_dir: str | Path | None = None) -> PromptTemplate:
    """`prompts/reask.jinja` of the project dir, else edtune's default one (a project need not copy it)."""
    return load_template_or_default(REASK_TEMPLATE, project_dir)


def render_reask(error: str, output: type[BaseModel], project_dir: str | Path | None = None) -> list[Message]:
    """The message(s) that tell the model why its last output was refused."""
    schema = json.dumps(sent_schema(output)[0], sort_keys=True, separators=(",", ":"))
    return reask_template(project_dir).render({"error": error, "output_name": output.__name__, "schema": schema})


def reask_request(original: ChatRequest, raw: str, feedback: list[Message]) -> ChatRequest:
    """The original conversation plus only the last failed output and the feedback on it."""
    failed = Message(role="assistant", content=raw)
    return original.model_copy(update={"messages": [*original.messages, failed, *feedback]})


@dataclass(frozen=True)
class StructuredSettings:
    """Per-call settings of `structured_call` that come from the client."""

    mode: StructuredMode
    max_reasks: int
    model_name: str
    project_dir: str | Path | None = None
    on_attempt: OnAttempt | None = None


async def structured_call(send: Send, request: ChatRequest, output: type[M], settings: StructuredSettings,
                          context: Mapping[str, Any] | None = None) -> Structured[M]:
    """Ask, validate, re-ask up to `settings.max_reasks` times; see the module docstring."""
    shape = shape_for(output, settings.mode)
    attempts: list[Attempt] = []
    current, spent, cached = request, Usage(), 0
    for number in range(1, settings.max_reasks + 2):
        response = await send(current, shape)
        spent += response.usage
        cached += response.cached
        try:
            value = validate_output(response.text, output, settings.mode, context)
        except ValueError as exc:
            problem = str(exc) + (TRUNCATED if response.finish_reason == "length" else "")
            _report(settings, AttemptOutcome(current, shape, response, number, None, problem))
            attempts.append(Attempt(raw=response.text, error=problem, extra={
                "mode": settings.mode, "finish_reason": response.finish_reason, "cached": response.cached,
                **response.usage.model_dump()}))
            if number <= settings.max_reasks:
                feedback = render_reask(problem, output, settings.project_dir)
                current = reask_request(request, response.text, feedback)
            continue
        response = response.model_copy(update={"constraint_honoured": number == 1})
        _report(settings, AttemptOutcome(current, shape, response, number, value.model_dump(mode="json"), None))
        return Structured[output](value=value, response=response, attempts=number,  # type: ignore[valid-type]
                                  cached_attempts=cached, usage=spent)
    raise UnexpectedModelBehavior(f"no valid {output.__name__} from {settings.model_name} after "
                                  f"{len(attempts)} attempts (mode {settings.mode}); last error: "
                                  f"{attempts[-1].error}", attempts=attempts, model=settings.model_name)


def usage_of_attempts(attempts: Sequence[Attempt]) -> Usage:
    """Tokens the refused attempts of a structured call spent, paid and cached apart (attempts without
    counts add nothing)."""
    return sum((Usage(**{name: int(a.extra.get(name, 0)) for name in Usage.model_fields}) for a in attempts),
               Usage())


def cached_attempts(attempts: Sequence[Attempt]) -> int:
    """How many of the refused attempts of a structured call were answered from the cache."""
    return sum(bool(a.extra.get("cached", False)) for a in attempts)


def _report(settings: StructuredSettings, outcome: AttemptOutcome) -> None:
    if settings.on_attempt is not None:
        settings.on_attempt(outcome)
