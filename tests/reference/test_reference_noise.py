"""Simulated errors: about `error_rate` of the requests get a plausible wrong answer, the same ones in every
run with the same seed, and the server's counts agree with what the client saw."""

from __future__ import annotations

import asyncio
from pathlib import Path

from reference_helpers import REPO_ROOT, corrupted, run_with_client

from edtune.bench.reference import ReferenceSettings, ServedStats, WorldIndex, reference_teacher
from edtune.bench.shapes import SKILLS, ShapesWorld, first_wrong_step_of
from edtune.judging.llm import LLMJudge
from edtune.llm.openai_client import OpenAICompatibleClient
from edtune.records import Sample, StudentOutput
from edtune.teacher import AnswerSwitchLocator, DirectLocator, SkillAnalyzer

PHRASE_SKILL = {phrase: name for name, info in SKILLS.items() for phrase in info.phrases}


def _direct_cases(world: ShapesWorld, count: int) -> list[tuple[Sample, StudentOutput]]:
    samples = world.pool + [s for name, split in world.splits.items() if name != "pool" for s in split]
    cases = [(s, corrupted(s, k)) for s in samples for k in range(1, len(s.rationale or []) + 1)]
    return cases[:count]


def _direct_steps(index: WorldIndex, world_dir: Path, cases: list[tuple[Sample, StudentOutput]],
                  settings: ReferenceSettings) -> tuple[list[int | None], ServedStats]:
    async def job(client: OpenAICompatibleClient) -> list[int | None]:
        locator = DirectLocator(client, project_dir=REPO_ROOT, image_root=world_dir)
        results = await asyncio.gather(*(locator.locate(sample, student) for sample, student in cases))
        return [r.step for r in results]

    with reference_teacher(index, settings=settings) as server:
        steps = run_with_client(server.base_url, server.model, job)
        return steps, server.stats()


def test_error_fraction_is_near_the_rate_and_repeats_with_the_seed(index: WorldIndex, world: ShapesWorld,
                                                                    world_dir: Path) -> None:
    cases = _direct_cases(world, 200)
    truth = [first_wrong_step_of(s, o).step for s, o in cases]  # type: ignore[union-attr]
    settings = ReferenceSettings(error_rate=0.3, seed=11)
    first, stats = _direct_steps(index, world_dir, cases, settings)
    again, _ = _direct_steps(index, world_dir, cases, settings)
    other_seed, _ = _direct_steps(index, world_dir, cases, settings.model_copy(update={"seed": 12}))

    wrong = sum(got != want for got, want in zip(first, truth, strict=True))
    assert len(cases) == 200 and 0.2 <= wrong / len(cases) <= 0.4
    assert first == again
    assert other_seed != first
    assert stats.tasks["first_wrong_step"].requests == 200
    assert stats.tasks["first_wrong_step"].simulated_errors == wrong
    assert all(1 <= step <= len(o.steps) for step, (_, o) in zip(first, cases, strict=True))  # type: ignore[operator]


def test_skill_and_judge_errors_are_plausible_wrong_answers(index: WorldIndex, world: ShapesWorld,
                                                            world_dir: Path) -> None:
    cases = _direct_cases(world, 60)

    async def job(client: OpenAICompatibleClient) -> tuple[list[list[str]], list[str]]:
        analyzer = SkillAnalyzer(client, project_dir=REPO_ROOT, image_root=world_dir)
        analyses = await asyncio.gather(*(analyzer.analyse(s, o, None) for s, o in cases))
        judge = LLMJudge(client, project_dir=REPO_ROOT)
        samples = list({s.id: s for s, _ in cases}.values())
        judgments = await judge.judge(samples, [StudentOutput(sample_id=s.id, raw_text="", answer=s.answer)
                                                for s in samples])
        return [a.missing_skills for a in analyses], [j.outcome for j in judgments]

    with reference_teacher(index, error_rate=0.5, seed=3) as server:
        skills, outcomes = run_with_client(server.base_url, server.model, job)
        stats = server.stats()
    named = [PHRASE_SKILL[p[0]] for p in skills]
    truth = [first_wrong_step_of(s, o).skill for s, o in cases]  # type: ignore[union-attr]
    skill_errors = sum(a != b for a, b in zip(named, truth, strict=True))
    assert skill_errors == stats.tasks["missing_skills"].simulated_errors and 15 <= skill_errors <= 45
    assert outcomes.count("incorrect") == stats.tasks["judge"].simulated_errors
    assert 0.25 <= outcomes.count("incorrect") / len(outcomes) <= 0.75 and "unscored" not in outcomes


def test_answer_switch_noise_flips_single_prefixes(index: WorldIndex, world: ShapesWorld, world_dir: Path) -> None:
    cases = [(s, corrupted(s, 1)) for s in world.pool if s.choices and len(s.rationale or []) == 3][:15]

    async def job(client: OpenAICompatibleClient) -> list[list[float]]:
        locator = AnswerSwitchLocator(client, project_dir=REPO_ROOT, image_root=world_dir)
        results = [await locator.locate(s, o) for s, o in cases]
        return [r.evidence.margins for r in results]  # type: ignore[union-attr]

    with reference_teacher(index, error_rate=0.3, seed=5) as server:
        margins = run_with_client(server.base_url, server.model, job)
        stats = server.stats()
    # Step 1 is wrong, so every prefix k >= 1 should show the switch and prefix 0 should not.
    flipped = sum((m > 0) != (k >= 1) for row in margins for k, m in enumerate(row))
    assert flipped == stats.tasks["answer_switch"].simulated_errors > 0
    assert stats.tasks["answer_switch"].requests == sum(len(row) for row in margins) == 4 * len(cases)
