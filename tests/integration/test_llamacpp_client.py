"""OpenAICompatibleClient against real servers (llama.cpp and vLLM, SmolLM2-135M): the protocol, not quality.

Assertions check what the protocol guarantees (schema-valid output, logprob shapes, usage counts), never
what a 135M model says.
"""

from __future__ import annotations

import asyncio

import pytest
from pydantic import Field

from edtune.errors import UnexpectedModelBehavior
from edtune.llm.base import ChatRequest, Message
from edtune.llm.openai_client import OpenAICompatibleClient
from edtune.records import Record
from edtune.servers import Served

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


class ShapeGuess(Record):
    """A small structured answer with a constrained integer, to check the schema reaches the grammar."""

    shape: str
    """The shape named."""
    sides: int = Field(ge=0, le=12)
    """How many sides it has."""
    confident: bool
    """Whether the model is sure."""


def _ask(text: str, *, max_tokens: int = 16, **kw: object) -> ChatRequest:
    return ChatRequest(messages=[Message(role="user", content=text)], max_tokens=max_tokens, **kw)


async def test_plain_chat_returns_text_and_usage(llm: OpenAICompatibleClient) -> None:
    response = await llm.chat(_ask("Say hello in one word.", stage="smoke"))
    assert response.text.strip()
    assert response.usage.prompt_tokens > 0
    assert 0 < response.usage.completion_tokens <= 16
    assert response.finish_reason in ("stop", "length")
    assert response.latency_s > 0
    assert llm.usage.stage("smoke").calls == 1


async def test_json_schema_output_validates_first_time(llm: OpenAICompatibleClient) -> None:
    request = _ask("Describe a triangle as JSON with fields shape, sides and confident.", max_tokens=64)
    result = await llm.structured(request, ShapeGuess)
    assert isinstance(result.value, ShapeGuess)
    assert 0 <= result.value.sides <= 12
    assert result.attempts == 1
    assert result.response.constraint_honoured is True
    ShapeGuess.model_validate_json(result.response.text)


async def test_structured_outputs_field_is_honoured_by_vllm_only(llm: OpenAICompatibleClient, served: Served) -> None:
    """vLLM enforces its `structured_outputs` extra body; llama.cpp drops it and answers HTTP 200 with free
    text, which the client must notice (the same prompt is schema-valid under json_schema) and fail with
    every attempt as evidence."""
    request = _ask("What shape has three sides?", max_tokens=64)
    if served.provider == "vllm":
        assert (await llm.structured(request, ShapeGuess, mode="structured_outputs")).attempts == 1
        return
    with pytest.raises(UnexpectedModelBehavior) as err:
        await llm.structured(request, ShapeGuess, mode="structured_outputs")
    assert len(err.value.attempts) == llm.max_reasks + 1
    assert all(a.raw.strip() and a.error for a in err.value.attempts)
    assert (await llm.structured(request, ShapeGuess)).response.constraint_honoured is True


async def test_logprobs_and_top_logprobs(llm: OpenAICompatibleClient) -> None:
    response = await llm.chat(_ask("Pick A or B.", max_tokens=4, logprobs=True, top_logprobs=5))
    assert response.logprobs is not None
    assert 1 <= len(response.logprobs) <= 4
    for token in response.logprobs:
        # Distinct token ids can decode to the same text, so the dict may hold fewer than 5 entries.
        assert 1 <= len(token.top) <= 5
        assert token.top[token.token] == pytest.approx(token.logprob)
        assert all(lp <= 0 for lp in token.top.values())


@pytest.mark.parametrize("concurrency", [4, 8])
async def test_concurrent_calls_all_complete(llm: OpenAICompatibleClient, concurrency: int) -> None:
    requests = [_ask(f"Count to {i + 1}.", max_tokens=12, stage="burst") for i in range(concurrency)]
    responses = await asyncio.gather(*(llm.chat(r) for r in requests))
    assert all(r.text.strip() for r in responses)
    assert llm.usage.stage("burst").calls == concurrency
    assert llm.usage.stage("burst").completion_tokens == sum(r.usage.completion_tokens for r in responses)


async def test_concurrent_structured_calls_all_validate(llm: OpenAICompatibleClient) -> None:
    shapes = ["square", "triangle", "hexagon", "circle", "pentagon", "octagon", "line", "star"]
    requests = [_ask(f"Describe a {s} as JSON with fields shape, sides and confident.", max_tokens=64)
                for s in shapes]
    results = await asyncio.gather(*(llm.structured(r, ShapeGuess) for r in requests))
    assert all(isinstance(r.value, ShapeGuess) and r.response.constraint_honoured for r in results)
