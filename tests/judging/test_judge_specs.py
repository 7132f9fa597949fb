"""Choosing judges and teachers by one string or a spec file: parsing, validation, building, no secrets."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest

from edtune.errors import ConfigError
from edtune.judging import judge_sync
from edtune.judging.exact import ExactJudge
from edtune.judging.llm import LLMJudge
from edtune.judging.numeric import NumericJudge
from edtune.records import Sample, StudentOutput
from edtune.specs import (
    ModelSpec,
    RuleJudgeSpec,
    build_judge,
    build_teacher_client,
    load_spec,
    load_spec_file,
    parse_spec_string,
    spec_file_names,
)

SECRET = "sk-test-never-print-9d1e"
JUDGES = Path(__file__).resolve().parents[2] / "judges"


@pytest.mark.parametrize(("text", "provider", "model", "base_url", "key_env"), [
    ("openai/gpt-4o-mini", "openai", "gpt-4o-mini", None, "OPENAI_API_KEY"),
    ("vllm/Qwen/Qwen2.5-7B-Instruct@http://127.0.0.1:8000/v1", "vllm", "Qwen/Qwen2.5-7B-Instruct",
     "http://127.0.0.1:8000/v1", "VLLM_API_KEY"),
    ("vllm/tiny", "vllm", "tiny", "http://127.0.0.1:8000/v1", "VLLM_API_KEY"),
    ("llamacpp/smollm2-135m", "llamacpp", "smollm2-135m", "http://127.0.0.1:8080/v1", "LLAMACPP_API_KEY"),
    ("openai-compatible/smollm2@https://llm.example.com:8443/v1/", "openai-compatible", "smollm2",
     "https://llm.example.com:8443/v1", "OPENAI_API_KEY"),
])
def test_spec_strings_parse(text: str, provider: str, model: str, base_url: str | None, key_env: str) -> None:
    spec = parse_spec_string(text)
    assert (spec.provider, spec.model, spec.base_url, spec.key_env) == (provider, model, base_url, key_env)
    assert parse_spec_string(spec.spec_string) == spec


@pytest.mark.parametrize(("text", "problem"), [
    ("openai", "expected <provider>/<model>"),
    ("openai/", "expected <provider>/<model>"),
    ("scripted/replies", "scripted clients are built in code"),
    ("anthropic/claude", "unknown provider 'anthropic'"),
    ("openai-compatible/x", "needs a base_url"),
    ("vllm/m@ftp://host/v1", "field 'base_url': must be an http(s) URL"),
    ("vllm/m@localhost:8000", "field 'base_url': must be an http(s) URL"),
    ("vllm/m@", "field 'base_url'"),
    ("vllm/my model", "field 'model'"),
])
def test_bad_spec_strings_name_the_string(text: str, problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_spec_string(text)
    message = str(info.value)
    assert f"bad model spec '{text}'" in message and problem in message


def test_credentials_in_a_url_are_refused_without_being_echoed() -> None:
    with pytest.raises(ConfigError, match="must not carry credentials") as info:
        parse_spec_string(f"vllm/m@http://user:{SECRET}@10.0.0.5/v1")
    assert SECRET not in str(info.value) and "//***@" in str(info.value)


def test_example_spec_files_validate() -> None:
    assert spec_file_names() == ["llamacpp-local", "numeric-loose", "openai-hosted", "vllm-local"]
    vllm = load_spec("vllm-local")
    assert isinstance(vllm, ModelSpec)
    assert (vllm.provider, vllm.mode, vllm.concurrency, vllm.params.max_tokens) == ("vllm", "structured_outputs",
                                                                                     32, 256)
    llama = load_spec(str(JUDGES / "llamacpp-local.toml"))
    assert isinstance(llama, ModelSpec) and llama.spec_string == "llamacpp/smollm2-135m@http://127.0.0.1:8080/v1"
    hosted = load_spec("openai-hosted.toml")
    assert isinstance(hosted, ModelSpec) and hosted.params.seed == 0 and hosted.base_url is None
    assert load_spec("numeric-loose") == RuleJudgeSpec(rule="numeric", options={"abs_tol": 0.5, "rel_tol": 0.0})


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("body", "field"), [
    ('provider = "vllm"\nmodel = "m"\ntemprature = 0.2\n', "field 'temprature': Extra inputs are not permitted"),
    ('provider = "vllm"\nmodel = "m"\n[params]\ntop_p = 0.9\n', "field 'params.top_p': Extra inputs"),
    ('model = "m"\n', "field 'provider': Field required"),
    ('provider = "vllm"\nmodel = "m"\nmode = "guided_json"\n', "field 'mode'"),
    ('provider = "vllm"\nmodel = "m"\nconcurrency = 0\n', "field 'concurrency'"),
    ('rule = "fuzzy"\n', "field 'rule': unknown rule judge"),
    ('rule = "numeric"\nmodel = "m"\n', "field 'model': Extra inputs"),
])
def test_bad_spec_files_name_file_and_field(tmp_path: Path, body: str, field: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_spec_file(path)
    assert str(info.value).startswith(f"{path}: invalid") and field in str(info.value)


def test_a_key_in_a_spec_file_is_refused_without_being_echoed(tmp_path: Path) -> None:
    path = _write(tmp_path, f'provider = "openai"\nmodel = "gpt-4o-mini"\napi_key = "{SECRET}"\n')
    with pytest.raises(ConfigError, match=r"field 'api_key'.*never the key") as info:
        load_spec_file(path)
    assert SECRET not in str(info.value)
    path = _write(tmp_path, f'provider = "openai"\nmodel = "gpt-4o-mini"\napi_key_env = "{SECRET}"\n')
    with pytest.raises(ConfigError, match="field 'api_key_env'") as info:
        load_spec_file(path)
    assert SECRET not in str(info.value)


def test_unreadable_and_missing_spec_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_spec_file(_write(tmp_path, "provider = \n"))
    with pytest.raises(ConfigError, match=r"spec file 'nowhere\.toml' not found"):
        load_spec("nowhere.toml")
    with pytest.raises(ConfigError, match=r"unknown judge or model 'fuzzy'.*exact.*vllm-local"):
        load_spec("fuzzy")


def test_api_key_is_never_in_the_spec_or_client_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    spec = load_spec("openai-hosted")
    assert isinstance(spec, ModelSpec)
    assert SECRET not in repr(spec) and SECRET not in spec.model_dump_json()
    client = build_teacher_client("openai-hosted")
    assert SECRET not in repr(client) and client.name == "openai/gpt-4o-mini"


def test_build_judge_for_rule_names_and_rule_spec_files(tmp_path: Path) -> None:
    assert isinstance(build_judge("exact"), ExactJudge)
    loose = build_judge("numeric-loose")
    assert isinstance(loose, NumericJudge) and loose.abs_tol == 0.5
    path = _write(tmp_path, 'rule = "numeric"\n[options]\ntolerance = 1\n')
    with pytest.raises(ConfigError, match="bad options for rule judge 'numeric'"):
        build_judge(str(path))


def test_build_teacher_client_refuses_rule_judges() -> None:
    with pytest.raises(ConfigError, match="names the rule judge 'exact'"):
        build_teacher_client("exact")


def _server(replies: list[httpx2.Response], bodies: list[dict[str, object]]) -> httpx2.AsyncClient:
    def handle(request: httpx2.Request) -> httpx2.Response:
        bodies.append(json.loads(request.content))
        return replies.pop(0)

    return httpx2.AsyncClient(transport=httpx2.MockTransport(handle))


def _completion(text: str) -> httpx2.Response:
    return httpx2.Response(200, json={
        "id": "c", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}})


SAMPLE = Sample(id="q1", question="How many?", answer="2")
OUTPUT = StudentOutput(sample_id="q1", raw_text="Answer: two", answer="two")


def test_build_judge_from_a_spec_string_talks_to_the_server() -> None:
    bodies: list[dict[str, object]] = []
    reply = _completion(json.dumps({"reason": "two is 2", "verdict": "correct"}))
    judge = build_judge("vllm/tiny-judge@http://127.0.0.1:9/v1", http_client=_server([reply], bodies))
    assert isinstance(judge, LLMJudge) and judge.name == "vllm/tiny-judge"
    (judgment,) = judge_sync(judge, [SAMPLE], [OUTPUT])
    assert (judgment.outcome, judgment.reason, judgment.judge) == ("correct", "two is 2", "vllm/tiny-judge")
    assert bodies[0]["model"] == "tiny-judge" and "response_format" in bodies[0]


def test_a_server_failure_through_a_spec_file_is_unscored_error(tmp_path: Path) -> None:
    path = _write(tmp_path, 'provider = "openai-compatible"\nmodel = "m"\nbase_url = "http://127.0.0.1:9/v1"\n'
                            "max_retries = 0\n")
    bodies: list[dict[str, object]] = []
    failure = httpx2.Response(500, json={"error": {"message": "boom", "type": "server"}})
    judge = build_judge(str(path), http_client=_server([failure, failure], bodies))
    (judgment,) = judge_sync(judge, [SAMPLE], [OUTPUT])
    assert judgment.outcome == "unscored"
    assert judgment.reason is not None and judgment.reason.startswith("error:") and "500" in judgment.reason
    assert len(bodies) == 2  # judged once more after the failure (judge_sync's retry)


def test_spec_names_resolve_in_the_given_project_dir(tmp_path: Path) -> None:
    (tmp_path / "judges").mkdir()
    (tmp_path / "judges" / "mine.toml").write_text('provider = "vllm"\nmodel = "m"\n', encoding="utf-8")
    spec = load_spec("mine", project_dir=tmp_path)
    assert isinstance(spec, ModelSpec) and spec.spec_string == "vllm/m@http://127.0.0.1:8000/v1"
    assert load_spec("mine.toml", project_dir=tmp_path) == spec
    with pytest.raises(ConfigError, match=r"not a spec file in judges/ \(mine\)"):
        load_spec("vllm-local", project_dir=tmp_path)
