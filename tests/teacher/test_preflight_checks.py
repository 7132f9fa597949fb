"""The preflight checks against a fake server, through the real `openai` client: what each failure is
called, with its evidence; and the template a project without its own copy still finds."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import httpx2
import pytest

from edtune.llm.openai_client import OpenAICompatibleClient
from edtune.teacher.preflight import CheckResult, preflight_template, run_checks

Reply = Callable[[dict[str, object]], httpx2.Response]


def ok(body: dict[str, object], *, logprobs: bool = True) -> httpx2.Response:
    choice: dict[str, object] = {"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": '{"ok": true}'}}
    if body.get("logprobs") and logprobs:
        top = [{"token": "{", "logprob": -0.01}, {"token": " {", "logprob": -5.0}]
        choice["logprobs"] = {"content": [{"token": "{", "logprob": -0.01, "top_logprobs": top}]}
    return httpx2.Response(200, json={"id": "c", "object": "chat.completion", "created": 0, "model": "m",
                                      "choices": [choice], "usage": {"prompt_tokens": 5, "completion_tokens": 3,
                                                                     "total_tokens": 8}})


def checks(reply: Reply, *asked: str) -> tuple[list[CheckResult], list[dict[str, object]]]:
    bodies: list[dict[str, object]] = []

    def serve(request: httpx2.Request) -> httpx2.Response:
        bodies.append(body := json.loads(request.content))
        return reply(body)

    async def go() -> list[CheckResult]:
        client = OpenAICompatibleClient("m", "http://127.0.0.1:9/v1", max_retries=1,
                                        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(serve)))
        try:
            return await run_checks(client, list(asked))  # type: ignore[arg-type]
        finally:
            await client.close()

    return asyncio.run(go()), bodies


def test_every_check_passes_against_a_capable_server_and_counts_its_calls() -> None:
    results, bodies = checks(ok, "images", "logprobs")
    assert [(r.check, r.passed, r.calls, r.usage.total_tokens) for r in results] == [
        ("reachable", True, 1, 8), ("images", True, 1, 8), ("logprobs", True, 1, 8)]
    assert all(b["response_format"]["json_schema"]["name"] == "PreflightReply" for b in bodies)  # type: ignore[index]
    assert bodies[1]["messages"][1]["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")  # type: ignore[index]
    assert (bodies[2]["logprobs"], bodies[2]["top_logprobs"]) == (True, 20)


@pytest.mark.parametrize(("status", "failure"), [(401, "auth"), (404, "not_found"), (400, "rejected"),
                                                 (503, "server_error")])
def test_a_failed_reachable_check_is_named_and_ends_the_preflight(status: int, failure: str) -> None:
    results, bodies = checks(lambda body: httpx2.Response(status, json={"error": {"message": "nope"}}), "images")
    assert [(r.check, r.passed, r.failure, r.status) for r in results] == [("reachable", False, failure, status)]
    assert "nope" in (results[0].body or "") and len(bodies) == results[0].tries


def test_a_text_only_server_and_one_without_logprobs() -> None:
    def text_only(body: dict[str, object]) -> httpx2.Response:
        if any(isinstance(m["content"], list) for m in body["messages"]):  # type: ignore[attr-defined, index]
            return httpx2.Response(500, json={"error": {"message": "image input is not supported"}})
        return ok(body, logprobs=False)

    results, bodies = checks(text_only, "images", "logprobs")
    assert [(r.check, r.passed, r.failure) for r in results] == [
        ("reachable", True, None), ("images", False, "unsupported_input"), ("logprobs", False, "no_logprobs")]
    assert results[1].tries == 1 and len(bodies) == 3  # the unsupported image is not retried


def test_a_project_without_its_own_preflight_template_uses_edtunes(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    template = preflight_template(tmp_path)
    assert template.name == "preflight" and template.meta.output == "PreflightReply"
