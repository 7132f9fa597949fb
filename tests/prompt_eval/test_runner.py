"""Running each scored task over the hand-made gold set with scripted teachers."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from prompt_eval_fakes import TRUTH, last_user_text, oracle, question_of

from edtune.errors import TemplateError
from edtune.llm.base import ChatRequest, ChatResponse, M, Structured, StructuredMode, TokenLogprob, Usage
from edtune.llm.concurrency import run_sync
from edtune.llm.scripted import ScriptedClient
from edtune.prompt_eval.gold import GoldSet
from edtune.prompt_eval.runner import EvalSettings, evaluate_template
from edtune.templates import load_template


def _run(name: str, gold: GoldSet, client: Any, project: Path, **settings: Any) -> Any:
    return run_sync(evaluate_template(load_template(name, project), gold, client, EvalSettings(**settings)))


def test_direct_with_a_perfect_teacher(gold: GoldSet, project: Path) -> None:
    client = ScriptedClient(oracle())
    run = _run("first_wrong_step", gold, client, project, concurrency=3)
    assert run.task == "first_wrong_step" and run.teacher == "scripted/scripted" and run.gold_hash == gold.hash
    assert [o.step for o in run.outcomes] == [2, 2, 3, 1]
    assert run.metrics.exact == 1.0 and run.metrics.unscored_rate == 0.0 and run.metrics.calls == 4
    assert run.metrics.prompt_tokens > 0 and "step 2 (found): step 2 is wrong" in run.outcomes[0].output
    assert {r.template_hash for r in client.requests} == {load_template("first_wrong_step", project).hash}


def test_direct_off_by_one_and_an_unusable_reply(gold: GoldSet, project: Path) -> None:
    def reply(request: ChatRequest) -> str:
        if question_of(request).startswith("What colour"):
            return "I cannot say"
        return oracle(lambda q: 1 if "left or right" not in q else -1)(request)

    run = _run("first_wrong_step", gold, ScriptedClient(reply, max_reasks=1), project)
    by_id = {o.item_id: o for o in run.outcomes}
    assert by_id["i4"].status == "unscored" and "I cannot say" in by_id["i4"].output and by_id["i4"].calls == 2
    assert by_id["i1"].step == 2  # 2 + 1 is clipped to the 2 steps there are
    assert run.metrics.exact == pytest.approx(1 / 3) and run.metrics.within_one == 1.0
    assert run.metrics.unscored_rate == pytest.approx(0.25)


def test_per_step_stops_at_the_first_wrong_step(gold: GoldSet, project: Path) -> None:
    client = ScriptedClient(oracle())
    run = _run("step_check", gold, client, project)
    assert [o.step for o in run.outcomes] == [2, 2, 3, 1] and run.metrics.exact == 1.0
    assert [o.calls for o in run.outcomes] == [2, 2, 3, 1]


def test_skills_are_asked_about_the_true_step(gold: GoldSet, project: Path) -> None:
    client = ScriptedClient(oracle())
    run = _run("missing_skills", gold, client, project)
    assert run.metrics.skill_exact == 1.0 and run.metrics.skill_bm25 == 1.0
    asked = {question_of(r): last_user_text(r) for r in client.requests}
    assert all(f"The first incorrect step is Step {TRUTH[q]}." in text for q, text in asked.items())


def test_judge_agreement_and_costs(gold: GoldSet, project: Path) -> None:
    run = _run("judge_equivalence", gold, ScriptedClient(oracle()), project, concurrency=2)
    assert run.metrics.verdict_agreement == 1.0 and run.metrics.calls == 4
    assert all(o.prompt_tokens > 0 and o.output.startswith("incorrect") for o in run.outcomes)


class LogprobTeacher:
    """Answer-switch fake: prefers the gold option until the true wrong step is shown, then the other one."""

    name = "fake/logprobs"

    async def chat(self, request: ChatRequest) -> ChatResponse:
        text = last_user_text(request)
        shown = len(re.findall(r"^Step \d+:", text, re.MULTILINE))
        gold = re.search(r"answer is \((\w)\)", text).group(1)  # type: ignore[union-attr]
        other = "B" if gold == "A" else "A"
        letter = other if shown >= TRUTH[question_of(request)] else gold
        top = {letter: -0.05, (gold if letter == other else other): -3.0}
        return ChatResponse(text=letter, model="fake", usage=Usage(prompt_tokens=5, completion_tokens=1),
                            logprobs=[TokenLogprob(token=letter, logprob=-0.05, top=top)])

    async def structured(self, request: ChatRequest, output: type[M], *, mode: StructuredMode | None = None,
                         context: Mapping[str, Any] | None = None) -> Structured[M]:
        raise AssertionError("answer-switch makes plain calls only")


def test_answer_switch_on_multiple_choice_items(gold: GoldSet, project: Path) -> None:
    import dataclasses

    choice_only = dataclasses.replace(gold, items=tuple(i for i in gold if i.sample.choices))
    run = _run("answer_switch", choice_only, LogprobTeacher(), project)
    # i1 (wrong step 2 of 2) cannot hold the switch for two prefixes -> fallback last = 2; i3 likewise = 3
    assert [o.step for o in run.outcomes] == [2, 3] and run.metrics.exact == 1.0
    assert [o.calls for o in run.outcomes] == [3, 4] and "(fallback)" in run.outcomes[0].output


def test_answer_switch_refuses_an_open_question(gold: GoldSet, project: Path) -> None:
    from edtune.errors import DataError

    with pytest.raises(DataError, match="multiple-choice"):
        _run("answer_switch", gold, LogprobTeacher(), project)


def test_a_task_without_gold_truth_is_refused(gold: GoldSet, project: Path) -> None:
    with pytest.raises(TemplateError, match="'required_skills', which a gold set cannot score"):
        _run("required_skills", gold, ScriptedClient([json.dumps({"skills": ["x"]})]), project)
