"""A teacher spec's sampling settings reach every task's requests, below what a task itself needs."""

from __future__ import annotations

import asyncio
import math

from edtune.llm.base import ChatRequest, ChatResponse, TokenLogprob
from edtune.llm.scripted import ScriptedClient
from edtune.records import Sample, StudentOutput
from edtune.specs import SamplingParams
from edtune.teacher.annotate import SkillAnnotator
from edtune.teacher.answer_switch import AnswerSwitchLocator
from edtune.teacher.direct import DirectLocator, DirectOptions
from edtune.teacher.per_step import PerStepLocator
from edtune.teacher.skills import SkillAnalyzer

SPEC = SamplingParams(temperature=0.7, max_tokens=300, seed=11)


class GoldFirstClient(ScriptedClient):
    """Always puts the gold letter B first in the first token's logprobs (answer-switch never switches)."""

    async def chat(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        top = {"B": math.log(0.8), "A": math.log(0.1), "C": math.log(0.1)}
        return ChatResponse(text="B", model="scripted", logprobs=[TokenLogprob(token="B", logprob=top["B"], top=top)])


def settings(request: ChatRequest) -> tuple[float, int | None, int | None]:
    return request.temperature, request.max_tokens, request.seed


def test_every_task_sends_the_spec_settings(sample: Sample, student: StudentOutput) -> None:
    direct = ScriptedClient(['{"step": 2, "reason": "two circles"}'])
    asyncio.run(DirectLocator(direct, sampling=SPEC).locate(sample, student))
    per_step = ScriptedClient(['{"correct": true, "reason": "ok"}', '{"correct": false, "reason": "no"}'])
    asyncio.run(PerStepLocator(per_step, sampling=SPEC).locate(sample, student))
    skills = ScriptedClient(['{"skills": ["counting"]}'])
    asyncio.run(SkillAnalyzer(skills, sampling=SPEC).analyse(sample, student, step=2))
    annotate = ScriptedClient(['{"skills": ["counting"]}'])
    asyncio.run(SkillAnnotator(annotate, sampling=SPEC).annotate(sample))
    requests = [*direct.requests, *per_step.requests, *skills.requests, *annotate.requests]
    assert len(requests) == 5 and {settings(r) for r in requests} == {(0.7, 300, 11)}


def test_a_tasks_own_needs_beat_the_spec(sample: Sample, student: StudentOutput) -> None:
    switch = GoldFirstClient([])
    asyncio.run(AnswerSwitchLocator(switch, sampling=SPEC).locate(sample, student))
    # Answer-switch reads one token's logprobs: its max_tokens 1 and logprobs win, the rest is the spec's.
    assert switch.requests and all(settings(r) == (0.7, 1, 11) and r.logprobs and r.top_logprobs == 20
                                   for r in switch.requests)
    capped = ScriptedClient(['{"step": 2, "reason": "two circles"}'])
    asyncio.run(DirectLocator(capped, DirectOptions(max_tokens=40), sampling=SPEC).locate(sample, student))
    assert settings(capped.requests[0]) == (0.7, 40, 11)


def test_without_a_spec_requests_keep_their_defaults(sample: Sample, student: StudentOutput) -> None:
    client = ScriptedClient(['{"step": 2, "reason": "two circles"}'])
    asyncio.run(DirectLocator(client).locate(sample, student))
    assert settings(client.requests[0]) == (0.0, None, None)
    assert SamplingParams().request_fields() == {"temperature": 0.0}
