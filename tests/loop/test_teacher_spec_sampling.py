"""A run whose teacher is a spec file: the spec's `[params]` reach the wire in every teacher request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest

from edtune import specs
from edtune.jsonl import read_jsonl
from edtune.loop import adapt
from edtune.loop.rundir import RunDir
from edtune.teacher.records import SkillAnalysis, StepLocation
from loop.fakes import COUNTING_SKILL, FamilyStudent

SPEC = """provider = "openai-compatible"
model = "teacher-model"
base_url = "http://127.0.0.1:9/v1"

[params]
temperature = 0.4
max_tokens = 77
seed = 5
"""


def reply(body: dict[str, Any]) -> str:
    """A preflight, first-wrong-step or missing-skills answer, told apart by the schema the request
    constrains to."""
    properties = body["response_format"]["json_schema"]["schema"]["properties"]
    if body["response_format"]["json_schema"]["name"] == "PreflightReply":
        return '{"ok": true}'
    if "step" in properties:
        return '{"step": 1, "reason": "the count is wrong"}'
    return json.dumps({"skills": [COUNTING_SKILL]})


def test_spec_params_reach_every_teacher_request(world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bodies: list[dict[str, Any]] = []

    def server(request: httpx2.Request) -> httpx2.Response:
        bodies.append(body := json.loads(request.content))
        choice = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": reply(body)}}
        usage = {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}
        return httpx2.Response(200, json={"id": "c", "object": "chat.completion", "created": 0,
                                          "model": "teacher-model", "choices": [choice], "usage": usage})

    original = specs.build_teacher_client
    monkeypatch.setattr(specs, "build_teacher_client", lambda choice, **kw: original(
        choice, **kw, http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(server))))
    spec = tmp_path / "teacher.toml"
    spec.write_text(SPEC)
    result = adapt(FamilyStudent(), world / "counting_val.jsonl", world / "pool.jsonl", teacher=str(spec), budget=4,
                   iterations=1, run_dir=tmp_path / "run", show_bars=False)
    rd = RunDir(result.run_dir)
    located = read_jsonl(rd.file(1, "locations.jsonl"), StepLocation)
    assert len(located) == 8 and all(loc.step == 1 for loc in located)
    analyses = read_jsonl(rd.file(1, "skills.jsonl"), SkillAnalysis)
    assert len(analyses) == 8 and all(a.missing_skills == [COUNTING_SKILL] for a in analyses)
    assert len(bodies) == 2 + 16  # the preflight (reachable, images), then 8 locations and 8 analyses
    assert {(b["temperature"], b["max_tokens"], b["seed"]) for b in bodies} == {(0.4, 77, 5)}
