"""Rationale text form and the scripted client's structured re-ask path."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import BaseModel

from edtune.errors import UnexpectedModelBehavior
from edtune.llm import ChatRequest, LLMClient, Message
from edtune.llm.scripted import ScriptedClient
from edtune.rationale import format_rationale, parse_rationale


def test_rationale_round_trip_and_tolerant_parse() -> None:
    text = format_rationale(["I see red-circle.", "There is 1 object."], "1")
    assert parse_rationale(text) == (["I see red-circle.", "There is 1 object."], "1")
    assert parse_rationale("chatter\nstep 1) a\nSTEP 2: b\nFinal answer: 3\nStep 3: late") == (["a", "b"], "3")
    assert parse_rationale("no structure here") == ([], None)


class Verdict(BaseModel):
    ok: bool


def _request() -> ChatRequest:
    return ChatRequest(messages=[Message(role="user", content="judge")])


def test_scripted_client_reasks_then_validates() -> None:
    client = ScriptedClient(["not json", '{"ok": true}'])
    assert isinstance(client, LLMClient)
    out = asyncio.run(client.structured(_request(), Verdict))
    assert out.value.ok is True and out.attempts == 2
    assert out.response.constraint_honoured is False
    assert "Invalid output" in str(client.requests[1].messages[-1].content)


def test_scripted_client_fails_with_every_attempt_as_evidence() -> None:
    client = ScriptedClient(["x", "y", "z"], max_reasks=2)
    with pytest.raises(UnexpectedModelBehavior) as info:
        asyncio.run(client.structured(_request(), Verdict))
    assert [a.raw for a in info.value.attempts] == ["x", "y", "z"]
    assert info.value.raw_output == "z"
