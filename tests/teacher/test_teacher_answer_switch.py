"""Answer-switch localisation: the delta/lambda rule, probability reading, and the full task."""

from __future__ import annotations

import asyncio
import math

import pytest

from edtune.errors import DataError
from edtune.llm.base import ChatRequest, ChatResponse, TokenLogprob
from edtune.llm.scripted import ScriptedClient
from edtune.records import Sample, StudentOutput
from edtune.teacher.answer_switch import (
    AnswerSwitchLocator,
    AnswerSwitchOptions,
    find_switch,
    letter_probabilities,
    switch_margins,
)
from edtune.teacher.records import AnswerSwitchEvidence


class LogprobClient(ScriptedClient):
    """Answers each prefix with first-token logprobs from `table[k]`, k = the number of steps shown."""

    def __init__(self, table: list[dict[str, float]]) -> None:
        super().__init__([])
        self.table = table

    async def chat(self, request: ChatRequest) -> ChatResponse:
        self.requests.append(request)
        shown = str(request.messages[-1].content).count("\nStep ")
        top = {token: math.log(p) for token, p in self.table[shown].items()}
        best = max(top, key=lambda t: top[t])
        return ChatResponse(text=best.strip(), model="scripted",
                            logprobs=[TokenLogprob(token=best, logprob=top[best], top=top)])


def _table(margins: list[float]) -> list[dict[str, float]]:
    """Prefix tables whose P(A = student's option) - P(B = gold) equals each margin (C gets 0.1)."""
    return [{"A": (0.9 + m) / 2, "B": (0.9 - m) / 2, "C": 0.1} for m in margins]


@pytest.mark.parametrize(("margins", "delta", "lam", "expected"), [
    ([-0.5, -0.4, -0.3, -0.2], 0.1, 2, None),        # never switches
    ([0.5, 0.6, 0.7, 0.8], 0.1, 2, 0),               # already wrong before any step
    ([-0.5, 0.4, -0.3, 0.5, 0.6], 0.1, 2, 3),        # one-step blip at 1 ignored, run from 3
    ([-0.5, 0.4, -0.3, 0.5, 0.6], 0.1, 1, 1),        # ... but accepted with lam = 1
    ([-0.5, -0.4, -0.3, 0.5], 0.1, 2, None),         # run cut short by the end does not count
    ([-0.5, 0.05, 0.08, 0.3, 0.3], 0.1, 2, 3),       # below delta is no switch
    ([-0.5, 0.05, 0.08, 0.3, 0.3], 0.0, 2, 1),       # ... until delta is lowered
])
def test_rule_on_hand_made_margins(margins: list[float], delta: float, lam: int, expected: int | None) -> None:
    assert find_switch(margins, delta, lam) == expected


def test_letters_merged_floored_and_renormalised() -> None:
    top = {" A": math.log(0.3), "A": math.log(0.1), "(B": math.log(0.4), "The": math.log(0.2)}
    probs, seen = letter_probabilities(top, ["A", "B", "C"], floor=1e-6)
    assert seen == 2
    assert probs["A"] == pytest.approx(0.4 / 0.800001) and probs["B"] == pytest.approx(0.4 / 0.800001)
    assert probs["C"] == pytest.approx(1e-6 / 0.800001) and sum(probs.values()) == pytest.approx(1.0)
    uniform, none_seen = letter_probabilities({"Hmm": -0.1}, ["A", "B"], floor=1e-6)
    assert none_seen == 0 and uniform == {"A": 0.5, "B": 0.5}


def test_margins_use_best_non_gold_when_student_option_unknown() -> None:
    probs = [{"A": 0.2, "B": 0.5, "C": 0.3}]
    assert switch_margins(probs, "B", "A") == [pytest.approx(-0.3)]
    assert switch_margins(probs, "B", None) == [pytest.approx(-0.2)]


