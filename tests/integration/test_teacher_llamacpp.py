"""Every teacher task against a real llama.cpp server (SmolLM2-135M, text only).

Checks the protocol path, never the quality of a 135M model's answers: templates render, replies
validate against the (bounded) output models or fail with evidence, answer-switch gets first-token
logprobs over the option letters, and annotation writes one valid record per sample.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edtune.llm.openai_client import OpenAICompatibleClient
from edtune.records import Sample, StudentOutput
from edtune.teacher import (
    AnnotateOptions,
    AnswerSwitchLocator,
    AnswerSwitchOptions,
    DirectLocator,
    DirectOptions,
    PerStepLocator,
    PerStepOptions,
    SkillAnalyzer,
    SkillAnnotator,
    SkillOptions,
    iter_results,
)
from edtune.teacher.records import AnswerSwitchEvidence, SkillAnnotation

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

SAMPLE = Sample(id="q1", question="How many red circles are in the picture?", choices=["1", "2", "3"], answer="2",
                metadata={"scene_text": "two red circles and one blue square"})
STUDENT = StudentOutput(sample_id="q1", raw_text="", answer="1",
                        steps=["I see a blue square.", "I see one red circle.", "So there is 1 red circle."])


async def test_direct_reply_is_a_step_in_range(llm: OpenAICompatibleClient) -> None:
    # The schema bounds the step (minimum/maximum) and the reason (maxLength), so llama.cpp's grammar
    # keeps even a rambling 135M model inside them and within max_tokens.
    location = await DirectLocator(llm, DirectOptions(images=False, max_tokens=200)).locate(SAMPLE, STUDENT)
    assert location.outcome == "found", location.failure
    assert location.step is not None and 1 <= location.step <= 3 and location.reason
    assert location.template == "first_wrong_step" and location.calls >= 1


async def test_per_step_verdicts_validate(llm: OpenAICompatibleClient) -> None:
    location = await PerStepLocator(llm, PerStepOptions(images=False, max_tokens=200)).locate(SAMPLE, STUDENT)
    assert location.outcome in {"found", "fallback"}, location.failure
    assert location.step is not None and 1 <= location.step <= 3


async def test_answer_switch_reads_option_letters_from_logprobs(llm: OpenAICompatibleClient) -> None:
    location = await AnswerSwitchLocator(llm, AnswerSwitchOptions(images=False)).locate(SAMPLE, STUDENT)
    assert location.outcome in {"found", "fallback"}, location.failure
    evidence = location.evidence
    assert isinstance(evidence, AnswerSwitchEvidence) and len(evidence.probabilities) == 4
    assert all(abs(sum(p.values()) - 1.0) < 1e-9 for p in evidence.probabilities)
    assert max(evidence.letters_seen) >= 1  # the letters do appear among the top alternatives


async def test_skill_analysis_and_annotation_validate(llm: OpenAICompatibleClient, tmp_path: Path) -> None:
    analysis = await SkillAnalyzer(llm, SkillOptions(images=False, max_tokens=80)).analyse(SAMPLE, STUDENT, 2)
    assert analysis.outcome == "found" or (analysis.failure is not None and analysis.failure.attempts)
    assert len(analysis.missing_skills) <= 1
    out = tmp_path / "skills.jsonl"
    pool = [SAMPLE, Sample(id="q2", question="Is the square left of the circle?", answer="yes")]
    annotator = SkillAnnotator(llm, AnnotateOptions(images=False, max_tokens=200, concurrency=2))
    report = await annotator.annotate_pool(pool, out)
    records = list(iter_results(out, SkillAnnotation))
    assert report.processed == 2 and sorted(r.sample_id for r in records) == ["q1", "q2"]
    assert all(1 <= len(r.required_skills) <= 5 for r in records if r.outcome == "found")
