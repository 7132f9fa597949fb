"""Skill-progress in the loop (`method = "skill_progress"`): selections follow the teacher's skills by
relative improvement, the budget holds, the files are written, a newly named skill is tried at once, the
report lists the method, and a run resumed after a crash anywhere ends as an uninterrupted one."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from edtune.errors import ConfigError
from edtune.jsonl import read_jsonl
from edtune.llm.base import ChatRequest
from edtune.llm.scripted import ScriptedClient
from edtune.loop import AdaptResult, adapt, load_config
from edtune.loop.config import validate_config
from edtune.loop.context import RunContext
from edtune.loop.rundir import RunDir
from edtune.loop.stages_select import read_selection
from edtune.methods import methods
from edtune.methods.skill_progress.method import SKILL_ACCURACY, SkillRound
from edtune.rationale import format_rationale, to_student_output
from edtune.records import Judgment, Sample, StudentOutput
from edtune.report import write_report
from loop.fakes import Crash, FamilyStudent, request_key
from loop.test_progress_method import CountingJudge
from loop.test_progress_resume import CrashingStudent
from loop.test_resume import Recorder, snapshot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
COUNT = "giving the number of things shown"
COLOUR = "selecting the objects that have a given colour"
POSITION = "comparing the positions of two shapes"
"""Skill phrases the tiny pool's samples carry, so BM25 finds them."""
EVAL_PER_SKILL = 5
TOP_K = 20


LATE = "That makes 91."
"""A `DriftingStudent`'s wrong step after one training."""


def skill_teacher(on_call: Callable[[ChatRequest], None] | None = None) -> ScriptedClient:
    """Blames step 1; names COUNT for "How many objects" errors, COLOUR for the others, and POSITION
    instead of COLOUR for an error whose rationale reads `LATE` (a skill first named in iteration 2)."""

    def script(request: ChatRequest) -> str:
        if on_call is not None:
            on_call(request)
        if request.template_name == "first_wrong_step":
            return '{"step": 1, "reason": "the count is wrong"}'
        assert request.template_name == "missing_skills", request.template_name
        text = request_key(request)
        skill = COUNT if "How many objects are there?" in text else POSITION if LATE in text else COLOUR
        return json.dumps({"skills": [skill]})

    return ScriptedClient(script, model="teacher")


class DriftingStudent(FamilyStudent):
    """Its wrong answers are 90 + the trainings so far, so the teacher sees new errors in iteration 2
    (the same errors would be answered from the run's cache)."""

    def answer(self, samples: Sequence[Sample], image_root: Path, *, batch_size: int = 64) -> list[StudentOutput]:
        wrong = str(90 + len(self.trained))
        return [self._drift(s, wrong) if o.answer == "99" else o
                for s, o in zip(samples, super().answer(samples, image_root, batch_size=batch_size), strict=True)]

    @staticmethod
    def _drift(sample: Sample, wrong: str) -> StudentOutput:
        steps = [step.text for step in sample.rationale or []]
        return to_student_output(sample.id, format_rationale([*steps[:-1], f"That makes {wrong}."], wrong))


def run(world: Path, run_dir: Path, student: FamilyStudent, teacher: ScriptedClient,
        judge: CountingJudge | None = None, iterations: int = 3) -> AdaptResult:
    """Budget 24 over `iterations`: 8 samples per iteration with 3 iterations."""
    data = {"val": {"path": "v"}, "pool": {"path": "p"}}
    config = validate_config({"method": "skill_progress", "teacher": "scripted/teacher", "data": data,
                              "progress": {"eval_per_cluster": EVAL_PER_SKILL}, "retrieval": {"top_k": TOP_K}},
                             "test")
    return adapt(student, world / "counting_val.jsonl", world / "pool.jsonl", teacher=teacher,
                 judge=judge or CountingJudge(), test=world / "counting_test.jsonl", replay=world / "base.jsonl",
                 budget=24, iterations=iterations, run_dir=run_dir, config=config, show_bars=False)


def skill_rows(rd: RunDir, iteration: int) -> dict[str, SkillRound]:
    return {r.skill: r for r in read_jsonl(rd.file(iteration, SKILL_ACCURACY), SkillRound)}


