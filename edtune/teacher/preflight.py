"""The teacher preflight: one tiny request per capability a run needs, sent before any model work.

Checks, in this order (a failed `reachable` ends the preflight: nothing else can be learnt then):

- reachable: the server answers a structured request (`PreflightReply`) in the client's structured mode;
- images: it answers such a request carrying one small PNG as a `data:` URI, as every task sends images;
- logprobs: asked for `top_logprobs` (as answer-switch asks), its reply carries them: at least two
  alternatives at some token position.

Every request is rendered from the `preflight` template (`prompts/preflight.jinja`; a project folder
without a copy uses edtune's), so it carries the template's name and hash like any teacher call, and it
is counted under the stage `teacher.preflight`. A server recognises a preflight request by its output
schema's name, `PreflightReply` (docs/teacher.md). Failures are returned as results with their evidence,
never raised: what a failure means for a run, and which setting fixes it, is the caller's to say.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from PIL import Image
from pydantic import Field

from edtune.errors import MalformedReply, ProviderError, UnexpectedModelBehavior, UnsupportedInput
from edtune.llm.base import ChatRequest, LLMClient, StructuredMode, Usage
from edtune.llm.images import image_data_uri
from edtune.llm.structured import usage_of_attempts
from edtune.records import Record
from edtune.templates import PromptTemplate, load_template_or_default

Check = Literal["reachable", "images", "logprobs"]
Failure = Literal["unreachable", "auth", "not_found", "unsupported_input", "rejected", "server_error",
                  "invalid_reply", "no_logprobs"]
TEMPLATE = "preflight"
STAGE = "teacher.preflight"
"""Stage name under which preflight calls are counted."""
EVIDENCE_CHARS = 2000
"""A server body kept as evidence is cut to this many characters."""


class PreflightReply(Record):
    """What a preflight request asks the teacher for (any valid reply passes)."""

    ok: bool
    """True (any boolean validates: the check is that the server answers in the structured mode)."""


class CheckResult(Record):
    """The outcome of one preflight check, with the evidence."""

    check: Check
    """Which capability was checked."""
    passed: bool
    """Whether the teacher showed it."""
    detail: str
    """What was seen, in words."""
    failure: Failure | None = None
    """Why it failed: unreachable (no connection or a timeout), auth (401/403), not_found (404: model or
    path), unsupported_input (the server cannot take the input type), rejected (another 4xx), server_error
    (5xx or malformed replies after the retries), invalid_reply (no reply validated), no_logprobs."""
    status: int | None = None
    """HTTP status of a failed request."""
    body: str | None = None
    """The server's error body, or the last reply refused (cut to EVIDENCE_CHARS)."""
    tries: int = 0
    """Requests sent for this check (retries and re-asks included, where known)."""
    calls: int = 0
    """Replies received and counted (what the usage counts)."""
    usage: Usage = Field(default_factory=Usage)
    """Tokens of those replies."""


def preflight_template(project_dir: str | Path | None = None) -> PromptTemplate:
    """The project's `prompts/preflight.jinja`, else edtune's (a project need not copy it)."""
    return load_template_or_default(TEMPLATE, project_dir)


def probe_image() -> str:
    """The preflight's picture: a 32x32 red PNG, as a data URI."""
    return image_data_uri(Image.new("RGB", (32, 32), (200, 30, 30)))


async def run_checks(client: LLMClient, checks: Sequence[Check], *, mode: StructuredMode | None = None,
                     top_logprobs: int = 20, sampling: dict[str, object] | None = None,
                     project_dir: str | Path | None = None) -> list[CheckResult]:
    """Run `checks` (reachable first whether asked or not) against `client`; see the module docstring.
    `sampling` holds ChatRequest fields of the teacher spec (temperature, max_tokens, seed)."""
    template = preflight_template(project_dir)
    order: list[Check] = ["reachable", *(c for c in ("images", "logprobs") if c in checks)]
    results: list[CheckResult] = []
    for check in order:
        images = [probe_image()] if check == "images" else []
        fields = {**(sampling or {}), **({"logprobs": True, "top_logprobs": top_logprobs} if check == "logprobs"
                                         else {})}
        request = ChatRequest(messages=template.render({"check": check}, images), stage=STAGE,
                              template_name=template.name, template_hash=template.hash, **fields)
        results.append(await _check(client, check, request, mode))
        if check == "reachable" and not results[-1].passed:
            break
    return results


async def _check(client: LLMClient, check: Check, request: ChatRequest, mode: StructuredMode | None) -> CheckResult:
    try:
        reply = await client.structured(request, PreflightReply, mode=mode)
    except ProviderError as exc:
        return _provider_failure(check, exc)
    except UnexpectedModelBehavior as exc:
        return CheckResult(check=check, passed=False, failure="invalid_reply", tries=len(exc.attempts),
                           detail=f"no reply validated as PreflightReply: {exc}", body=_cut(exc.raw_output),
                           calls=len(exc.attempts), usage=usage_of_attempts(exc.attempts))
    spent = {"tries": reply.attempts, "calls": reply.attempts, "usage": reply.usage}
    if check == "logprobs":
        widest = max((len(t.top) for t in reply.response.logprobs or []), default=0)
        if widest < 2:
            seen = "no logprobs" if not reply.response.logprobs else "logprobs without top alternatives"
            return CheckResult(check=check, passed=False, failure="no_logprobs", body=_cut(reply.response.text),
                               detail=f"asked for top_logprobs, the reply carried {seen}", **spent)
        return CheckResult(check=check, passed=True, detail=f"the reply carried top logprobs (up to {widest} "
                                                            "alternatives per token)", **spent)
    what = "a request with an image" if check == "images" else f"a structured request (mode {mode or 'default'})"
    return CheckResult(check=check, passed=True, detail=f"the teacher answered {what}", **spent)


def _provider_failure(check: Check, exc: ProviderError) -> CheckResult:
    status = exc.status
    failure: Failure
    if isinstance(exc, UnsupportedInput):
        failure = "unsupported_input"
    elif status is None and not isinstance(exc, MalformedReply):
        failure = "unreachable"
    elif status in (401, 403):
        failure = "auth"
    elif status == 404:
        failure = "not_found"
    elif status is not None and 400 <= status < 500:
        failure = "rejected"
    else:
        failure = "server_error"
    return CheckResult(check=check, passed=False, failure=failure, status=status, body=_cut(exc.body),
                       tries=exc.tries, detail=str(exc))


def _cut(text: str | None) -> str | None:
    return None if text is None else text[:EVIDENCE_CHARS]
