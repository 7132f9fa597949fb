"""An in-process LLMClient that answers from a script: what most tests use instead of a server.

The script is a callable `(request) -> str` or a list of replies consumed in order. Structured calls
validate like a real client would and re-ask (appending the error) up to `max_reasks` times, so tests
exercise the same failure paths.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import ValidationError

from edtune.errors import Attempt, UnexpectedModelBehavior
from edtune.llm.base import ChatRequest, ChatResponse, M, Message, Structured, StructuredMode, Usage

Script = Callable[[ChatRequest], str] | Sequence[str]


class ScriptedClient:
    """Replies from `script`; records every request it was sent in `requests`."""

    def __init__(self, script: Script, *, model: str = "scripted", max_reasks: int = 2) -> None:
        self._script = script
        self._cursor = 0
        self._model = model
        self.max_reasks = max_reasks
        self.requests: list[ChatRequest] = []

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

    async def structured(self, request: ChatRequest, output: type[M], *,
                         mode: StructuredMode | None = None) -> Structured[M]:
        attempts: list[Attempt] = []
        current = request
        for n in range(1, self.max_reasks + 2):
            response = await self.chat(current)
            try:
                value = output.model_validate_json(response.text)
            except ValidationError as exc:
                attempts.append(Attempt(raw=response.text, error=str(exc)))
                feedback = [Message(role="assistant", content=response.text),
                            Message(role="user", content=f"Invalid output: {exc}. Reply with valid JSON only.")]
                current = request.model_copy(update={"messages": [*request.messages, *feedback]})
                continue
            response = response.model_copy(update={"constraint_honoured": n == 1})
            return Structured[output](value=value, response=response, attempts=n)  # type: ignore[valid-type]
        raise UnexpectedModelBehavior(f"no valid {output.__name__} after {len(attempts)} attempts",
                                      attempts=attempts, model=self.name)
