"""A teacher result counts the tokens of every ask, the refused ones included."""

from __future__ import annotations

import asyncio

from edtune.llm.scripted import ScriptedClient
from edtune.records import Sample, StudentOutput
from edtune.teacher.direct import DirectLocator
from edtune.teacher.skills import SkillAnalyzer

REFUSED = "the second step is wrong I think"
"""Seven words of chatter instead of JSON (ScriptedClient counts one completion token per word)."""


def prompt_words(client: ScriptedClient) -> int:
    return sum(len(str(m.content).split()) for r in client.requests for m in r.messages)


def test_a_reasked_location_counts_both_asks(sample: Sample, student: StudentOutput) -> None:
    accepted = '{"step": 2, "reason": "miscounted"}'
    client = ScriptedClient([REFUSED, accepted])
    location = asyncio.run(DirectLocator(client).locate(sample, student))
    assert location.outcome == "found" and location.calls == 2
    assert location.usage.completion_tokens == 7 + len(accepted.split())
    assert location.usage.prompt_tokens == prompt_words(client)


def test_a_failed_analysis_counts_what_its_asks_spent(sample: Sample, student: StudentOutput) -> None:
    client = ScriptedClient([REFUSED] * 3)
    analysis = asyncio.run(SkillAnalyzer(client).analyse(sample, student, step=2))
    assert analysis.outcome == "failed" and analysis.calls == 3
    assert analysis.usage.completion_tokens == 3 * 7
    assert analysis.usage.prompt_tokens == prompt_words(client)
