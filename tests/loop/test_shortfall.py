"""A missing skill no pool sample matches: its quota's fate is recorded (quotas.jsonl, metrics), said in the
run log as it happens, and shown in the report."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from edtune.jsonl import read_jsonl
from edtune.llm.base import ChatRequest
from edtune.llm.scripted import ScriptedClient
from edtune.loop import adapt
from edtune.loop.config import validate_config
from edtune.loop.rundir import RunDir
from edtune.loop.runlog import read_log
from edtune.report import build_report
from edtune.retrieval.select import SkillQuota
from loop.fakes import COUNTING_SKILL, FamilyStudent, teacher_reply

UNKNOWN = "zqxv glyph decoding"
"""A skill phrase sharing no term with any pool sample's required skills."""


def two_skill_teacher() -> ScriptedClient:
    """Names two missing skills per error: one the pool's counting samples carry, one no sample matches."""

    def script(request: ChatRequest) -> str:
        if request.template_name == "missing_skills":
            return json.dumps({"skills": [COUNTING_SKILL, UNKNOWN]})
        return teacher_reply(request)

    return ScriptedClient(script, model="teacher")


def test_a_skill_no_pool_sample_matches_is_logged_counted_and_reported(
        world: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = {"val": {"path": str(world / "counting_val.jsonl")}, "pool": {"path": str(world / "pool.jsonl")}}
    config = validate_config({"skills_per_error": 2, "teacher": "openai/t@http://127.0.0.1:9/v1", "data": data}, "test")
    with caplog.at_level(logging.WARNING, logger="edtune.run"):
        result = adapt(FamilyStudent(), world / "counting_val.jsonl", world / "pool.jsonl", teacher=two_skill_teacher(),
                       test=world / "counting_test.jsonl", budget=4, iterations=1, config=config,
                       run_dir=tmp_path / "run", show_bars=False)
    run = RunDir(result.run_dir)
    quotas = {q.skill: q for q in read_jsonl(run.file(1, "quotas.jsonl"), SkillQuota)}
    assert (quotas[UNKNOWN].quota, quotas[UNKNOWN].chosen, quotas[UNKNOWN].hits) == (2, 0, 0)
    assert quotas[COUNTING_SKILL].hits and quotas[COUNTING_SKILL].chosen == 4
    short = result.metrics.iterations[1].shortfall
    assert short is not None and [s.skill for s in short.skills] == [UNKNOWN]
    assert (short.unmet, short.given_to, short.unspent) == (2, {COUNTING_SKILL: 2}, 0)
    [line] = [line for line in read_log(run.root) if line.startswith("iteration ")]
    assert "iteration 1: 1 missing skill(s) got no pool sample: " in line
    assert f'"{UNKNOWN}" (named by 8 error(s), quota 2; no pool sample matches it)' in line
    assert "2 went to other skills and 0 were not selected" in line
    assert [r.getMessage() for r in caplog.records] == [f"{run.root}: {line}"]
    text = build_report(run.root).read_text()
    assert f"| error_driven | 0 | 1 | {UNKNOWN} (8, 2, 0) | 2 | {COUNTING_SKILL} +2 | 0 |" in text
