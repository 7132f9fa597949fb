"""Caching for teacher client objects, so a killed run never asks a question twice.

A teacher given as a spec string is an `OpenAICompatibleClient` built on the run's SQLite cache. A teacher
given as an object (a custom client, the scripted client of tests) is wrapped in `RunCachedClient`, which
keeps each finished call in the same file: a call answered just before a kill -9, whose result had not
reached the results file yet, is read back instead of being asked again. Structured calls are cached whole
(the validated value, the accepted response, the number of asks and their tokens); failures are not cached.
A hit comes back marked cached, its tokens counted as cached (`Usage.as_cached`): paid once, not again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, Field

from edtune.llm.base import ChatRequest, ChatResponse, LLMClient, M, Structured, StructuredMode, Usage
from edtune.llm.cache import LLMCache, cache_key
from edtune.llm.structured import shape_for
from edtune.records import Record

OBJECT_URL = "client-object"
"""Stands in for the base URL in cache keys: the wrapped client's transport is unknown."""


class StoredStructured(Record):
    """What the cache keeps for a structured call (as the text of a ChatResponse)."""

    value: dict[str, Any]
    """The validated output, as JSON."""
    response: ChatResponse
    """The response whose text validated."""
    attempts: int
    """Asks it took."""
    usage: Usage = Field(default_factory=Usage)
    """Tokens of all the asks (`Structured.usage`); entries stored before it was kept have only the
    accepted response's."""


class RunCachedClient:
    """`inner` with its replies kept in `cache`; hits come back marked cached, their tokens counted as cached."""

    def __init__(self, inner: LLMClient, cache: LLMCache) -> None:
        self.inner = inner
        self.cache = cache

    @property
    def name(self) -> str:
        return self.inner.name

    def _key(self, request: ChatRequest, mode: str | None, output: type[BaseModel] | None) -> str:
        schema = shape_for(output, "json_schema").schema_hash if output is not None else None
        return cache_key(request, model=self.inner.name, base_url=OBJECT_URL, mode=mode, schema_hash=schema)

    async def chat(self, request: ChatRequest) -> ChatResponse:
        key = self._key(request, None, None)
        if (hit := self.cache.get(key)) is not None:
            return hit
        response = await self.inner.chat(request)
        self.cache.put(key, request, response)
        return response

    async def structured(self, request: ChatRequest, output: type[M], *, mode: StructuredMode | None = None,
                         context: Mapping[str, Any] | None = None) -> Structured[M]:
        key = self._key(request, mode or "default", output)
        if (hit := self.cache.get(key)) is not None:
            stored = StoredStructured.model_validate_json(hit.text)
            response = stored.response.model_copy(update={"cached": True, "usage": stored.response.usage.as_cached(),
                                                          "latency_s": 0.0})
            paid = stored.usage if "usage" in stored.model_fields_set else stored.response.usage
            return Structured(value=output.model_validate(stored.value, context=context), response=response,
                              attempts=stored.attempts, cached_attempts=stored.attempts, usage=paid.as_cached())
        result = await self.inner.structured(request, output, mode=mode, context=context)
        stored = StoredStructured(value=result.value.model_dump(mode="json"), response=result.response,
                                  attempts=result.attempts, usage=result.usage)
        self.cache.put(key, request, ChatResponse(text=stored.model_dump_json(), model=result.response.model))
        return result
