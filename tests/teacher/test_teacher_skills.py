"""Skill analysis: phrase count and length enforced by re-asking; the wrong step shown to the teacher."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from edtune.errors import DataError, MalformedReply, ProviderError, RequestRejected
from edtune.llm.base import ChatRequest
from edtune.llm.scripted import ScriptedClient
from edtune.records import Sample, StudentOutput
from edtune.teacher.skills import SkillAnalyzer, SkillOptions


def test_default_count_is_one_and_extra_skills_are_reasked(sample: Sample, student: StudentOutput) -> None:
    client = ScriptedClient(['{"skills": ["counting", "colour naming"]}', '{"skills": ["counting  objects"]}'])
    analysis = asyncio.run(SkillAnalyzer(client).analyse(sample, student, step=2))
    assert analysis.missing_skills == ["counting objects"] and analysis.outcome == "found" and analysis.calls == 2
    assert (analysis.step, analysis.template, analysis.sample_id) == (2, "missing_skills", "s1")
    first = str(client.requests[0].messages[-1].content)
    assert "The first incorrect step is Step 2." in first and "Name the one skill" in first
    assert client.requests[0].template_hash == analysis.template_hash


def test_configured_count_allows_more(sample: Sample, student: StudentOutput) -> None:
    client = ScriptedClient(['{"skills": ["counting", "colour naming"]}'])
    analysis = asyncio.run(SkillAnalyzer(client, SkillOptions(count=2)).analyse(sample, student, step=None))
    assert analysis.missing_skills == ["counting", "colour naming"]
    text = str(client.requests[0].messages[-1].content)
    assert "up to 2 skills" in text and "first incorrect step" not in text


def test_sentence_instead_of_phrase_fails_with_evidence(sample: Sample, student: StudentOutput) -> None:
    long = '{"skills": ["the student should look much more carefully at every red shape"]}'
    analysis = asyncio.run(SkillAnalyzer(ScriptedClient([long] * 3)).analyse(sample, student, step=1))
    assert analysis.outcome == "failed" and analysis.missing_skills == []
    assert analysis.failure is not None and "at most 8 words" in analysis.failure.attempts[0].error


def test_step_out_of_range_is_a_data_error(sample: Sample, student: StudentOutput) -> None:
    with pytest.raises(DataError, match=r"outside 1\.\.3"):
        asyncio.run(SkillAnalyzer(ScriptedClient([])).analyse(sample, student, step=4))


def _raising(exc: Exception) -> Callable[[ChatRequest], str]:
    def script(request: ChatRequest) -> str:
        raise exc

    return script


def test_a_rejected_request_is_that_samples_failure(sample: Sample, student: StudentOutput) -> None:
    rejected = RequestRejected("HTTP 400 after 1 tries", status=400, body='{"error": "no step to analyse"}')
    analysis = asyncio.run(SkillAnalyzer(ScriptedClient(_raising(rejected))).analyse(sample, student, step=1))
    assert analysis.outcome == "failed" and analysis.failure is not None
    assert analysis.failure.attempts[0].raw == '{"error": "no step to analyse"}'
    assert analysis.failure.attempts[0].error == "HTTP 400"


def test_a_malformed_reply_after_retries_is_that_samples_failure(sample: Sample, student: StudentOutput) -> None:
    malformed = MalformedReply("malformed reply after 6 tries", status=200, body='{"skills": ["coun', tries=6)
    analysis = asyncio.run(SkillAnalyzer(ScriptedClient(_raising(malformed))).analyse(sample, student, step=1))
    assert analysis.outcome == "failed" and analysis.failure is not None
    assert analysis.failure.attempts[0].raw == '{"skills": ["coun'
    assert analysis.failure.attempts[0].error == "malformed reply, 6 tries"


def test_other_provider_errors_still_stop_the_stage(sample: Sample, student: StudentOutput) -> None:
    broken = ProviderError("HTTP 401 after 1 tries", status=401)
    with pytest.raises(ProviderError, match="401"):
        asyncio.run(SkillAnalyzer(ScriptedClient(_raising(broken))).analyse(sample, student, step=1))