def test_switch_found_and_requests_ask_for_logprobs(sample: Sample, student: StudentOutput) -> None:
    client = LogprobClient(_table([-0.6, -0.5, 0.4, 0.5]))
    location = asyncio.run(AnswerSwitchLocator(client).locate(sample, student))
    assert (location.step, location.outcome, location.method, location.calls) == (2, "found", "answer_switch", 4)
    evidence = location.evidence
    assert isinstance(evidence, AnswerSwitchEvidence)
    assert (evidence.gold, evidence.wrong, evidence.rule, evidence.switch_prefix) == ("B", "A", "switch", 2)
    assert evidence.margins == pytest.approx([-0.6, -0.5, 0.4, 0.5])
    assert evidence.letters_seen == [3, 3, 3, 3] and (evidence.delta, evidence.lam, evidence.prior) == (0.1, 2, 0.7)
    for k, request in enumerate(client.requests):
        assert (request.logprobs, request.top_logprobs, request.max_tokens) == (True, 20, 1)
        assert request.template_name == "answer_switch" and request.template_hash == location.template_hash
        text = str(request.messages[-1].content)
        assert text.count("\nStep ") == k and "expert thinks the answer is (B)" in text and "70%" in text


def test_no_prior_option_drops_the_hint(sample: Sample, student: StudentOutput) -> None:
    client = LogprobClient(_table([-0.6, -0.5, 0.4, 0.5]))
    asyncio.run(AnswerSwitchLocator(client, AnswerSwitchOptions(prior=None)).locate(sample, student))
    assert all("expert" not in str(r.messages[-1].content) for r in client.requests)


@pytest.mark.parametrize(("margins", "rule", "step"), [
    ([-0.6, -0.5, -0.4, -0.3], "no_switch", 3),
    ([0.6, 0.5, 0.4, 0.3], "prior_not_held", 3),
    ([-0.6, 0.5, -0.4, -0.3], "no_switch", 3),
])
def test_no_switch_falls_back_and_says_why(sample: Sample, student: StudentOutput, margins: list[float],
                                           rule: str, step: int) -> None:
    location = asyncio.run(AnswerSwitchLocator(LogprobClient(_table(margins))).locate(sample, student))
    assert isinstance(location.evidence, AnswerSwitchEvidence)
    assert (location.step, location.outcome, location.evidence.rule) == (step, "fallback", rule)
    none = AnswerSwitchLocator(LogprobClient(_table(margins)), AnswerSwitchOptions(fallback="none"))
    assert asyncio.run(none.locate(sample, student)).step is None


def test_missing_logprobs_is_a_failure_with_the_reply(sample: Sample, student: StudentOutput) -> None:
    location = asyncio.run(AnswerSwitchLocator(ScriptedClient(lambda r: "B")).locate(sample, student))
    assert location.outcome == "failed" and location.step is None and location.calls == 4
    assert location.failure is not None and location.failure.attempts[0].raw == "B"


def test_open_question_is_a_data_error(student: StudentOutput) -> None:
    sample = Sample(id="open", question="How many?", answer="2")
    with pytest.raises(DataError, match="multiple-choice") as info:
        asyncio.run(AnswerSwitchLocator(LogprobClient([])).locate(sample, student))
    assert info.value.field == "choices"


@pytest.mark.parametrize("fallback", ["last", "none"])
def test_one_step_is_located_with_its_reason_without_a_call(sample: Sample, fallback: str) -> None:
    one = StudentOutput(sample_id="s1", raw_text="", steps=["I see 1 red circle."], answer="1")
    client = LogprobClient([])
    location = asyncio.run(AnswerSwitchLocator(client, AnswerSwitchOptions(fallback=fallback)).locate(sample, one))
    assert (location.step, location.outcome, location.n_steps, location.calls) == (1, "found", 1, 0)
    assert location.reason and "step" in location.reason and client.requests == []


def test_no_steps_is_its_own_outcome_not_a_failed_call(sample: Sample) -> None:
    bare = StudentOutput(sample_id="s1", raw_text="Answer: 1", steps=[], answer="1")
    location = asyncio.run(AnswerSwitchLocator(LogprobClient([])).locate(sample, bare))
    assert (location.step, location.outcome, location.calls, location.failure) == (None, "no_steps", 0, None)


def test_one_step_of_an_open_question_is_still_a_data_error() -> None:
    one = StudentOutput(sample_id="open", raw_text="", steps=["I count 2."], answer="2")
    with pytest.raises(DataError, match="multiple-choice"):
        asyncio.run(AnswerSwitchLocator(LogprobClient([])).locate(Sample(id="open", question="How many?", answer="3"),
                                                                  one))
