"""The mock provider: an in-process teacher or judge chosen by a spec string, for configs and CLI runs
that should need no server.

`mock/<name>` answers every structured request with the smallest reply its output schema accepts (the
lower bound of a number, `true`, the word "mock" for a string, as many items as a list needs) and every
plain request with "A". `mock/<path>.jsonl` answers from a replies file first: each line is a `MockReply`,
`{"output": "FirstWrongStep", "reply": {"step": 2, "reason": "..."}}` for a structured request asking for
that record, `{"output": null, "reply": "B"}` for a plain one. The replies of one output are used in file
order (a re-ask takes the next one, so an invalid reply followed by a valid one exercises the re-ask), the
last one again once they run out; an output the file does not name gets the default reply. A relative path
is read from the working directory. Calls of a batch run concurrently, so which sample gets which of
several replies of one output is not fixed: give one reply per output where a run must be reproducible.

The client is a `ScriptedClient` (same ask / validate / re-ask path as a real client); it has no cache of
its own and counts no usage: a run wraps it in its cache like any teacher object.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from edtune.errors import ConfigError
from edtune.jsonl import read_jsonl
from edtune.llm.base import ChatRequest, ChatResponse, M, Structured, StructuredMode, Usage
from edtune.llm.scripted import ScriptedClient
from edtune.llm.structured import OutputShape, StructuredSettings, structured_call
from edtune.records import Record

PROVIDER = "mock"
PLAIN_REPLY = "A"
"""The default reply to a plain (unstructured) request: an option letter, as answer-switch asks for."""
WORD = "mock"
"""The default string value (padded with "x" to a schema's minLength)."""


class MockReply(Record):
    """One line of a mock replies file."""

    output: str | None
    """The output record a structured request asks for (its class name, the schema name sent), or null for
    a plain request."""
    reply: str | dict[str, Any]
    """The reply: an object is sent as its JSON, a string as it is (so a broken reply can be scripted)."""

    def text(self) -> str:
        return self.reply if isinstance(self.reply, str) else json.dumps(self.reply)


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def minimal_value(schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """The smallest value a JSON schema (as pydantic writes one) accepts: required properties only, the
    first alternative, enum member or const, lower bounds, minItems items, `true`, the word "mock"."""
    root = schema if root is None else root
    schema = _resolve(schema, root)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return minimal_value(schema[key][0], root)
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: minimal_value(props[name], root) for name in schema.get("required", [])}
    if kind == "array":
        return [minimal_value(schema.get("items", {}), root) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        value = schema.get("minimum", schema["exclusiveMinimum"] + 1 if "exclusiveMinimum" in schema else 0)
        return min(value, schema["maximum"]) if "maximum" in schema else value
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        text = WORD + "x" * max(0, low - len(WORD))
        return text[:high] if high is not None else text
    if kind == "boolean":
        return True
    return None


def default_reply(output: type[BaseModel]) -> str:
    """The JSON of `minimal_value` of `output`'s schema."""
    return json.dumps(minimal_value(output.model_json_schema()))


class MockClient(ScriptedClient):
    """Replies from `replies` (by output name, see the module docstring), else the default replies."""

    def __init__(self, model: str, replies: Mapping[str | None, Sequence[str]] | None = None, *,
                 max_reasks: int = 2) -> None:
        super().__init__(self._plain, model=model, max_reasks=max_reasks)
        self._replies = {key: list(texts) for key, texts in (replies or {}).items()}
        self._used: dict[str | None, int] = defaultdict(int)

    @property
    def name(self) -> str:
        return f"{PROVIDER}/{self._model}"

    def _next(self, output: str | None, default: str) -> str:
        texts = self._replies.get(output)
        if not texts:
            return default
        reply = texts[min(self._used[output], len(texts) - 1)]
        self._used[output] += 1
        return reply

    def _plain(self, request: ChatRequest) -> str:
        return self._next(None, PLAIN_REPLY)

    async def structured(self, request: ChatRequest, output: type[M], *, mode: StructuredMode | None = None,
                         context: Mapping[str, Any] | None = None) -> Structured[M]:
        async def send(sent: ChatRequest, shape: OutputShape) -> ChatResponse:
            self.shapes.append(shape)
            self.requests.append(sent)
            text = self._next(output.__name__, default_reply(output))
            usage = Usage(prompt_tokens=sum(len(str(m.content).split()) for m in sent.messages),
                          completion_tokens=len(text.split()))
            return ChatResponse(text=text, model=self._model, usage=usage, finish_reason="stop")

        settings = StructuredSettings(mode=mode or "json_schema", max_reasks=self.max_reasks, model_name=self.name)
        return await structured_call(send, request, output, settings, context)


def mock_client(model: str, *, max_reasks: int = 2) -> MockClient:
    """The client of the spec string `mock/<model>`: replies from the file `model` when it ends in
    `.jsonl` (ConfigError when there is none, DataError naming the row of a bad line), else defaults."""
    if not model.endswith(".jsonl"):
        return MockClient(model, max_reasks=max_reasks)
    path = Path(model).expanduser()
    if not path.is_file():
        raise ConfigError(f"mock replies file not found: {path} (spec '{PROVIDER}/{model}')")
    replies: dict[str | None, list[str]] = defaultdict(list)
    for line in read_jsonl(path, MockReply):
        replies[line.output].append(line.text())
    return MockClient(model, replies, max_reasks=max_reasks)
