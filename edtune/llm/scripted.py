"""An in-process LLMClient that answers from a script: what most tests use instead of a server.

The script is a callable `(request) -> str` or a list of replies consumed in order. Structured calls run
the same ask / validate / re-ask logic as the real client (`edtune.llm.structured`), so tests exercise
the same failure paths; the request shapes a real server would have received are kept in `shapes`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from edtune.llm.base import ChatRequest, ChatResponse, M, Structured, StructuredMode, Usage
from edtune.llm.structured import OutputShape, StructuredSettings, structured_call

Script = Callable[[ChatRequest], str] | Sequence[str]


class ScriptedClient:
    """Replies from `script`; records every request it was sent in `requests`."""

    def __init__(self, script: Script, *, model: str = "scripted", max_reasks: int = 2) -> None:
        self._script = script
        self._cursor = 0
        self._model = model
        self.max_reasks = max_reasks
        self.requests: list[ChatRequest] = []
        self.shapes: list[OutputShape] = []

    @property
    def name(self) -> str:
        return f"scripted/{self._model}"

    def _reply(self, request: ChatRequest) -> str:
        if callable(self._script):
            return self._script(request)
        if self._cursor >= len(self._script):
            raise AssertionError(f"scripted client ran out of replies after {self._cursor} calls")
        reply = self._script[self._cursor]
        self._cursor += 1
        return reply

    async def chat(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        text = self._reply(request)
        usage = Usage(prompt_tokens=sum(len(str(m.content).split()) for m in request.messages),
                      completion_tokens=len(text.split()))
        return ChatResponse(text=text, model=self._model, usage=usage, finish_reason="stop")

    async def structured(self, request: ChatRequest, output: type[M], *, mode: StructuredMode | None = None,
                         context: Mapping[str, Any] | None = None) -> Structured[M]:
        settings = StructuredSettings(mode=mode or "json_schema", max_reasks=self.max_reasks, model_name=self.name)
        return await structured_call(self._send, request, output, settings, context)

    async def _send(self, request: ChatRequest, shape: OutputShape) -> ChatResponse:
        self.shapes.append(shape)
        return await self.chat(request)
