"""The LLM judge on the scripted client: verdicts, every failure of the judge ending unscored (never wrong)
and retried, and an empty student answer counted wrong."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import pytest

from edtune.errors import ProviderError, TemplateError
from edtune.judging import judge_sync, summarize
from edtune.judging.llm import LLMJudge, looks_like_refusal
from edtune.llm.base import ChatRequest, ChatResponse, M, Structured, StructuredMode
from edtune.llm.scripted import ScriptedClient
from edtune.records import Sample, StudentOutput
from edtune.templates import load_template, parse_template

SAMPLE = Sample(id="q1", question="How many circles are there?", answer="2")
ANSWER = StudentOutput(sample_id="q1", raw_text="Step 1: I see two.\nAnswer: two", steps=["I see two."],
                       answer="two")


def verdict(value: str, reason: str = "same number") -> str:
    return json.dumps({"reason": reason, "verdict": value})


def test_valid_verdicts_become_judgments_with_the_reason() -> None:
    client = ScriptedClient([verdict("correct"), verdict("incorrect", "3 is not 2")])
    judge = LLMJudge(client, concurrency=1)
    other = SAMPLE.model_copy(update={"id": "q2"})
    wrong = StudentOutput(sample_id="q2", raw_text="Answer: 3", answer="3")
    first, second = judge_sync(judge, [SAMPLE, other], [ANSWER, wrong])
    assert (first.outcome, first.reason, first.judge) == ("correct", "same number", "scripted/scripted")
    assert (second.outcome, second.reason) == ("incorrect", "3 is not 2")


def test_requests_carry_stage_template_and_the_pair() -> None:
    client = ScriptedClient([verdict("correct")])
    asyncio.run(LLMJudge(client, max_tokens=64, seed=3).judge([SAMPLE], [ANSWER]))
    request = client.requests[0]
    template = load_template("judge_equivalence")
    assert (request.stage, request.template_name, request.template_hash) == ("judge", template.name, template.hash)
    assert (request.temperature, request.max_tokens, request.seed) == (0.0, 64, 3)
    user = str(request.messages[-1].content)
    assert "How many circles are there?" in user and "Reference answer: 2" in user and "Student answer: two" in user


def test_choices_are_shown_to_the_judge_with_letters() -> None:
    client = ScriptedClient([verdict("correct")])
    mc = Sample(id="q1", question="Colour?", choices=["red", "blue"], answer="blue")
    judge_sync(LLMJudge(client), [mc], [StudentOutput(sample_id="q1", raw_text="B", answer="B")])
    assert "(A) red\n(B) blue" in str(client.requests[0].messages[-1].content)


def test_garbage_is_unscored_invalid_after_reasks_never_incorrect() -> None:
    client = ScriptedClient(["looks right to me", '{"verdict": "maybe"}', "```correct```"], max_reasks=2)
    (judgment,) = judge_sync(LLMJudge(client), [SAMPLE], [ANSWER], retries=0)
    assert judgment.outcome == "unscored"
    assert judgment.reason is not None and judgment.reason.startswith("invalid:")
    assert "```correct```" in judgment.reason  # the last raw output is kept as evidence
    assert len(client.requests) == 3
    summary = summarize([judgment])
    assert (summary.incorrect, summary.unscored, summary.unscored_reasons) == (0, 1, {"invalid": 1})


def test_refusal_is_unscored_refused() -> None:
    refusal = "I'm sorry, but I can't help with grading this."
    (judgment,) = judge_sync(LLMJudge(ScriptedClient([refusal] * 3)), [SAMPLE], [ANSWER], retries=0)
    assert judgment.outcome == "unscored"
    assert judgment.reason is not None and judgment.reason.startswith("refused:")
    for text in ("  I cannot assess that.", "As an AI, I won't", "I'm unable to grade this", "Sorry, no.",
                 "I am not able to judge", "I must decline.", "I’m sorry"):
        assert looks_like_refusal(text), text
    for other in ('{"verdict": "correct"}', "Incorrect, the count differs", "I think it is correct", None):
        assert not looks_like_refusal(other), other


def test_client_failure_is_unscored_error() -> None:
    def down(request: ChatRequest) -> str:
        raise ProviderError("server error after retries", status=503, body="overloaded", tries=6)

    (judgment,) = judge_sync(LLMJudge(ScriptedClient(down)), [SAMPLE], [ANSWER])
    assert judgment.outcome == "unscored"
    assert judgment.reason == "error: server error after retries (HTTP 503, 6 tries)"


def test_empty_student_output_is_incorrect_without_a_call() -> None:
    client = ScriptedClient([])
    empty = StudentOutput(sample_id="q1", raw_text="   ")
    (judgment,) = judge_sync(LLMJudge(client), [SAMPLE], [empty])
    assert (judgment.outcome, client.requests) == ("incorrect", [])
    assert judgment.reason is not None and judgment.reason.startswith("unparseable:")


def test_a_judge_failure_is_retried_and_stays_unscored_only_if_it_fails_again() -> None:
    calls: list[str] = []

    def flaky(request: ChatRequest) -> str:
        calls.append(str(request.messages[-1].content))
        if len(calls) == 1:
            raise ProviderError("server error after retries", status=503, body="overloaded", tries=6)
        return verdict("correct")

    (judgment,) = judge_sync(LLMJudge(ScriptedClient(flaky)), [SAMPLE], [ANSWER])
    assert (judgment.outcome, len(calls)) == ("correct", 2)

    def down(request: ChatRequest) -> str:
        calls.append("down")
        raise ProviderError("server error after retries", status=503, body="overloaded", tries=6)

    other = SAMPLE.model_copy(update={"id": "q2"})
    answered = StudentOutput(sample_id="q2", raw_text="Answer: 2", answer="2")
    judged = judge_sync(LLMJudge(ScriptedClient(down)), [SAMPLE, other], [ANSWER, answered], retries=2)
    assert [j.outcome for j in judged] == ["unscored", "unscored"] and calls.count("down") == 6
    assert [j.sample_id for j in judged] == ["q1", "q2"]


class GatedClient:
    """Counts calls in flight; each call yields to the loop so that concurrent calls overlap."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0
        self.inner = ScriptedClient(lambda request: verdict("correct"))

    @property
    def name(self) -> str:
        return "gated/test"

    async def chat(self, request: ChatRequest) -> ChatResponse:
        return await self.inner.chat(request)

    async def structured(self, request: ChatRequest, output: type[M], *, mode: StructuredMode | None = None,
                         context: Mapping[str, Any] | None = None) -> Structured[M]:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        for _ in range(3):
            await asyncio.sleep(0)
        self.in_flight -= 1
        return await self.inner.structured(request, output, mode=mode, context=context)


def test_concurrency_is_bounded_and_order_kept() -> None:
    client = GatedClient()
    samples = [SAMPLE.model_copy(update={"id": f"q{i}"}) for i in range(10)]
    outputs = [ANSWER.model_copy(update={"sample_id": f"q{i}"}) for i in range(10)]
    judgments = judge_sync(LLMJudge(client, concurrency=3), samples, outputs)
    assert client.peak == 3
    assert [j.sample_id for j in judgments] == [f"q{i}" for i in range(10)]


def test_a_template_for_another_task_is_refused() -> None:
    other = parse_template(b'+++\nname = "x"\ndescription = "d"\ntask = "skills"\n+++\n=== user ===\nhi\n',
                           origin="x.jinja")
    with pytest.raises(TemplateError, match="for task 'skills'"):
        LLMJudge(ScriptedClient([]), template=other)
