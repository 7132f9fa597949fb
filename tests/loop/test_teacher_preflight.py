"""The run-start teacher preflight, through the real `openai` client over a mock transport: one tiny request
per capability the run needs, before the student answers anything; a teacher that cannot do what the run
needs is refused with the setting to change; `auto` localisation says what the preflight showed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest

from edtune import specs
from edtune.cli import main
from edtune.errors import TeacherPreflightFailed
from edtune.loop import adapt
from edtune.loop.config import DataFile
from edtune.loop.preflight import PREFLIGHT_FILE
from edtune.loop.runlog import read_log
from edtune.loop.stages_teacher import LOCALISATION_FILE
from edtune.records import Sample, StudentOutput
from loop.fakes import COUNTING_SKILL, FamilyStudent

TEACHER = "openai-compatible/teacher-model@http://127.0.0.1:9/v1"
NO_IMAGES = {"error": {"code": 500, "message": "image input is not supported - hint: if this is unexpected, you may "
                                               "need to provide the mmproj", "type": "server_error"}}


@dataclass
class Teacher:
    """A fake OpenAI-compatible teacher: answers preflight, locate and skills requests by their schema."""

    images: bool = True
    logprobs: bool = True
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.bodies.append(body := json.loads(request.content))
        parts = [p for m in body["messages"] if isinstance(m["content"], list) for p in m["content"]]
        if not self.images and any(p["type"] == "image_url" for p in parts):
            return httpx2.Response(500, json=NO_IMAGES)
        name = (body.get("response_format") or {}).get("json_schema", {}).get("name")
        text = {"PreflightReply": '{"ok": true}', "FirstWrongStep": '{"step": 1, "reason": "the count is wrong"}',
                "MissingSkills": json.dumps({"skills": [COUNTING_SKILL]}), None: "A"}[name]
        choice: dict[str, Any] = {"index": 0, "finish_reason": "stop",
                                  "message": {"role": "assistant", "content": text}}
        if body.get("logprobs") and self.logprobs:
            top = [{"token": "A", "logprob": -0.1}, {"token": "B", "logprob": -2.5}]
            choice["logprobs"] = {"content": [{"token": "A", "logprob": -0.1, "top_logprobs": top}]}
        usage = {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}
        return httpx2.Response(200, json={"id": "c", "object": "chat.completion", "created": 0,
                                          "model": "teacher-model", "choices": [choice], "usage": usage})

    def preflights(self) -> list[dict[str, Any]]:
        return [b for b in self.bodies if (b.get("response_format") or {}).get("json_schema", {}).get("name")
                == "PreflightReply"]


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Route every client built from a teacher spec to a `Teacher`."""

    def install(teacher: Teacher) -> Teacher:
        original = specs.build_teacher_client
        monkeypatch.setattr(specs, "build_teacher_client", lambda choice, **kw: original(
            choice, **kw, http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(teacher))))
        return teacher

    return install


class CountingStudent(FamilyStudent):
    """Counts its answer calls, so a test can tell whether the student ran before a refusal."""

    def __init__(self) -> None:
        super().__init__()
        self.answered = 0

    def answer(self, samples: Sequence[Sample], image_root: Path, *, batch_size: int = 64) -> list[StudentOutput]:
        self.answered += 1
        return super().answer(samples, image_root, batch_size=batch_size)


@pytest.fixture
def choice_val(world: Path, tmp_path: Path) -> DataFile:
    """The world's counting val set as multiple choice (options 0..4 besides the gold count)."""
    rows = [json.loads(line) for line in (world / "counting_val.jsonl").read_text().splitlines()]
    for row in rows:
        row["choices"] = sorted({row["answer"], *map(str, range(5))})
    path = tmp_path / "val.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return DataFile(path=path, image_root=world)


def _adapt(world: Path, run_dir: Path, student: FamilyStudent | None = None, val: DataFile | None = None,
           **kw: Any) -> Any:
    return adapt(student or FamilyStudent(), val or world / "counting_val.jsonl", world / "pool.jsonl",
                 teacher=TEACHER, budget=4, iterations=1, run_dir=run_dir, show_bars=False, **kw)


def test_a_text_only_teacher_is_refused_before_the_student_answers_and_the_named_setting_fixes_it(
        world: Path, tmp_path: Path, serve: Any) -> None:
    teacher, student = serve(Teacher(images=False)), CountingStudent()
    with pytest.raises(TeacherPreflightFailed) as info:
        _adapt(world, tmp_path / "run", student)
    error = info.value
    assert (error.check, error.setting, error.status, error.tries) == ("images", "teacher_images", 500, 1)
    assert "image input is not supported" in (error.body or "")
    assert "teacher_images = false" in str(error) and "adapt(teacher_images=False)" in str(error)
    assert "images = false in its spec file" in str(error)
    assert student.answered == 0 and len(teacher.bodies) == 2  # reachable, then images: no retry of a 500 like it
    _adapt(world, tmp_path / "run", student, teacher_images=False)  # the same run directory takes the fix
    assert student.answered > 0
    assert not any(p["type"] == "image_url" for b in teacher.bodies[2:] for m in b["messages"]
                   if isinstance(m["content"], list) for p in m["content"])
    records = (tmp_path / "run" / PREFLIGHT_FILE).read_text().splitlines()
    assert [len(json.loads(r)["checks"]) for r in records] == [2, 1]
    usage = json.loads((tmp_path / "run" / "usage.json").read_text())["stages"]
    assert usage["teacher.preflight"]["calls"] == 2  # the answered ones: reachable twice


