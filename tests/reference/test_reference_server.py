"""The HTTP surface: models list, logprobs shape, usage, text-only matching, and clear 400s."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reference_helpers import REPO_ROOT, corrupted, run_with_client

from edtune.bench.reference import RunningServer, WorldIndex, parse_request, reference_teacher
from edtune.bench.shapes import SKILLS, ShapesWorld
from edtune.judging.llm import LLMJudge
from edtune.llm.base import ChatRequest, ChatResponse, ContentPart, Message
from edtune.llm.images import image_data_uri
from edtune.llm.openai_client import OpenAICompatibleClient
from edtune.records import Sample, StudentOutput
from edtune.specs import build_judge, build_teacher_client
from edtune.teacher import DirectLocator, DirectOptions, SkillAnnotator
from edtune.teacher.annotate import AnnotateOptions
from edtune.teacher.records import StepLocation

PHRASE_SKILL = {phrase: name for name, info in SKILLS.items() for phrase in info.phrases}


@pytest.fixture(scope="module")
def server(index: WorldIndex) -> Iterator[RunningServer]:
    with reference_teacher(index) as running:
        yield running


def _post(server: RunningServer, body: Any) -> tuple[int, dict[str, Any]]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(f"{server.base_url}/chat/completions", data=data,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _switch_text(sample: Sample, steps: list[str]) -> str:
    options = "\n".join(f"({'ABC'[i]}) {c}" for i, c in enumerate(sample.choices or []))
    shown = "\n".join(f"Step {i}: {s}" for i, s in enumerate(steps, start=1))
    return f"Question: {sample.question}\nOptions:\n{options}\n{shown}\nReply with the letter only."


def _switch_messages(sample: Sample, world_dir: Path, steps: list[str]) -> list[Message]:
    parts = [ContentPart(type="image_url", image_url=image_data_uri(world_dir / sample.images[0])),
             ContentPart(type="text", text=_switch_text(sample, steps))]
    return [Message(role="user", content=parts)]


def test_models_endpoint_lists_the_served_name(server: RunningServer) -> None:
    with urllib.request.urlopen(f"{server.base_url}/models", timeout=10) as response:
        listed = json.loads(response.read())
    assert [m["id"] for m in listed["data"]] == [server.model] == ["edtune-reference"]


def test_logprobs_have_the_openai_shape(server: RunningServer, world: ShapesWorld, world_dir: Path) -> None:
    sample = next(s for s in world.pool if s.choices and len(s.choices) == 3)
    wrong = corrupted(sample, 2).steps

    async def job(client: OpenAICompatibleClient) -> list[ChatResponse]:
        asks = [ChatRequest(messages=_switch_messages(sample, world_dir, steps), logprobs=True, top_logprobs=top,
                            max_tokens=1) for steps, top in (([], 5), (wrong[:2], 2))]
        return [await client.chat(ask) for ask in asks]

    before, after = run_with_client(server.base_url, server.model, job)
    gold = "ABC"[(sample.choices or []).index(sample.answer)]
    assert before.text == gold and after.text != gold
    for response, top in ((before, 5), (after, 2)):
        assert response.logprobs is not None and len(response.logprobs) == 1
        first = response.logprobs[0]
        assert first.token == response.text and len(first.top) == top
        assert first.top[first.token] == max(first.top.values())
        assert response.usage.prompt_tokens > 0 and response.usage.completion_tokens == 1
    assert before.logprobs is not None and set(before.logprobs[0].top) >= {"A", "B", "C"}


def test_raw_response_body_of_answer_switch(server: RunningServer, world: ShapesWorld, world_dir: Path) -> None:
    sample = next(s for s in world.pool if s.choices)
    parts = [{"type": "image_url", "image_url": {"url": image_data_uri(world_dir / sample.images[0])}},
             {"type": "text", "text": _switch_text(sample, [])}]
    messages = [{"role": "user", "content": parts}]
    status, body = _post(server, {"model": "anything", "messages": messages, "logprobs": True, "top_logprobs": 20})
    assert status == 200
    content = body["choices"][0]["logprobs"]["content"]
    assert len(content) == 1 and len(content[0]["top_logprobs"]) == 20
    letters = {e["token"] for e in content[0]["top_logprobs"] if e["logprob"] > -20}
    assert letters == set("ABC"[: len(sample.choices or [])])
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]


def test_text_only_requests_match_by_question_and_options(server: RunningServer, world: ShapesWorld) -> None:
    unique = next(s for s in world.pool if s.metadata["skill"] == "size_comparison")
    shared = "How many objects are there?"
    assert sum(s.question == shared for s in world.pool) > 1

    counting = next(s for s in world.pool if s.question == shared)

    async def job(client: OpenAICompatibleClient) -> list[list[str]]:
        options = AnnotateOptions(images=False)
        annotator = SkillAnnotator(client, options, project_dir=REPO_ROOT)
        found = await annotator.annotate(unique)  # the question names two objects: one sample asks it
        shared_skills = await annotator.annotate(counting)  # many scenes, but the same skills
        return [found.required_skills, shared_skills.required_skills]

    phrases = run_with_client(server.base_url, server.model, job)
    named = [[PHRASE_SKILL[p] for p in row] for row in phrases]
    assert named == [unique.metadata["skills"], counting.metadata["skills"]]


def test_ambiguous_text_only_localisation_is_refused(server: RunningServer, world: ShapesWorld) -> None:
    sample = next(s for s in world.pool if s.question == "How many objects are there?")

    async def job(client: OpenAICompatibleClient) -> object:
        locator = DirectLocator(client, DirectOptions(images=False), project_dir=REPO_ROOT)
        return await locator.locate(sample, corrupted(sample, 1))

    location = run_with_client(server.base_url, server.model, job)
    # A 400 rejects that one request: the task records it as the sample's failure, with the server's reason.
    assert isinstance(location, StepLocation) and location.outcome == "failed" and location.failure is not None
    assert location.failure.attempts[0].error == "HTTP 400"
    assert "ambiguous" in location.failure.message and "send the image" in location.failure.message


@pytest.mark.parametrize(("body", "code", "phrase"), [
    ({"messages": [{"role": "user", "content": "Question: What is the capital of France?"}], "logprobs": True},
     "unmatched_question", "no line of the last user message is a question of the world"),
    ({"messages": [{"role": "user", "content": "Question: How many objects are there?"}]},
     "unknown_task", "plain request without logprobs"),
    ({"messages": [{"role": "user", "content": "hi"}], "response_format": {"type": "json_object"}},
     "unknown_task", "without a json_schema"),
    ({"messages": [{"role": "user", "content": "hi"}],
      "response_format": {"type": "json_schema", "json_schema": {"name": "Poem", "schema": {"type": "object"}}}},
     "unknown_task", "unknown output schema 'Poem'"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}]}],
      "logprobs": True}, "unmatched_image", "not a base64 data URI"),
    ({"messages": []}, "invalid_request", "no messages"),
])
def test_requests_it_cannot_answer_get_a_clear_400(server: RunningServer, body: dict[str, Any], code: str,
                                                   phrase: str) -> None:
    status, reply = _post(server, body)
    assert status == 400
    assert reply["error"]["code"] == code and phrase in reply["error"]["message"]
    assert reply["error"]["type"] == "invalid_request_error"


def test_an_image_outside_the_world_is_named_in_the_400(server: RunningServer, world: ShapesWorld,
                                                        tmp_path: Path) -> None:
    from PIL import Image

    sample = next(s for s in world.pool if s.choices)
    path = tmp_path / "other.png"
    Image.new("RGB", (48, 48), "white").save(path)
    text = f"Question: {sample.question}"
    parts = [{"type": "image_url", "image_url": {"url": image_data_uri(path)}}, {"type": "text", "text": text}]
    status, reply = _post(server, {"messages": [{"role": "user", "content": parts}], "logprobs": True})
    assert status == 400 and reply["error"]["code"] == "unmatched_image"
    assert "is no image of the world" in reply["error"]["message"]


def test_not_json_and_unknown_paths(server: RunningServer) -> None:
    status, reply = _post(server, b"{not json")
    assert status == 400 and "not JSON" in reply["error"]["message"]
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(f"{server.base_url}/completions", timeout=10)
    assert caught.value.code == 404


def test_parse_takes_the_last_numbered_run_of_steps_and_options() -> None:
    text = ("Example:\nStep 1: old\nStep 2: older\n(A) x\n(B) y\n"
            "Question: Q?\n(A) yes\n(B) no\nStep 1: first\nStep 2: second\nStep 4: skipped\n")
    parsed = parse_request({"messages": [{"role": "user", "content": text}], "logprobs": True})
    assert parsed.task == "answer_switch"
    assert parsed.steps() == ["first", "second"] and parsed.options() == ["yes", "no"]
    assert "Q?" in parsed.question_lines()


def test_spec_strings_reach_it_and_usage_is_counted_per_stage(server: RunningServer, world: ShapesWorld,
                                                              world_dir: Path) -> None:
    sample = next(s for s in world.val("counting"))
    spec = f"openai-compatible/{server.model}@{server.base_url}"

    async def job() -> tuple[str, int | None, int, int]:
        judge = build_judge(spec, project_dir=REPO_ROOT)
        judged = await judge.judge([sample], [StudentOutput(sample_id=sample.id, raw_text="", answer=sample.answer)])
        assert isinstance(judge, LLMJudge) and isinstance(judge.client, OpenAICompatibleClient)
        await judge.client.close()
        client = build_teacher_client(f"vllm/{server.model}@{server.base_url}", project_dir=REPO_ROOT)
        assert isinstance(client, OpenAICompatibleClient)
        located = await DirectLocator(client, project_dir=REPO_ROOT, image_root=world_dir).locate(
            sample, corrupted(sample, 2))
        stage = client.usage.stage("teacher.localise")
        await client.close()
        return judged[0].outcome, located.step, stage.prompt_tokens, stage.completion_tokens

    outcome, step, prompt_tokens, completion_tokens = asyncio.run(job())
    assert (outcome, step) == ("correct", 2)
    assert prompt_tokens > 64 and completion_tokens > 0  # one image (64) plus the prompt text
