"""One answering function per teacher task: the ground truth of `truth`, or with the request's simulated
error (`noise`) a plausible wrong answer. Structured replies are JSON that validates against the schema
the request sent (bounds such as the step range or the skill count are read from that schema).

Answer-switch (arXiv 2412.15652): while every step shown matches the gold rationale, the teacher keeps
`gold_mass` on the gold option; once a wrong step has been shown, only `switched_gold_mass` stays there
and the rest moves to the options the wrong steps point to: the non-gold options whose text the steps
from the first wrong one on mention, or every non-gold option when they mention none.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from edtune.bench.reference.index import agreed
from edtune.bench.reference.noise import Draw, other_skill, other_step
from edtune.bench.reference.parse import ParsedRequest, TaskKind
from edtune.bench.reference.settings import ReferenceSettings, UnmatchedRequest
from edtune.bench.reference.truth import (
    blamed_step,
    first_error,
    first_shown_error,
    gold_texts,
    required_skills,
    step_correct,
)
from edtune.bench.shapes import SkillInfo, normalise
from edtune.rationale import parse_rationale
from edtune.records import Sample
from edtune.teacher.records import MAX_PHRASE_WORDS

UNFAVOURED_MASS = 0.001
"""Answer-switch: probability of a non-gold option the shown wrong steps do not point to."""
_NUMBER_WORDS = {word: str(i) for i, word in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"])}


@dataclass(frozen=True)
class Reply:
    """What the reference teacher says to one request."""

    text: str
    """The assistant message (JSON for structured tasks, one option letter for answer-switch)."""
    erred: bool
    """Whether a simulated error changed the answer."""
    letters: dict[str, float] | None = None
    """Answer-switch: probability of each option letter (the first token's top logprobs come from it)."""


@dataclass(frozen=True)
class Context:
    """What every answering function may use besides the request and its samples."""

    settings: ReferenceSettings
    skills: dict[str, SkillInfo]
    draw: Draw


Answer = Callable[[ParsedRequest, Sequence[Sample], Context], Reply]


def _gold_key(sample: Sample) -> tuple[Any, ...]:
    steps = tuple((s.text, s.skill) for s in sample.rationale or [])
    return steps, normalise(sample.answer)


def _sample(samples: Sequence[Sample]) -> Sample:
    """One of the matched samples, once all of them agree on the gold rationale and answer."""
    agreed(samples, _gold_key, "gold rationale")
    return samples[0]


def _steps(request: ParsedRequest) -> list[str]:
    steps = request.steps()
    if not steps:
        raise UnmatchedRequest(f"{request.task} request: no 'Step 1: ...' lines in the last user message",
                               "unparsed_prompt")
    return steps


def _schema_bound(request: ParsedRequest, field: str, key: str) -> int | None:
    prop = ((request.schema or {}).get("properties") or {}).get(field) or {}
    value = prop.get(key)
    return value if isinstance(value, int) else None


def _json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)


def _step_reason(sample: Sample, step: int) -> str:
    gold = gold_texts(sample)
    if step <= len(gold):
        return f"Step {step} does not match the picture: it should say \"{gold[step - 1]}\""
    return f"The steps up to here are right, but they lead to the answer {sample.answer}."


def first_wrong_step(request: ParsedRequest, samples: Sequence[Sample], ctx: Context) -> Reply:
    """Direct localisation: the blamed step (`truth.blamed_step`) and why."""
    sample, steps = _sample(samples), _steps(request)
    n_steps = min(len(steps), _schema_bound(request, "step", "maximum") or len(steps))
    step = min(blamed_step(sample, steps), n_steps)
    wrong = other_step(step, n_steps, ctx.draw.rng) if ctx.draw.errs else None
    chosen = wrong if wrong is not None else step
    return Reply(_json({"step": chosen, "reason": _step_reason(sample, chosen)}), erred=wrong is not None)


def step_check(request: ParsedRequest, samples: Sequence[Sample], ctx: Context) -> Reply:
    """Per-step check of the last step shown, given the ones before it."""
    sample, steps = _sample(samples), _steps(request)
    correct = step_correct(sample, steps, len(steps)) != ctx.draw.errs
    reason = "It agrees with the picture and the steps before it." if correct else _step_reason(sample, len(steps))
    return Reply(_json({"correct": correct, "reason": reason}), erred=ctx.draw.errs)


def answer_switch(request: ParsedRequest, samples: Sequence[Sample], ctx: Context) -> Reply:
    """The option letter after a prefix of the student's steps, with the letter probabilities."""
    sample, options = _sample(samples), request.options() or []
    letters = list(string.ascii_uppercase[: len(options)])
    gold = next((letter for letter, text in zip(letters, options, strict=True)
                 if normalise(text) == normalise(sample.answer)), None)
    if len(options) < 2 or gold is None:
        raise UnmatchedRequest("answer-switch request: the prompt shows no '(A) ...' options that include the "
                               "gold answer", "unparsed_prompt")
    steps = request.steps()
    shown = first_shown_error(sample, steps)
    switched = (shown is not None) != ctx.draw.errs
    targets = _pointed(options, letters, gold, steps[shown - 1:] if shown is not None else [])
    probs = _distribution(letters, gold, targets if switched else None, ctx.settings)
    return Reply(max(probs, key=lambda letter: probs[letter]), erred=ctx.draw.errs, letters=probs)


