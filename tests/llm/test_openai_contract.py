"""Contract tests: the real `openai` SDK against a fake server; assert what goes over the wire."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from llm_fakes import FakeServer, Sleeps, completion, error
from pydantic import BaseModel, Field, ValidationInfo, field_validator

from edtune.errors import BudgetExceeded, ProviderError, RequestRejected, UnexpectedModelBehavior
from edtune.llm import ChatRequest, ContentPart, LLMClient, Message
from edtune.llm.openai_client import OpenAICompatibleClient
from edtune.llm.structured import usage_of_attempts
from edtune.llm.usage import UsageMeter

Build = Callable[..., OpenAICompatibleClient]


class Verdict(BaseModel):
    equivalent: bool
    reason: str


class Loose(BaseModel):
    label: str
    note: str | None = None


class FirstWrongStep(BaseModel):
    step: int = Field(ge=1)
    why: str

    @field_validator("step")
    @classmethod
    def _within_rationale(cls, value: int, info: ValidationInfo) -> int:
        limit = (info.context or {}).get("n_steps")
        if limit is not None and value > limit:
            raise ValueError(f"step must be at most {limit}, the number of steps")
        return value


def request(text: str = "Are 2 and two the same?", **kw: Any) -> ChatRequest:
    return ChatRequest(messages=[Message(role="user", content=text)], **kw)


VERDICT = '{"equivalent": true, "reason": "same number"}'


def test_client_satisfies_protocol_and_name_has_no_secret(make_client: Build) -> None:
    client = make_client()
    assert isinstance(client, LLMClient)
    assert client.name == "test/tiny-model"


def test_json_schema_mode_sends_strict_response_format(make_client: Build, server: FakeServer) -> None:
    server.replies = [completion(VERDICT)]
    out = asyncio.run(make_client().structured(request(max_tokens=50, seed=3), Verdict))
    assert out.value == Verdict(equivalent=True, reason="same number")
    assert out.response.constraint_honoured is True and out.attempts == 1
    body = server.bodies[0]
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Verdict"
    assert fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["additionalProperties"] is False
    assert set(fmt["json_schema"]["schema"]["required"]) == {"equivalent", "reason"}
    assert body["max_tokens"] == 50 and body["seed"] == 3 and body["temperature"] == 0.0
    assert "guided_json" not in json.dumps(body) and "structured_outputs" not in body


def test_optional_fields_make_the_schema_non_strict(make_client: Build, server: FakeServer) -> None:
    server.replies = [completion('{"label": "a"}')]
    asyncio.run(make_client().structured(request(), Loose))
    assert server.bodies[0]["response_format"]["json_schema"]["strict"] is False


def test_structured_outputs_mode_sends_vllm_extra_body(make_client: Build, server: FakeServer) -> None:
    server.replies = [completion(VERDICT)]
    asyncio.run(make_client().structured(request(), Verdict, mode="structured_outputs"))
    body = server.bodies[0]
    assert body["structured_outputs"]["json"]["properties"].keys() == {"equivalent", "reason"}
    assert "response_format" not in body and "guided_json" not in json.dumps(body)


def test_json_object_and_text_modes(make_client: Build, server: FakeServer) -> None:
    server.replies = [completion(VERDICT), completion(f"Sure! Here it is:\n```json\n{VERDICT}\n```\nBye")]
    client = make_client()
    asyncio.run(client.structured(request(), Verdict, mode="json_object"))
    text_out = asyncio.run(client.structured(request(), Verdict, mode="text"))
    assert server.bodies[0]["response_format"] == {"type": "json_object"}
    assert "response_format" not in server.bodies[1] and "structured_outputs" not in server.bodies[1]
    assert text_out.value.equivalent is True and text_out.response.constraint_honoured is True


def test_default_mode_is_configurable(make_client: Build, server: FakeServer) -> None:
    server.replies = [completion(VERDICT)]
    asyncio.run(make_client(default_mode="structured_outputs").structured(request(), Verdict))
    assert "structured_outputs" in server.bodies[0]


def test_429_retried_honouring_retry_after(make_client: Build, server: FakeServer, sleeps: Sleeps) -> None:
    server.replies = [error(429, headers={"retry-after": "7"}), error(429, headers={"retry-after-ms": "250"}),
                      completion("hello")]
    response = asyncio.run(make_client().chat(request()))
    assert response.text == "hello" and len(server.bodies) == 3
    assert sleeps.waits == [7.0, 0.25]


def test_500_timeout_and_connection_errors_retried_with_backoff(make_client: Build, server: FakeServer,
                                                                sleeps: Sleeps) -> None:
    def timeout(req: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("slow", request=req)

    def refused(req: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused", request=req)

    server.replies = [error(500), timeout, refused, completion("ok")]
    assert asyncio.run(make_client(max_retries=3).chat(request())).text == "ok"
    assert len(sleeps.waits) == 3
    caps = [0.5, 1.0, 2.0]  # initial 0.5 s doubling; jitter keeps each wait in [cap/2, cap]
    assert all(cap / 2 <= wait <= cap for wait, cap in zip(sleeps.waits, caps, strict=True))


def test_retries_exhausted_raise_provider_error_with_evidence(make_client: Build, server: FakeServer) -> None:
    server.replies = [error(503, "overloaded")] * 3
    with pytest.raises(ProviderError) as info:
        asyncio.run(make_client(max_retries=2).chat(request()))
    assert info.value.status == 503 and info.value.tries == 3
    assert "overloaded" in (info.value.body or "")
    assert str(info.value).startswith("test/tiny-model at https://llm.example.com/v1: HTTP 503 after 3 tries")


def test_client_errors_are_not_retried(make_client: Build, server: FakeServer, sleeps: Sleeps) -> None:
    server.replies = [error(400, "bad field")]
    with pytest.raises(RequestRejected) as info:
        asyncio.run(make_client().chat(request()))
    assert info.value.status == 400 and info.value.tries == 1 and sleeps.waits == []


def test_auth_failure_is_a_provider_error_not_a_rejected_request(make_client: Build, server: FakeServer) -> None:
    server.replies = [error(401, "bad key")]
    with pytest.raises(ProviderError) as info:
        asyncio.run(make_client().chat(request()))
    assert info.value.status == 401 and not isinstance(info.value, RequestRejected)


def test_garbage_reasked_with_bounded_history_then_fails_with_evidence(make_client: Build,
                                                                      server: FakeServer) -> None:
    server.replies = [completion("not json at all"), completion('{"equivalent": "maybe"}'), completion("{oops")]
    with pytest.raises(UnexpectedModelBehavior) as info:
        asyncio.run(make_client(max_reasks=2).structured(request(), Verdict))
    exc = info.value
    assert [a.raw for a in exc.attempts] == ["not json at all", '{"equivalent": "maybe"}', "{oops"]
    assert "Invalid JSON" in exc.attempts[0].error and "reason: Field required" in exc.attempts[1].error
    assert exc.model == "test/tiny-model" and exc.raw_output == "{oops"
    second, third = server.bodies[1]["messages"], server.bodies[2]["messages"]
    assert [m["role"] for m in second] == ["user", "assistant", "user"]
    assert second[1]["content"] == "not json at all" and "Invalid JSON" in second[2]["content"]
    # Bounded history: the third ask carries only the last failure, not both.
    assert [m["role"] for m in third] == ["user", "assistant", "user"]
    assert third[1]["content"] == '{"equivalent": "maybe"}'


def test_out_of_range_step_index_rejected_then_reasked(make_client: Build, server: FakeServer) -> None:
    server.replies = [completion('{"step": 9, "why": "x"}'), completion('{"step": 2, "why": "miscounted"}')]
    out = asyncio.run(make_client().structured(request(), FirstWrongStep, context={"n_steps": 3}))
    assert out.value.step == 2 and out.attempts == 2 and out.response.constraint_honoured is False
    assert "step must be at most 3" in server.bodies[1]["messages"][-1]["content"]


def test_logprobs_requested_and_parsed(make_client: Build, server: FakeServer) -> None:
    tokens = [{"token": "B", "logprob": -0.1, "bytes": [66],
               "top_logprobs": [{"token": "B", "logprob": -0.1, "bytes": [66]},
                                {"token": "C", "logprob": -2.4, "bytes": [67]}]}]
    server.replies = [completion("B", logprobs=tokens)]
    response = asyncio.run(make_client().chat(request(top_logprobs=2)))
    assert server.bodies[0]["logprobs"] is True and server.bodies[0]["top_logprobs"] == 2
    assert response.logprobs is not None and response.logprobs[0].token == "B"
    assert response.logprobs[0].top == {"B": -0.1, "C": -2.4}


def test_images_sent_as_image_url_parts(make_client: Build, server: FakeServer) -> None:
    server.replies = [completion("a red circle")]
    parts = [ContentPart(type="text", text="What is shown?"),
             ContentPart(type="image_url", image_url="data:image/png;base64,iVBORw0KGgo=")]
    asyncio.run(make_client().chat(ChatRequest(messages=[Message(role="user", content=parts)])))
    sent = server.bodies[0]["messages"][0]["content"]
    assert sent == [{"type": "text", "text": "What is shown?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]


def test_hosted_openai_gets_max_completion_tokens(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-abc")
    client = OpenAICompatibleClient("gpt-4o-mini", http_client=server.transport())
    server.replies = [completion("hi")]
    asyncio.run(client.chat(request(max_tokens=5)))
    assert server.bodies[0]["max_completion_tokens"] == 5 and "max_tokens" not in server.bodies[0]
    assert server.headers[0]["authorization"] == "Bearer sk-abc"


def test_truncated_reply_is_reported_as_cut_off(make_client: Build, server: FakeServer) -> None:
    server.replies = [completion('{"equivalent": tr', finish_reason="length"), completion(VERDICT)]
    out = asyncio.run(make_client().structured(request(max_tokens=5), Verdict))
    assert out.attempts == 2 and "cut off by the max_tokens limit" in server.bodies[1]["messages"][-1]["content"]


def test_refused_asks_count_in_usage_and_in_the_stage_budget(make_client: Build, server: FakeServer) -> None:
    meter = UsageMeter(stage_budgets={"teacher": 170})
    server.replies = [completion("not json", prompt_tokens=20, completion_tokens=5),
                      completion(VERDICT, prompt_tokens=140, completion_tokens=10)]
    client = make_client(usage=meter)
    out = asyncio.run(client.structured(request(stage="teacher", max_tokens=8), Verdict))
    assert out.attempts == 2 and (out.response.usage.prompt_tokens, out.response.usage.completion_tokens) == (140, 10)
    assert (out.usage.prompt_tokens, out.usage.completion_tokens) == (160, 15)
    spent = meter.stage("teacher")
    assert (spent.calls, spent.prompt_tokens, spent.completion_tokens) == (2, 160, 15)
    # The accepted ask alone (150) would leave room for the next call's worst case (a short prompt + 8);
    # with the refused ask's 25 counted, 175 of 170 are spent and the call is refused before it is sent.
    with pytest.raises(BudgetExceeded) as info:
        asyncio.run(client.structured(request(stage="teacher", max_tokens=8), Verdict))
    assert info.value.used == 175 and len(server.bodies) == 2


def test_a_call_that_never_validates_reports_what_each_ask_spent(make_client: Build, server: FakeServer) -> None:
    meter = UsageMeter()
    server.replies = [completion("no", prompt_tokens=10 * n, completion_tokens=n) for n in (1, 2, 3)]
    with pytest.raises(UnexpectedModelBehavior) as info:
        asyncio.run(make_client(usage=meter, max_reasks=2).structured(request(stage="teacher"), Verdict))
    spent = usage_of_attempts(info.value.attempts)
    assert (spent.prompt_tokens, spent.completion_tokens) == (60, 6)
    assert meter.stage("teacher").total_tokens == 66 and meter.stage("teacher").calls == 3
