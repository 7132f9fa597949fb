"""Teacher capabilities: from the run config, else the teacher spec file, else assumed; conflicts refused
before model work; the localisation `auto` amounts to, with its reason, written to the run directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edtune.errors import ConfigError
from edtune.llm.base import ChatRequest
from edtune.loop import adapt
from edtune.loop.capabilities import localisation_choice, teacher_capabilities
from edtune.loop.config import RunConfig, validate_config
from edtune.loop.stages_teacher import LOCALISATION_FILE
from loop.fakes import FamilyStudent, scripted_teacher

TEXT_ONLY = 'provider = "llamacpp"\nmodel = "smollm2-135m"\nimages = false\nlogprobs = false\n'


def _config(teacher: str, **fields: object) -> RunConfig:
    data = {"val": {"path": "val.jsonl"}, "pool": {"path": "pool.jsonl"}}
    return validate_config({"method": "error_driven", "teacher": teacher, "data": data, **fields}, "test")


@pytest.fixture
def text_only_spec(tmp_path: Path) -> str:
    path = tmp_path / "text-only.toml"
    path.write_text(TEXT_ONLY)
    return str(path)


def test_a_spec_file_declares_a_text_only_teacher_without_logprobs(text_only_spec: str) -> None:
    caps = teacher_capabilities(_config(text_only_spec))
    assert (caps.images.value, caps.images.source) == (False, "teacher spec")
    assert (caps.logprobs.value, caps.logprobs.source) == (False, "teacher spec")
    choice = localisation_choice(_config(text_only_spec), caps)
    assert (choice.multiple_choice, choice.open_questions) == ("direct", "direct")
    assert "logprobs = false" in choice.reason and "answer-switch" in choice.reason


def test_a_spec_string_assumes_both_and_says_so() -> None:
    config = _config("vllm/some-model")
    caps = teacher_capabilities(config)
    assert (caps.images.source, caps.logprobs.value) == ("default", True)
    choice = localisation_choice(config, caps)
    assert (choice.multiple_choice, choice.open_questions) == ("answer-switch", "direct")
    assert "assumed" in choice.reason and "localise.teacher_logprobs = false" in choice.reason
    off = _config("vllm/some-model", localise={"teacher_logprobs": False})
    assert localisation_choice(off, teacher_capabilities(off)).reason.startswith("localise.teacher_logprobs = false")


def test_asking_for_what_the_spec_lacks_is_refused(text_only_spec: str) -> None:
    with pytest.raises(ConfigError, match=r"^teacher_images = true, but the teacher spec .* declares images = false"):
        teacher_capabilities(_config(text_only_spec, teacher_images=True))
    with pytest.raises(ConfigError, match=r"localise.method = \"answer_switch\" reads the teacher's logprobs"):
        teacher_capabilities(_config(text_only_spec, localise={"method": "answer_switch"}))
    fine = teacher_capabilities(_config(text_only_spec, teacher_images=False))
    assert fine.images.source == "run config"


def test_adapt_arguments_reach_the_teacher_and_the_run_states_its_choice(world: Path, tmp_path: Path) -> None:
    requests: list[ChatRequest] = []
    teacher = scripted_teacher(requests.append)
    adapt(FamilyStudent(), world / "counting_val.jsonl", world / "pool.jsonl", teacher=teacher,
          test=world / "counting_test.jsonl", budget=4, iterations=1, run_dir=tmp_path / "run", show_bars=False,
          teacher_images=False, teacher_logprobs=False)
    assert requests, "the teacher was never asked"
    parts = [p for r in requests for m in r.messages if not isinstance(m.content, str) for p in m.content]
    assert not any(getattr(p, "type", "") == "image_url" for p in parts)
    assert all(not r.logprobs for r in requests)
    stated = json.loads((tmp_path / "run" / LOCALISATION_FILE).read_text())
    assert stated["multiple_choice"] == "direct" and "localise.teacher_logprobs = false" in stated["reason"]
