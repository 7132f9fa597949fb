"""The mock provider: `mock/<name>` answers every teacher output with its smallest valid reply,
`mock/<file>.jsonl` with scripted replies by output name; both built from a spec string, with no server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from edtune.errors import ConfigError, DataError
from edtune.llm.base import ChatRequest, Message
from edtune.llm.concurrency import run_sync
from edtune.llm.mock import MockClient, minimal_value
from edtune.specs import build_judge, build_teacher_client, parse_spec_string
from edtune.teacher.preflight import PreflightReply
from edtune.teacher.records import FirstWrongStep, MissingSkills, RequiredSkills, StepVerdict, bounded_skills

REQUEST = ChatRequest(messages=[Message(role="user", content="Question: how many?")])


def ask(client: object, output: type[BaseModel]) -> tuple[BaseModel, int]:
    assert isinstance(client, MockClient)
    reply = run_sync(client.structured(REQUEST, output))
    return reply.value, reply.attempts


def test_a_mock_spec_string_needs_no_server() -> None:
    spec = parse_spec_string("mock/defaults")
    assert (spec.provider, spec.model, spec.base_url) == ("mock", "defaults", None)
    assert build_teacher_client("mock/defaults").name == "mock/defaults"
    with pytest.raises(ConfigError, match="takes no base_url"):
        parse_spec_string("mock/defaults@http://127.0.0.1:8000/v1")


@pytest.mark.parametrize("output", [PreflightReply, FirstWrongStep, StepVerdict, RequiredSkills,
                                    bounded_skills(MissingSkills, 3)])
def test_defaults_answer_every_teacher_output_at_the_first_ask(output: type[BaseModel]) -> None:
    value, attempts = ask(build_teacher_client("mock/defaults"), output)
    assert attempts == 1 and isinstance(value, output)


def test_minimal_values_respect_bounds() -> None:
    schema = {"type": "object", "required": ["n", "m", "s", "xs"], "properties": {
        "n": {"type": "integer", "minimum": 2}, "m": {"type": "integer", "maximum": -1},
        "s": {"type": "string", "minLength": 6, "maxLength": 6}, "xs": {"type": "array", "minItems": 2,
                                                                        "items": {"enum": ["b", "a"]}},
        "optional": {"type": "string"}}}
    assert minimal_value(schema) == {"n": 2, "m": -1, "s": "mockxx", "xs": ["b", "b"]}


def test_plain_requests_get_a_letter() -> None:
    reply = run_sync(build_teacher_client("mock/defaults").chat(REQUEST))
    assert reply.text == "A"


def _replies(tmp_path: Path, lines: list[dict[str, object]]) -> Path:
    path = tmp_path / "replies.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_a_replies_file_scripts_replies_by_output(tmp_path: Path) -> None:
    path = _replies(tmp_path, [
        {"output": "FirstWrongStep", "reply": "not json"},
        {"output": "FirstWrongStep", "reply": {"step": 2, "reason": "miscounted"}},
        {"output": None, "reply": "C"},
    ])
    client = build_teacher_client(f"mock/{path}")
    value, attempts = ask(client, FirstWrongStep)
    assert attempts == 2 and value == FirstWrongStep(step=2, reason="miscounted")  # the re-ask took line 2
    assert ask(client, FirstWrongStep) == (value, 1)  # the last reply is used again
    assert ask(client, StepVerdict)[0] == StepVerdict(correct=True)  # not in the file: the default
    assert run_sync(client.chat(REQUEST)).text == "C"


def test_replies_file_errors_name_the_file_and_row(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mock replies file not found"):
        build_teacher_client(f"mock/{tmp_path / 'missing.jsonl'}")
    path = _replies(tmp_path, [{"output": None, "reply": "A"}, {"output": "X", "reply": 3}])
    with pytest.raises(DataError) as caught:
        build_teacher_client(f"mock/{path}")
    assert caught.value.row == 2 and caught.value.field is not None and "reply" in caught.value.field


def test_a_mock_judge_from_a_spec_string() -> None:
    assert build_judge("mock/defaults").client.name == "mock/defaults"  # type: ignore[attr-defined]