def _pointed(options: Sequence[str], letters: Sequence[str], gold: str, wrong_steps: Sequence[str]) -> list[str]:
    """Non-gold letters whose option the wrong steps mention; every non-gold letter when none is."""
    said = " ".join(normalise(step) for step in wrong_steps)
    others = [(letter, normalise(text)) for letter, text in zip(letters, options, strict=True) if letter != gold]
    mentioned = [letter for letter, text in others if re.search(rf"(?<![\w-]){re.escape(text)}(?![\w-])", said)]
    return mentioned or [letter for letter, _ in others]


def _distribution(letters: Sequence[str], gold: str, targets: Sequence[str] | None,
                  settings: ReferenceSettings) -> dict[str, float]:
    """Before the switch (targets None): gold_mass on gold, the rest spread; after: see the module docstring."""
    others = [letter for letter in letters if letter != gold]
    if targets is None:
        return {letter: settings.gold_mass if letter == gold else (1 - settings.gold_mass) / len(others)
                for letter in letters}
    rest = 1 - settings.switched_gold_mass - UNFAVOURED_MASS * (len(others) - len(targets))
    probs = {letter: rest / len(targets) if letter in targets else UNFAVOURED_MASS for letter in others}
    return {letter: settings.switched_gold_mass if letter == gold else probs[letter] for letter in letters}


def _phrase(skill: str, ctx: Context) -> str:
    """How the teacher writes a skill: a catalogue phrase short enough for a skill record."""
    info = ctx.skills.get(skill)
    short = [p for p in (info.phrases if info else []) if len(p.split()) <= MAX_PHRASE_WORDS]
    if not short:
        return skill.replace("_", " ")
    return short[0] if ctx.settings.phrasing == "canonical" else ctx.draw.rng.choice(short)


def missing_skills(request: ParsedRequest, samples: Sequence[Sample], ctx: Context) -> Reply:
    """The gold skill of the first wrong step (see `truth`), as one phrase."""
    sample, steps = _sample(samples), _steps(request)
    skill = first_error(sample, steps).skill
    wrong = other_skill(list(ctx.skills), [skill], ctx.draw.rng) if ctx.draw.errs else None
    return Reply(_json({"skills": [_phrase(wrong or skill, ctx)]}), erred=wrong is not None)


def required_skills_of(request: ParsedRequest, samples: Sequence[Sample], ctx: Context) -> Reply:
    """The sample's gold skill tags as phrases, at most the schema's `maxItems`."""
    skills = list(agreed(samples, lambda s: tuple(required_skills(s)), "required skills"))
    skills = skills[: _schema_bound(request, "skills", "maxItems") or len(skills)]
    wrong = other_skill(list(ctx.skills), skills, ctx.draw.rng) if ctx.draw.errs else None
    if wrong is not None:
        skills[ctx.draw.rng.randrange(len(skills))] = wrong
    return Reply(_json({"skills": [_phrase(skill, ctx) for skill in skills]}), erred=wrong is not None)


def judge(request: ParsedRequest, samples: Sequence[Sample], ctx: Context) -> Reply:
    """Whether the student's answer shown equals the gold answer (normalised; an option letter or a number
    word counts as its option or number). Text-only candidates that differ in the gold answer are narrowed
    by the prompt's reference answer."""
    reference = request.reference_answer()
    if reference is not None and len({normalise(s.answer) for s in samples}) > 1:
        samples = [s for s in samples if normalise(s.answer) == normalise(reference)] or samples
    agreed(samples, lambda s: normalise(s.answer), "gold answer")
    sample = samples[0]
    shown = request.student_answer()
    answer = parse_rationale(shown)[1] or shown
    correct = same_answer(answer, sample.answer, sample.choices) != ctx.draw.errs
    relation = "means the same" if correct else "differs"
    reason = f"The reference answer is {sample.answer}; the student's answer {relation}."
    return Reply(_json({"reason": reason, "verdict": "correct" if correct else "incorrect"}), erred=ctx.draw.errs)


def same_answer(answer: str, gold: str, choices: Sequence[str] | None) -> bool:
    """Whether `answer` states `gold` (see `judge`)."""
    text = normalise(answer).strip("()[]*:. ")
    letters = string.ascii_uppercase[: len(choices or [])]
    if len(text) == 1 and text.upper() in letters and choices:
        text = normalise(choices[letters.index(text.upper())])
    return _NUMBER_WORDS.get(text, text) == _NUMBER_WORDS.get(normalise(gold), normalise(gold))


ANSWERS: dict[TaskKind, Answer] = {
    "first_wrong_step": first_wrong_step,
    "step_check": step_check,
    "answer_switch": answer_switch,
    "missing_skills": missing_skills,
    "required_skills": required_skills_of,
    "judge": judge,
}
"""The answering function of each task."""