def test_auto_uses_direct_when_the_preflight_finds_no_logprobs_and_says_why(world: Path, tmp_path: Path,
                                                                            serve: Any, choice_val: DataFile) -> None:
    teacher = serve(Teacher(logprobs=False))
    _adapt(world, tmp_path / "run", val=choice_val)
    asked = teacher.preflights()
    assert [b.get("top_logprobs") for b in asked] == [None, None, 20]  # reachable, images, logprobs
    stated = json.loads((tmp_path / "run" / LOCALISATION_FILE).read_text())
    assert stated["multiple_choice"] == "direct"
    assert "preflight found the teacher returns no logprobs" in stated["reason"]
    assert not any(b.get("logprobs") for b in teacher.bodies if b not in asked)  # no answer-switch request
    log = read_log(tmp_path / "run")
    assert any(line.startswith("preflight: reachable ok") and "logprobs FAILED" in line for line in log)
    assert any(line.startswith("localisation: multiple choice by direct") for line in log)


def test_declared_logprobs_that_are_missing_are_an_error_naming_the_setting(world: Path, tmp_path: Path,
                                                                           serve: Any, choice_val: DataFile) -> None:
    teacher = serve(Teacher(logprobs=False))
    with pytest.raises(TeacherPreflightFailed) as info:
        _adapt(world, tmp_path / "run", val=choice_val, teacher_logprobs=True)
    assert (info.value.check, info.value.setting) == ("logprobs", "localise.teacher_logprobs")
    assert "localise.teacher_logprobs = false" in str(info.value) and "adapt(teacher_logprobs=False)" in str(info.value)
    teacher.logprobs = True  # the server fixed: the refused start's record is not reused, the teacher is asked again
    _adapt(world, tmp_path / "run", val=choice_val, teacher_logprobs=True)
    assert len(teacher.preflights()) == 6


def test_a_teacher_with_logprobs_gets_answer_switch_and_a_resume_asks_nothing_again(
        world: Path, tmp_path: Path, serve: Any, choice_val: DataFile) -> None:
    teacher = serve(Teacher())
    _adapt(world, tmp_path / "run", val=choice_val)
    stated = json.loads((tmp_path / "run" / LOCALISATION_FILE).read_text())
    assert stated["multiple_choice"] == "answer-switch" and "preflight saw top logprobs" in stated["reason"]
    assert len(teacher.preflights()) == 3
    _adapt(world, tmp_path / "run", val=choice_val)  # finished: resumed, nothing asked again
    assert len(teacher.preflights()) == 3


def test_an_unreachable_teacher_is_refused_in_seconds_naming_the_teacher_setting(world: Path, tmp_path: Path) -> None:
    student = CountingStudent()
    with pytest.raises(TeacherPreflightFailed) as info:
        _adapt(world, tmp_path / "run", student)  # nothing listens on port 9
    assert (info.value.check, info.value.setting, info.value.status) == ("reachable", "teacher", None)
    assert "did not answer" in str(info.value) and "Start its server" in str(info.value)
    assert info.value.tries == 3 and student.answered == 0  # at most 2 retries, whatever the spec allows


def test_the_preflight_can_be_switched_off(world: Path, tmp_path: Path, serve: Any) -> None:
    teacher = serve(Teacher())
    _adapt(world, tmp_path / "run", teacher_preflight=False)
    assert teacher.bodies and not teacher.preflights()
    assert not (tmp_path / "run" / PREFLIGHT_FILE).exists()
    assert "preflight: skipped (teacher_preflight = false)" in read_log(tmp_path / "run")


def test_the_cli_says_a_failed_preflight_in_one_line_with_exit_code_2(world: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "run.toml"
    config.write_text(f'teacher = "{TEACHER}"\n[data]\nval = {{path = "{world / "counting_val.jsonl"}"}}\n'
                      f'pool = {{path = "{world / "pool.jsonl"}"}}\n')
    monkeypatch.setattr("sys.argv", ["edtune", "run", str(config), "--run-dir", str(tmp_path / "run"), "--no-bars"])
    with pytest.raises(SystemExit) as done:
        main()
    err = capsys.readouterr().err
    assert done.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("error: preflight: the teacher openai-compatible/teacher-model@http://127.0.0.1:9/v1 did "
                          "not answer"), err
