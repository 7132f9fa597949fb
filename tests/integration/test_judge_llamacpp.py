"""The LLM judge against real servers (llama.cpp, vLLM; SmolLM2-135M), built from a spec string as a user would.

Checks the protocol path (template rendered, schema-constrained verdict validated, judgments returned in
order, nothing leaked into `error`), never whether a 135M model grades well.
"""

from __future__ import annotations

import pytest

from edtune.judging import summarize
from edtune.judging.llm import LLMJudge
from edtune.llm.openai_client import OpenAICompatibleClient
from edtune.records import Sample, StudentOutput
from edtune.servers import Served
from edtune.specs import build_judge

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

PAIRS = [
    (Sample(id="a", question="How many circles are in the image?", answer="2"), "two"),
    (Sample(id="b", question="What colour is the square?", answer="red"), "blue"),
    (Sample(id="c", question="Which shape is largest?", choices=["circle", "square", "triangle"],
            answer="square"), "(B) square"),
    (Sample(id="d", question="Is there a triangle?", answer="yes"), "Yes, there is one."),
]


async def test_llm_judge_from_a_spec_string_returns_schema_valid_verdicts(served: Served,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLAMACPP_API_KEY", raising=False)
    monkeypatch.delenv("VLLM_API_KEY", raising=False)
    judge = build_judge(served.spec)
    assert isinstance(judge, LLMJudge)
    samples = [sample for sample, _ in PAIRS]
    outputs = [StudentOutput(sample_id=s.id, raw_text=f"Answer: {text}", answer=text) for s, text in PAIRS]
    judgments = await judge.judge(samples, outputs)
    assert [j.sample_id for j in judgments] == ["a", "b", "c", "d"]
    assert {j.judge for j in judgments} == {f"{served.provider}/{served.model}"}
    summary = summarize(judgments)
    # json_schema reaches llama.cpp's grammar, so every verdict validates: nothing unparseable, no errors.
    assert summary.unscored == 0, [j.reason for j in judgments]
    assert all(j.reason for j in judgments)
    assert isinstance(judge.client, OpenAICompatibleClient)
    await judge.client.close()
