"""Checking that a 200 reply is a whole chat completion before anything uses it.

The SDK parses whatever body arrives: a truncated or empty body raises a bare JSONDecodeError, an HTML
page comes back as a string, and `{}` becomes a completion without choices. Each of these is turned
into MalformedReply here, with the raw body as evidence, so the retry layer treats it like a 5xx.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from openai.types.chat import ChatCompletion

from edtune.errors import MalformedReply

EVIDENCE_CHARS = 2000
"""How much of a malformed body is kept as evidence."""


class RawReply(Protocol):
    """The part of the SDK's raw-response wrapper this module reads."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Any: ...

    @property
    def text(self) -> str: ...

    def parse(self) -> Any: ...


def _malformed(raw: RawReply, why: str) -> MalformedReply:
    return MalformedReply(why, status=raw.status_code, body=raw.text[:EVIDENCE_CHARS])


def checked_completion(raw: RawReply) -> ChatCompletion:
    """The completion in `raw`; MalformedReply when the content type is not JSON, the body does not
    parse as a JSON object, or it has no choice carrying a message."""
    content_type = str(raw.headers.get("content-type", ""))
    if "json" not in content_type.lower():
        raise _malformed(raw, f"the reply has content type {content_type or 'none'!r}, not JSON")
    try:
        data = json.loads(raw.text)
    except ValueError as exc:
        raise _malformed(raw, f"the reply body is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise _malformed(raw, f"the reply body is a JSON {type(data).__name__}, not an object")
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict) \
            or not isinstance(choices[0].get("message"), dict):
        raise _malformed(raw, "the reply has no choice with a message")
    completion = raw.parse()
    if not isinstance(completion, ChatCompletion):
        raise _malformed(raw, f"the reply parsed as {type(completion).__name__}, not a chat completion")
    return completion
