"""Retrying transient provider failures: 408, 409, 429, 5xx, timeouts, dropped connections and malformed
replies. Permanent failures fail at once: every other 4xx, and any status whose body says the server cannot
take the input type the request carries (llama.cpp's HTTP 500 "image input is not supported").

The SDK's own retries are switched off so this is the only retry layer. Waits grow exponentially with
jitter drawn from a seeded `random.Random`, and a server's Retry-After (or OpenAI's retry-after-ms) wins
over the computed wait. `sleep` is injectable so tests never wait for real.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx2
import openai
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from edtune.errors import REJECTED_STATUSES, MalformedReply, ProviderError, RequestRejected, UnsupportedInput

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass
class RetryPolicy:
    """How often and how long to wait before trying a transient failure again.

    `max_retries` counts retries, so a call is tried at most `max_retries + 1` times. The wait before
    retry n is `initial_s * 2**(n-1)` capped at `max_wait_s`, of which a random half is jitter (so
    concurrent callers that failed together do not retry together).
    """

    max_retries: int = 5
    initial_s: float = 0.5
    max_wait_s: float = 30.0
    max_retry_after_s: float = 120.0
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    sleep: Sleep = asyncio.sleep

    def backoff(self, retry_number: int) -> float:
        """Seconds to wait before retry `retry_number` (1-based) when the server gave no Retry-After."""
        base = min(self.max_wait_s, self.initial_s * 2 ** (retry_number - 1))
        return base / 2 + self.rng.uniform(0, base / 2)


TRANSIENT_4XX = frozenset({408, 409, 429})
"""Client-error statuses that say "try again later" (timeout, conflict, rate limit): retried like a 5xx."""

_UNSUPPORTED_INPUT = re.compile(
    r"\b(image|audio|video|vision|multimodal|multi-modal)[ _-]?(input|inputs|content|modality|url)?s?\s+"
    r"(is|are)\s+(not\s+supported|unsupported|only\s+supported\s+by)"
    r"|does\s+not\s+support\s+(image|audio|video|vision|multimodal|multi-modal)"
    r"|not\s+a\s+multi-?modal\s+model"
    r"|at\s+most\s+0\s+(image|audio|video)",
    re.IGNORECASE)
"""Server messages saying a kind of input cannot be taken at all (llama.cpp: "image input is not supported";
vLLM serving a text-only model: "At most 0 image(s) may be provided in one prompt."; OpenAI: "image_url is
only supported by certain models"), as opposed to one bad image or one image too many."""


def unsupported_input(exc: BaseException) -> bool:
    """True for an HTTP error whose body says the server cannot take the input type sent (any status)."""
    if not isinstance(exc, openai.APIStatusError):
        return False
    return _UNSUPPORTED_INPUT.search(f"{exc.message}\n{exc.response.text}") is not None


def is_transient(exc: BaseException) -> bool:
    """True for failures worth retrying: rate limits and other "try later" 4xx (408, 409, 429), server
    errors (5xx), timeouts, connection errors and malformed replies. Other 4xx statuses, and any status whose
    body says the input type is unsupported (`unsupported_input`), are permanent and never retried."""
    if isinstance(exc, openai.APIStatusError):
        if unsupported_input(exc):
            return False
        return exc.status_code in TRANSIENT_4XX or exc.status_code >= 500
    return isinstance(exc, (openai.APIConnectionError, MalformedReply))


def dropped_mid_reply(exc: BaseException) -> bool:
    """True for a connection that was made and then lost before the reply was whole (reset by the peer,
    closed without a response): the reply is malformed, unlike a refused connection or a timeout."""
    if not isinstance(exc, openai.APIConnectionError) or isinstance(exc, openai.APITimeoutError):
        return False
    return isinstance(exc.__cause__, (httpx2.ReadError, httpx2.WriteError, httpx2.RemoteProtocolError))


def retry_after_s(exc: BaseException) -> float | None:
    """The wait the server asked for in `retry-after-ms` or `retry-after` (seconds or HTTP date)."""
    if not isinstance(exc, openai.APIStatusError):
        return None
    headers = exc.response.headers
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after_s(exc) if exc is not None else None
        if asked is not None:
            return min(asked, policy.max_retry_after_s)
        return policy.backoff(state.attempt_number)

    return wait


async def with_retries(call: Callable[[], Awaitable[T]], policy: RetryPolicy, *, label: str = "request",
                       redact: Callable[[str], str] = str) -> T:
    """Run `call`, retrying transient failures per `policy`.

    Whatever is left (a non-transient status, or retries exhausted) raises ProviderError with the HTTP
    status, the body and the number of tries, its message starting with `label` (which server);
    `redact` scrubs secrets from the message and body. A malformed reply (raised by `call` as
    MalformedReply, or a connection dropped mid-reply) that is still malformed on the last try raises
    MalformedReply.
    """
    retrying = AsyncRetrying(stop=stop_after_attempt(policy.max_retries + 1), wait=_wait(policy),
                             retry=retry_if_exception(is_transient), sleep=policy.sleep, reraise=True)
    try:
        return await retrying(call)
    except MalformedReply as exc:
        tries = retrying.statistics.get("attempt_number", 1)
        body = redact(exc.body) if exc.body is not None else None
        raise MalformedReply(f"{label}: malformed reply after {tries} tries: {redact(str(exc))}",
                             status=exc.status, body=body, tries=tries) from None
    except openai.APIError as exc:
        tries = retrying.statistics.get("attempt_number", 1)
        raise _provider_error(exc, tries, label, redact) from None


def _provider_error(exc: openai.APIError, tries: int, label: str, redact: Callable[[str], str]) -> ProviderError:
    status = exc.status_code if isinstance(exc, openai.APIStatusError) else None
    body = redact(exc.response.text) if isinstance(exc, openai.APIStatusError) else None
    kind = f"HTTP {status}" if status is not None else type(exc).__name__
    error_type: type[ProviderError] = RequestRejected if status in REJECTED_STATUSES else ProviderError
    if unsupported_input(exc):
        error_type = UnsupportedInput
    if dropped_mid_reply(exc):
        error_type, kind = MalformedReply, f"malformed reply (connection dropped: {type(exc.__cause__).__name__})"
    return error_type(f"{label}: {kind} after {tries} tries: {redact(exc.message)}", status=status, body=body,
                         tries=tries)
