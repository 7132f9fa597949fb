"""At error rate 0 the reference teacher gives the ground truth through every teacher task and the judge,
driven by the real OpenAICompatibleClient over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from reference_helpers import REPO_ROOT, corrupted, run_with_client, wrong_answer

from edtune.bench.reference import RunningServer, WorldIndex, reference_teacher
from edtune.bench.shapes import SKILLS, ShapesWorld, first_wrong_step_of
from edtune.judging.llm import LLMJudge
from edtune.llm.openai_client import OpenAICompatibleClient
from edtune.records import Sample, StudentOutput
from edtune.teacher import (
    AnswerSwitchLocator,
    DirectLocator,
    DirectOptions,
    PerStepLocator,
    SkillAnalyzer,
    SkillAnnotator,
)
from edtune.teacher.records import PerStepEvidence

PHRASE_SKILL = {phrase: name for name, info in SKILLS.items() for phrase in info.phrases}


@pytest.fixture(scope="module")
def server(index: WorldIndex) -> Iterator[RunningServer]:
    with reference_teacher(index) as running:
        yield running


def _tasks(client: OpenAICompatibleClient, world_dir: Path) -> tuple[DirectLocator, PerStepLocator, SkillAnalyzer]:
    return (DirectLocator(client, project_dir=REPO_ROOT, image_root=world_dir),
            PerStepLocator(client, project_dir=REPO_ROOT, image_root=world_dir),
            SkillAnalyzer(client, project_dir=REPO_ROOT, image_root=world_dir))


def _cases(samples: list[Sample], per_family: int = 2) -> list[tuple[Sample, StudentOutput]]:
    """Each gold step corrupted in turn, for a few samples of every question family."""
    seen: dict[str, int] = {}
    cases = []
    for sample in samples:
        family = str(sample.metadata["skill"])
        if seen.get(family, 0) >= per_family:
            continue
        seen[family] = seen.get(family, 0) + 1
        cases += [(sample, corrupted(sample, k)) for k in range(1, len(sample.rationale or []) + 1)]
    return cases


def test_direct_per_step_and_skills_equal_the_ground_truth(server: RunningServer, world: ShapesWorld,
                                                           world_dir: Path) -> None:
    cases = _cases(world.pool)

    async def job(client: OpenAICompatibleClient) -> list[tuple[int | None, int | None, list[str], int]]:
        direct, per_step, skills = _tasks(client, world_dir)
        out = []
        for sample, student in cases:
            located = await direct.locate(sample, student)
            stepped = await per_step.locate(sample, student)
            analysis = await skills.analyse(sample, student, located.step)
            assert isinstance(stepped.evidence, PerStepEvidence)
            out.append((located.step, stepped.step, analysis.missing_skills, len(stepped.evidence.verdicts)))
        return out

    results = run_with_client(server.base_url, server.model, job)
    assert len(cases) >= 20
    for (sample, student), (direct_step, per_step_step, phrases, asked) in zip(cases, results, strict=True):
        truth = first_wrong_step_of(sample, student)
        assert truth is not None
        assert direct_step == truth.step, (sample.id, student.steps)
        assert per_step_step == truth.step and asked == truth.step  # steps before it judged correct, it incorrect
        assert [PHRASE_SKILL[p] for p in phrases] == [truth.skill]
    families = {str(s.metadata["skill"]) for s, _ in cases}
    assert len(families) == 11  # every question family of the world took part


def test_a_wrong_answer_after_right_steps_blames_the_last_step(server: RunningServer, world: ShapesWorld,
                                                               world_dir: Path) -> None:
    sample = world.pool[0]
    steps = [s.text for s in sample.rationale or []]
    student = StudentOutput(sample_id=sample.id, raw_text="", steps=steps, answer=wrong_answer(sample))
    truth = first_wrong_step_of(sample, student)
    assert truth is not None and truth.at_answer

    async def job(client: OpenAICompatibleClient) -> tuple[int | None, int | None, list[str]]:
        direct_task, per_step_task, skill_task = _tasks(client, world_dir)
        direct = await direct_task.locate(sample, student)
        per_step = await per_step_task.locate(sample, student)
        skills = await skill_task.analyse(sample, student, direct.step)
        return direct.step, per_step.step, skills.missing_skills

    direct_step, per_step_step, phrases = run_with_client(server.base_url, server.model, job)
    assert direct_step == per_step_step == len(steps)
    assert [PHRASE_SKILL[p] for p in phrases] == [truth.skill]


def test_answer_switch_localises_the_corrupted_step(server: RunningServer, world: ShapesWorld,
                                                    world_dir: Path) -> None:
    cases = [c for c in _cases([s for s in world.pool if s.choices], per_family=3)]

    async def job(client: OpenAICompatibleClient) -> list[tuple[int | None, str, str | None]]:
        locator = AnswerSwitchLocator(client, project_dir=REPO_ROOT, image_root=world_dir)
        results = [await locator.locate(sample, student) for sample, student in cases]
        return [(r.step, r.outcome, r.evidence.rule if r.evidence else None) for r in results]  # type: ignore[union-attr]

    results = run_with_client(server.base_url, server.model, job)
    assert len(cases) >= 12
    for (sample, student), (step, outcome, rule) in zip(cases, results, strict=True):
        truth = first_wrong_step_of(sample, student)
        assert truth is not None and step == truth.step
        # lam = 2 needs two prefixes after the switch: a wrong last step is found by the fallback
        last = truth.step == len(student.steps)
        assert (outcome, rule) == (("fallback", "no_switch") if last else ("found", "switch"))


def test_structured_outputs_mode_is_answered_too(server: RunningServer, world: ShapesWorld, world_dir: Path) -> None:
    sample = world.val("size")[0]
    student = corrupted(sample, 2)

    async def job(client: OpenAICompatibleClient) -> int | None:
        options = DirectOptions(mode="structured_outputs")
        return (await DirectLocator(client, options, project_dir=REPO_ROOT, image_root=world_dir)
                .locate(sample, student)).step

    assert run_with_client(server.base_url, server.model, job) == 2


def test_required_skills_are_the_gold_skills(server: RunningServer, world: ShapesWorld, world_dir: Path) -> None:
    samples = world.pool[:30]

    async def job(client: OpenAICompatibleClient) -> list[list[str]]:
        annotator = SkillAnnotator(client, project_dir=REPO_ROOT, image_root=world_dir)
        return [(await annotator.annotate(s)).required_skills for s in samples]

    for sample, phrases in zip(samples, run_with_client(server.base_url, server.model, job), strict=True):
        assert [PHRASE_SKILL[p] for p in phrases] == sample.metadata["skills"]


def test_llm_judge_compares_the_student_answer_with_the_gold(server: RunningServer, world: ShapesWorld) -> None:
    chosen = [s for s in world.val("size") if s.choices][:4] + [s for s in world.val("counting")][:4]
    pairs: list[tuple[Sample, StudentOutput, str]] = []
    for s in chosen:
        pairs.append((s, StudentOutput(sample_id=s.id, raw_text="", answer=s.answer.upper()), "correct"))
        pairs.append((s, StudentOutput(sample_id=s.id, raw_text="", answer=wrong_answer(s)), "incorrect"))
        if s.choices:
            letter = "ABC"[s.choices.index(s.answer)]
            pairs.append((s, StudentOutput(sample_id=s.id, raw_text="", answer=f"({letter})"), "correct"))

    async def job(client: OpenAICompatibleClient) -> list[str]:
        judge = LLMJudge(client, project_dir=REPO_ROOT, concurrency=4)
        return [j.outcome for j in await judge.judge([p[0] for p in pairs], [p[1] for p in pairs])]

    assert run_with_client(server.base_url, server.model, job) == [p[2] for p in pairs]
