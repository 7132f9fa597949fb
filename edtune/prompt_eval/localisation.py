"""Localisation methods compared on the same gold set: a seeded random step, per-step prompting, the
direct structured prompt, and answer-switch (arXiv 2412.15652 reports 7 / 28 / 59 / 65% exact for
random / per-step / pseudo-rationale / answer-switch on its data).

Answer-switch needs a multiple-choice question whose gold answer is one of the options, so when it is
among the methods every method is scored on those items only (the others are counted in `skipped`):
each row of the table is measured on exactly the same items.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from edtune.llm.base import LLMClient
from edtune.prompt_eval.gold import GoldItem, GoldSet
from edtune.prompt_eval.metrics import ItemOutcome, TemplateMetrics, compute_metrics
from edtune.prompt_eval.runner import EvalSettings, evaluate_template
from edtune.records import Record
from edtune.teacher.inputs import option_letter
from edtune.templates import load_template

Method = Literal["random", "per_step", "direct", "answer_switch"]
METHODS: tuple[Method, ...] = ("random", "per_step", "direct", "answer_switch")
DEFAULT_TEMPLATES: dict[Method, str] = {"per_step": "step_check", "direct": "first_wrong_step",
                                        "answer_switch": "answer_switch"}
"""The template each teacher method renders unless told otherwise."""


class MethodRow(Record):
    """One method's scores."""

    method: Method
    """Which method."""
    template: str | None
    """`name@hash` of the template it rendered; None for the random baseline."""
    metrics: TemplateMetrics
    """Scores and costs on the compared items."""


class LocalisationComparison(Record):
    """The comparison table."""

    gold: str
    """Gold set name and hash."""
    teacher: str
    """The client's name."""
    seed: int
    """Seed of the random baseline."""
    items: int
    """Items every method was scored on."""
    skipped: int
    """Gold items left out because a method cannot apply to them (answer-switch: not multiple choice)."""
    rows: list[MethodRow]
    """One row per method, in the order asked."""


def answer_switch_applies(item: GoldItem) -> bool:
    """Whether answer-switch can localise this item: two or more options, the gold answer one of them."""
    sample = item.sample
    return bool(sample.choices) and len(sample.choices or []) >= 2 and option_letter(sample, sample.answer) is not None


def random_outcomes(gold: GoldSet, seed: int) -> list[ItemOutcome]:
    """The random baseline: a step drawn uniformly from 1..n_steps per item, from `random.Random(seed)`."""
    rng = random.Random(seed)
    outcomes = []
    for item in gold:
        step = rng.randint(1, len(item.student_steps))
        outcomes.append(ItemOutcome(item_id=item.id, status="answered", step=step, output=f"step {step} (random)"))
    return outcomes


async def compare_localisation(gold: GoldSet, client: LLMClient, *, methods: Sequence[Method] = METHODS,
                               seed: int = 0, settings: EvalSettings | None = None,
                               templates: Mapping[Method, str] | None = None,
                               project_dir: str | Path | None = None) -> LocalisationComparison:
    """Score each method on the same items of `gold` (see the module docstring)."""
    names = {**DEFAULT_TEMPLATES, **(templates or {})}
    subset = gold
    if "answer_switch" in methods:
        kept = tuple(item for item in gold if answer_switch_applies(item))
        subset = dataclasses.replace(gold, items=kept)
    rows = []
    for method in methods:
        if method == "random":
            metrics = compute_metrics("first_wrong_step", random_outcomes(subset, seed), subset)
            rows.append(MethodRow(method=method, template=None, metrics=metrics))
            continue
        template = load_template(names[method], project_dir)
        run = await evaluate_template(template, subset, client, settings) if subset.items else None
        metrics = run.metrics if run is not None else compute_metrics(template.meta.task, [], subset)
        rows.append(MethodRow(method=method, template=f"{template.name}@{template.hash}", metrics=metrics))
    return LocalisationComparison(gold=f"{gold.meta.name}@{gold.hash}", teacher=client.name, seed=seed,
                                  items=len(subset.items), skipped=len(gold.items) - len(subset.items), rows=rows)
