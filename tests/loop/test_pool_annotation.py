"""The loop's annotation stage: a pool without `required_skills` is annotated by the teacher before the first
retrieval, once per run, resumably; run.log says so, usage.json and the report count it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edtune.errors import DataError
from edtune.jsonl import read_jsonl
from edtune.llm.base import ChatRequest
from edtune.llm.scripted import ScriptedClient
from edtune.loop import RunConfig, adapt
from edtune.loop.config import DataFile
from edtune.loop.rundir import RunDir
from edtune.loop.runlog import read_log
from edtune.report import compare, load_run, render_markdown
from edtune.retrieval.select import ChosenSample
from edtune.teacher.records import MAX_PHRASE_WORDS, SkillAnnotation
from loop.fakes import COUNTING_SKILL, Crash, FamilyStudent, teacher_reply


@pytest.fixture
def bare_pool(world: Path, tmp_path: Path) -> DataFile:
    """The world's pool with every sample's required_skills removed (images stay in the world)."""
    rows = [json.loads(line) for line in (world / "pool.jsonl").read_text().splitlines()]
    for row in rows:
        row.pop("required_skills", None)
    path = tmp_path / "pool.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return DataFile(path=path, image_root=world)


class AnnotatingTeacher:
    """The loop fakes' teacher, which also names a pool sample's required skills: those the world gave the
    first pool sample with the question shown. After `crash_after` annotations it raises Crash."""

    def __init__(self, world: Path, crash_after: int | None = None) -> None:
        rows = [json.loads(line) for line in (world / "pool.jsonl").read_text().splitlines()]
        self.skills: dict[str, list[str]] = {}
        for row in rows:
            short = [skill for skill in row["required_skills"] if len(skill.split()) <= MAX_PHRASE_WORDS]
            self.skills.setdefault(row["question"], short or [COUNTING_SKILL])
        self.annotations = 0
        self.crash_after = crash_after
        self.client = ScriptedClient(self.reply, model="teacher")

    def reply(self, request: ChatRequest) -> str:
        if request.template_name != "required_skills":
            return teacher_reply(request)
        if self.crash_after is not None and self.annotations >= self.crash_after:
            raise Crash("killed while annotating the pool")
        self.annotations += 1
        content = request.messages[1].content  # the user message (images, then text)
        text = content if isinstance(content, str) else "".join(part.text or "" for part in content)
        question = next(q for q in self.skills if f"Question: {q}\n" in text)
        return json.dumps({"skills": self.skills[question]})


def _run(world: Path, pool: DataFile, run_dir: Path, teacher: AnnotatingTeacher,
         config: RunConfig | None = None) -> None:
    adapt(FamilyStudent(), world / "counting_val.jsonl", pool, teacher=teacher.client,
          test=world / "counting_test.jsonl", budget=8, iterations=2, run_dir=run_dir, config=config, show_bars=False)


def test_a_pool_without_skills_is_annotated_once_before_retrieval(world: Path, bare_pool: DataFile,
                                                                   tmp_path: Path) -> None:
    teacher, run_dir = AnnotatingTeacher(world), tmp_path / "run"
    _run(world, bare_pool, run_dir, teacher)
    pool_size = len(bare_pool.path.read_text().splitlines())
    annotations = read_jsonl(RunDir(run_dir).annotations_path, SkillAnnotation)
    assert teacher.annotations == pool_size == len(annotations)  # once, although the run had 2 iterations
    assert all(a.outcome == "found" and a.template == "required_skills" for a in annotations)
    selection = read_jsonl(RunDir(run_dir).file(1, "selection.jsonl"), ChosenSample)
    assert selection and all(row.skill == COUNTING_SKILL for row in selection)
    said = [line for line in read_log(run_dir) if line.startswith(("annotate:", "annotated:"))]
    assert said == [f"annotate: {pool_size} of {pool_size} pool samples have no required_skills; the teacher names "
                    "them before retrieval (stage teacher.annotate, answers in pool_annotations.jsonl)",
                    f"annotated: {pool_size} of {pool_size} pool samples annotated; 0 left without skills (no valid "
                    "teacher reply), so retrieval skips them"]
    usage = json.loads((run_dir / "usage.json").read_text())["stages"]
    assert usage["teacher.annotate"]["calls"] == pool_size
    report = render_markdown([run := load_run(run_dir)], compare([run]), [])
    assert f"| teacher.annotate | {pool_size} |" in report


def test_a_killed_annotation_resumes_with_the_samples_not_yet_answered(world: Path, bare_pool: DataFile,
                                                                       tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    with pytest.raises(Crash):
        _run(world, bare_pool, run_dir, AnnotatingTeacher(world, crash_after=30))
    assert len(read_jsonl(RunDir(run_dir).annotations_path, SkillAnnotation)) >= 1
    again = AnnotatingTeacher(world)
    _run(world, bare_pool, run_dir, again)
    pool_size = len(bare_pool.path.read_text().splitlines())
    answered = read_jsonl(RunDir(run_dir).annotations_path, SkillAnnotation)
    assert sorted(a.sample_id for a in answered) == sorted({a.sample_id for a in answered})  # no id twice
    assert len(answered) == pool_size and again.annotations <= pool_size - 30 + 8  # only what was left (+ in flight)
    assert sum(line.startswith("annotate:") for line in read_log(run_dir)) == 1


def test_annotation_can_be_switched_off(world: Path, bare_pool: DataFile, tmp_path: Path) -> None:
    data = {"val": {"path": str(world / "counting_val.jsonl")}, "pool": bare_pool.model_dump(mode="json")}
    config = RunConfig.model_validate({"data": data, "teacher": "scripted/teacher", "retrieval": {"annotate": False}})
    teacher = AnnotatingTeacher(world)
    with pytest.raises(DataError, match="no pool sample has required_skills"):
        _run(world, bare_pool, tmp_path / "run", teacher, config=config)
    assert teacher.annotations == 0
