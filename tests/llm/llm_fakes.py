"""A fake OpenAI-compatible server behind `httpx2.MockTransport`, for driving the real `openai` SDK."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

SECRET = "sk-test-DO-NOT-LEAK-7f3a9c"
REMOTE = "https://llm.example.com/v1"

Reply = httpx2.Response | Callable[[httpx2.Request], httpx2.Response]


def completion(text: str, *, prompt_tokens: int = 11, completion_tokens: int = 7, finish_reason: str = "stop",
               logprobs: list[dict[str, Any]] | None = None) -> httpx2.Response:
    """A 200 chat-completion response carrying `text`."""
    choice: dict[str, Any] = {"index": 0, "finish_reason": finish_reason,
                              "message": {"role": "assistant", "content": text}}
    if logprobs is not None:
        choice["logprobs"] = {"content": logprobs}
    body = {"id": "cmpl-1", "object": "chat.completion", "created": 0, "model": "served-model",
            "choices": [choice],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}}
    return httpx2.Response(200, json=body)


def error(status: int, message: str = "boom", headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(status, headers=headers, json={"error": {"message": message, "type": "x"}})


@dataclass
class FakeServer:
    """Answers requests with `replies` in order and records what it was sent."""

    replies: list[Reply] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.bodies.append(json.loads(request.content))
        self.headers.append(dict(request.headers))
        if not self.replies:
            raise AssertionError(f"unexpected request #{len(self.bodies)}")
        reply = self.replies.pop(0)
        return reply(request) if callable(reply) else reply

    def transport(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(transport=httpx2.MockTransport(self))


@dataclass
class Sleeps:
    """Injected retry sleep: records the waits instead of waiting."""

    waits: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
