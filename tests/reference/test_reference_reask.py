"""The reference teacher answers edtune's re-asks: the structured retry that appends the refused reply
and the validation error, so the last user message no longer holds the task."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from reference_helpers import REPO_ROOT, corrupted

from edtune.bench.reference import RunningServer, WorldIndex, reference_teacher
from edtune.bench.reference.parse import parse_request
from edtune.bench.shapes import ShapesWorld, first_wrong_step_of
from edtune.llm.openai_client import OpenAICompatibleClient
from edtune.teacher import DirectLocator, SkillAnalyzer


@pytest.fixture(scope="module")
def server(index: WorldIndex) -> Iterator[RunningServer]:
    with reference_teacher(index) as running:
        yield running


def _garbling_client(server: RunningServer, garbled: int) -> tuple[OpenAICompatibleClient, list[dict[str, object]]]:
    """A client whose first `garbled` replies have their content replaced by prose (forcing re-asks)."""
    upstream, sent = httpx2.Client(), []

    def handler(request: httpx2.Request) -> httpx2.Response:
        reply = upstream.post(str(request.url), content=request.content, headers={"content-type": "application/json"})
        body = reply.json()
        sent.append(body)
        if len(sent) <= garbled and reply.status_code == 200:
            body["choices"][0]["message"]["content"] = "I think it is probably the second one."
        return httpx2.Response(reply.status_code, json=body)

    transport = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    client = OpenAICompatibleClient(server.model, server.base_url, provider="reference", http_client=transport,
                                    max_retries=0, api_key_env="EDTUNE_REFERENCE_TEST_KEY")
    return client, sent


@pytest.mark.parametrize("garbled", [1, 2])
def test_a_reasked_localisation_is_answered(server: RunningServer, world: ShapesWorld, world_dir: Path,
                                            garbled: int) -> None:
    sample = world.pool[0]
    student = corrupted(sample, 2)
    client, sent = _garbling_client(server, garbled)
    located = asyncio.run(DirectLocator(client, project_dir=REPO_ROOT, image_root=world_dir).locate(sample, student))
    truth = first_wrong_step_of(sample, student)
    assert truth is not None
    assert located.outcome == "found" and located.step == truth.step and located.calls == garbled + 1
    assert all("error" not in body for body in sent)


def test_a_reasked_skill_analysis_is_answered(server: RunningServer, world: ShapesWorld, world_dir: Path) -> None:
    sample = world.pool[1]
    client, _ = _garbling_client(server, 1)
    analysis = asyncio.run(SkillAnalyzer(client, project_dir=REPO_ROOT, image_root=world_dir)
                           .analyse(sample, corrupted(sample, 1), 1))
    assert analysis.outcome == "found" and analysis.calls == 2


def test_only_a_trailing_reply_and_message_make_a_reask() -> None:
    schema = {"type": "json_schema", "json_schema": {"name": "FirstWrongStep", "schema": {}}}
    plain = parse_request({"messages": [{"role": "user", "content": "task"}], "response_format": schema})
    reask = parse_request({"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "task"},
                                        {"role": "assistant", "content": "prose"},
                                        {"role": "user", "content": "Invalid output"}], "response_format": schema})
    assert plain.reasked_text is None and plain.text == "task"
    assert reask.reasked_text == "task" and reask.text == "Invalid output"