@pytest.fixture(scope="module")
def finished(world: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[AdaptResult, FamilyStudent]:
    student = FamilyStudent()
    return run(world, tmp_path_factory.mktemp("skill-progress") / "run", student, skill_teacher()), student


def test_budget_is_spent_evenly_and_training_is_cumulative(finished: tuple[AdaptResult, FamilyStudent]) -> None:
    result, student = finished
    rd = RunDir(result.run_dir)
    assert result.stopped == "iterations" and result.samples_used == 24
    chosen = [c.sample_id for i in (1, 2, 3) for c in read_selection(rd, i)]
    assert [len(read_selection(rd, i)) for i in (1, 2, 3)] == [8, 8, 8]
    assert len(set(chosen)) == 24, "a sample was selected twice"
    assert [len(t) for t in student.trained] == [8, 16, 24]
    assert result.test_accuracy is not None and result.pretrained_accuracy is not None
    assert result.test_accuracy > result.pretrained_accuracy


def test_quotas_take_each_skills_best_unused_hits(finished: tuple[AdaptResult, FamilyStudent]) -> None:
    rd = RunDir(finished[0].run_dir)
    retriever = RunContext(rd.read_config(), rd).retriever()
    hits = {skill: [h.sample_id for h in found] for skill, found in
            zip((COUNT, COLOUR), retriever.search([COUNT, COLOUR], TOP_K), strict=True)}
    used: set[str] = set()
    for i in (1, 2, 3):
        chosen, rows = read_selection(rd, i), skill_rows(rd, i)
        assert set(rows) == {COUNT, COLOUR} and {c.skill for c in chosen} <= set(rows)
        taken = set(used)
        for skill in sorted(rows):  # the selector fills quotas in skill order; an id goes to one skill
            expected = [h for h in hits[skill] if h not in taken][:rows[skill].quota]
            picked = [c for c in chosen if c.skill == skill and c.score > 0]
            assert [c.sample_id for c in picked] == expected
            assert all(c.score == rows[skill].weight for c in picked)
            taken |= set(expected)
        explored = [c for c in chosen if c.score == 0]
        assert len(explored) == sum(r.explored for r in rows.values()) == 1  # 10% of 8, rounded half up
        assert all(c.sample_id in hits[c.skill] and c.sample_id not in taken for c in explored)
        assert all(c.rank == hits[c.skill].index(c.sample_id) + 1 for c in chosen)
        used |= {c.sample_id for c in chosen}


def test_first_iteration_is_optimistic_and_even(finished: tuple[AdaptResult, FamilyStudent]) -> None:
    rows = skill_rows(RunDir(finished[0].run_dir), 1)
    assert all(r.first_named == 1 and r.named == 4 and r.annotated_before == 0 for r in rows.values())
    assert all(r.current is None and r.improvement is None and r.weight == 1.0 for r in rows.values())
    assert sorted(r.quota for r in rows.values()) == [3, 4]  # 7 by equal quotas, 1 explored
    assert all(r.candidates == TOP_K for r in rows.values())


def test_later_iterations_measure_each_skill_on_its_samples(finished: tuple[AdaptResult, FamilyStudent]) -> None:
    rd = RunDir(finished[0].run_dir)
    for i in (2, 3):
        skill_of = {c.sample_id: c.skill for j in range(1, i) for c in read_selection(rd, j)}
        current = read_jsonl(rd.file(i, "progress_current_judgments.jsonl"), Judgment)
        previous = read_jsonl(rd.file(i, "progress_previous_judgments.jsonl"), Judgment)
        assert [j.sample_id for j in current] == [j.sample_id for j in previous]
        assert {j.sample_id for j in current} <= set(skill_of)
        for skill, row in skill_rows(rd, i).items():
            now = [j.outcome == "correct" for j in current if skill_of[j.sample_id] == skill]
            before = [j.outcome == "correct" for j in previous if skill_of[j.sample_id] == skill]
            assert row.annotated_before == sum(s == skill for s in skill_of.values())
            assert row.evaluated == len(now) == min(EVAL_PER_SKILL, row.annotated_before)
            assert row.current == pytest.approx(sum(now) / len(now))
            assert row.previous == pytest.approx(sum(before) / len(before))
            expected = (row.current - row.previous) / max(row.previous, 1 / len(now))
            assert row.improvement == pytest.approx(expected) and row.weight == row.improvement
            assert row.quota == 0 or row.improvement > 0
    # The counting skill was learnt after iteration 1 and is no longer named; colour errors remain.
    assert skill_rows(rd, 2)[COUNT].named == 0 and skill_rows(rd, 3)[COLOUR].named == 4


def test_a_skill_named_later_is_tried_at_once(world: Path, tmp_path: Path) -> None:
    result = run(world, tmp_path / "run", DriftingStudent(), skill_teacher(), iterations=2)
    rows = skill_rows(RunDir(result.run_dir), 2)
    assert set(rows) == {COUNT, COLOUR, POSITION}
    new = rows[POSITION]
    assert (new.first_named, new.named, new.annotated_before, new.improvement) == (2, 4, 0, None)
    measured = [r.improvement for r in rows.values() if r.improvement is not None and r.improvement > 0]
    assert new.weight == max(measured, default=1.0) and new.quota > 0
    assert rows[COLOUR].named == 0 and rows[COLOUR].first_named == 1


def test_report_lists_the_method(finished: tuple[AdaptResult, FamilyStudent], tmp_path: Path) -> None:
    report, results = write_report(finished[0].run_dir, tmp_path)
    row = next(m for m in results.methods if m.method == "skill_progress")
    assert row.samples_used == 24 and row.accuracy == finished[0].test_accuracy
    text = report.read_text()
    assert "| skill_progress | 1 | 24 |" in text and "missing_skills.png" in text


def test_method_plan_config_and_example(world: Path) -> None:
    data = {"val": {"path": "v"}, "pool": {"path": "p"}}
    with pytest.raises(ConfigError, match="needs a teacher"):
        validate_config({"method": "skill_progress", "data": data}, "test")
    config = validate_config({"method": "skill_progress", "teacher": "t", "data": data, "budget": 500}, "test")
    plan = methods.create("skill_progress").plan(config, pool_size=80)
    assert (plan.budget, plan.iterations) == (80, config.iterations)
    example = load_config(EXAMPLES / "shapes_skill_progress.toml")
    assert example.method == "skill_progress" and example.teacher is not None
    assert example.data.pool.path == (EXAMPLES.parent / "data" / "shapes" / "pool.jsonl").resolve()


# ---- resume ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """The uninterrupted run: its files, teacher calls, judged ids, trainings and student answer calls."""

    files: dict[str, str]
    calls: list[str]
    judged: list[str]
    trainings: int
    answer_calls: int


@pytest.fixture(scope="module")
def reference(world: Path, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    run_dir = tmp_path_factory.mktemp("skill-progress-reference") / "run"
    recorder, student, judge = Recorder(), CrashingStudent(), CountingJudge()
    assert run(world, run_dir, student, skill_teacher(recorder), judge).stopped == "iterations"
    return Reference(snapshot(run_dir), recorder.answered, judge.judged, len(student.trained), student.calls)


def resume_and_check(world: Path, run_dir: Path, first: tuple[Recorder, CrashingStudent, CountingJudge],
                     reference: Reference) -> None:
    """Resume with a fresh teacher, student and judge, as a new process would, and compare."""
    recorder, student, judge = Recorder(), CrashingStudent(), CountingJudge()
    assert run(world, run_dir, student, skill_teacher(recorder), judge).stopped == "iterations"
    assert Counter(first[0].answered) + Counter(recorder.answered) == Counter(reference.calls), "teacher re-asked"
    assert len(first[1].trained) + len(student.trained) == reference.trainings, "a finished training was repeated"
    assert Counter(first[2].judged) + Counter(judge.judged) == Counter(reference.judged), "a judgment was repeated"
    assert snapshot(run_dir) == reference.files


STAGES = [(key, when) for key in ("001/locate", "001/skills", "001/evaluate_current", "001/select", "001/train",
                                  "002/skills", "002/evaluate_previous", "002/evaluate_current", "002/select",
                                  "003/select", "003/judge_test")
          for when in ("before", "after")]


@pytest.mark.parametrize(("key", "when"), STAGES)
def test_crash_at_a_stage_boundary(world: Path, tmp_path: Path, reference: Reference, key: str, when: str,
                                   crash_at_stage: Callable[[str, str], None]) -> None:
    crash_at_stage(key, when)
    first = (Recorder(), CrashingStudent(), CountingJudge())
    with pytest.raises(Crash):
        run(world, tmp_path / "run", first[1], skill_teacher(first[0]), first[2])
    crash_at_stage("", "never")
    resume_and_check(world, tmp_path / "run", first, reference)


@pytest.mark.parametrize("share", [0.3, 0.6, 0.9])
def test_crash_while_the_student_answers(world: Path, tmp_path: Path, reference: Reference, share: float) -> None:
    first = (Recorder(), CrashingStudent(crash_at=1 + int(share * reference.answer_calls)), CountingJudge())
    with pytest.raises(Crash):
        run(world, tmp_path / "run", first[1], skill_teacher(first[0]), first[2])
    resume_and_check(world, tmp_path / "run", first, reference)
