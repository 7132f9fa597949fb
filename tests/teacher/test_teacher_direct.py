"""Direct localisation: valid replies, out-of-range indices re-asked, failures with evidence."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from PIL import Image

from edtune.errors import TemplateError
from edtune.llm.scripted import ScriptedClient
from edtune.records import Sample, StudentOutput
from edtune.teacher.direct import DirectLocator, DirectOptions
from edtune.teacher.records import DirectEvidence
from edtune.templates import load_template


def _text(client: ScriptedClient, call: int = 0) -> str:
    return "\n".join(str(m.content) for m in client.requests[call].messages)


def test_valid_reply_is_located_with_template_stamp(sample: Sample, student: StudentOutput) -> None:
    client = ScriptedClient(['{"step": 2, "reason": "there are two red circles"}'])
    location = asyncio.run(DirectLocator(client).locate(sample, student))
    template = load_template("first_wrong_step")
    assert (location.step, location.outcome, location.method, location.n_steps) == (2, "found", "direct", 3)
    assert location.reason == "there are two red circles"
    assert (location.template, location.template_hash) == ("first_wrong_step", template.hash)
    assert location.teacher == "scripted/scripted" and location.calls == 1 and location.usage.completion_tokens > 0
    request = client.requests[0]
    assert (request.template_name, request.template_hash, request.stage) == (
        "first_wrong_step", template.hash, "teacher.localise")
    text = _text(client)
    assert "Step 2: I see one red circle.\nStep 3: So there is 1 red circle." in text
    assert "(B) 2" in text and "Correct answer: 2" in text and "from 1 to 3" in text
    assert "two red circles and a blue square" in text


def test_out_of_range_step_is_reasked_then_accepted(sample: Sample, student: StudentOutput) -> None:
    client = ScriptedClient(['{"step": 4, "reason": "x"}', '{"step": 2, "reason": "y"}'])
    location = asyncio.run(DirectLocator(client).locate(sample, student))
    assert location.step == 2 and location.outcome == "found" and location.calls == 2
    assert isinstance(location.evidence, DirectEvidence) and location.evidence.attempts == 2
    feedback = str(client.requests[1].messages[-1].content)
    assert "step" in feedback and "3" in feedback
    assert client.requests[1].messages[-2].content == '{"step": 4, "reason": "x"}'


def test_never_in_range_fails_with_every_reply_as_evidence(sample: Sample, student: StudentOutput) -> None:
    replies = ['{"step": 0, "reason": "a"}', '{"step": 9, "reason": "b"}', "step two"]
    client = ScriptedClient(replies, max_reasks=2)
    location = asyncio.run(DirectLocator(client).locate(sample, student))
    assert location.outcome == "failed" and location.step is None and location.calls == 3
    assert location.failure is not None
    assert [a.raw for a in location.failure.attempts] == replies
    assert "greater than or equal to 1" in location.failure.attempts[0].error


def test_no_steps_means_no_call(sample: Sample) -> None:
    client = ScriptedClient([])
    empty = StudentOutput(sample_id="s1", raw_text="1", steps=[], answer="1")
    location = asyncio.run(DirectLocator(client).locate(sample, empty))
    assert (location.outcome, location.failure) == ("no_steps", None)
    assert location.calls == 0 and client.requests == []


def test_images_sent_to_a_vlm_teacher_only(tmp_path: Path, student: StudentOutput) -> None:
    Image.new("RGB", (4, 4), "white").save(tmp_path / "scene.png")
    sample = Sample(id="s1", images=["scene.png"], question="How many?", choices=["1", "2"], answer="2")
    reply = '{"step": 1, "reason": "r"}'
    vlm = ScriptedClient([reply])
    asyncio.run(DirectLocator(vlm, image_root=tmp_path).locate(sample, student))
    parts = vlm.requests[0].messages[1].content
    assert isinstance(parts, list) and parts[0].type == "image_url"
    assert parts[0].image_url is not None and parts[0].image_url.startswith("data:image/png;base64,")
    text_only = ScriptedClient([reply])
    asyncio.run(DirectLocator(text_only, DirectOptions(images=False)).locate(sample, student))
    assert isinstance(text_only.requests[0].messages[1].content, str)


def test_template_of_another_task_is_refused() -> None:
    with pytest.raises(TemplateError, match="is for task 'step_check'"):
        DirectLocator(ScriptedClient([]), template=load_template("step_check"))
