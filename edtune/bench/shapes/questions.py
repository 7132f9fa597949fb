"""What a question family is, and the rationale phrasing every family shares.

A family has two halves kept apart on purpose: `pick` draws the question's parameters for a scene (or
refuses the scene), and `solve` turns scene + parameters into the question, the gold tagged rationale and
the answer. `solve` uses nothing but its arguments, so anyone holding `metadata["scene"]` and
`metadata["params"]` of a sample can rebuild its gold rationale exactly (see `solve_sample`).

Wording is deliberately fixed and small: one template per family, objects named by one word
("red-circle"), every rationale opening with the same listing step. The bundled student tokenises words
and has about a million parameters; varied phrasing would cost it its base skills.

The listing step comes in two styles (`Listing`): "names" ("I see red-circle, blue-square.") and
"attributes" ("I see large red-circle top-left, small blue-square middle-right."). A family's `solve`
always writes the names style; `Family.solution` swaps the opening step for the style a world asks for.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from edtune.bench.shapes.scene import Scene, SceneObject
from edtune.errors import DataError
from edtune.rationale import format_rationale
from edtune.records import RationaleStep, Sample

Params = dict[str, str]
"""A family's question parameters, e.g. {"shape": "circle"}; stored as `metadata["params"]`."""

YES_NO = ["yes", "no"]

Listing = Literal["names", "attributes"]
"""How the opening step lists the objects: by name only, or each with its size and cell."""
LISTING_SKILL = "object_recognition"
"""Skill tag of the listing step, the opening step of every family's rationale."""


@dataclass(frozen=True)
class Solution:
    """A question about one scene with its gold rationale and answer."""

    question: str
    choices: list[str] | None
    steps: list[RationaleStep]
    answer: str


@dataclass(frozen=True)
class Family:
    """One kind of question: `pick` chooses parameters (None: this scene does not fit), `solve` answers."""

    name: str
    group: str
    """"base", "distractor", or the target task the family belongs to (e.g. "counting")."""
    pick: Callable[[random.Random, Scene], Params | None]
    solve: Callable[[Scene, Params], Solution]

    def solution(self, scene: Scene, params: Params, listing: Listing = "names") -> Solution:
        """`solve`, with the opening listing step written in the `listing` style."""
        solved = self.solve(scene, params)
        if listing == "names":
            return solved
        opening = solved.steps[0]
        if opening.skill != LISTING_SKILL:
            raise ValueError(f"family {self.name!r} does not open with the listing step (got {opening.text!r})")
        return replace(solved, steps=[listing_step(scene, listing), *solved.steps[1:]])


def step(text: str, skill: str) -> RationaleStep:
    """A gold rationale step tagged with the skill it exercises."""
    return RationaleStep(text=text, skill=skill)


def name_list(objects: Sequence[SceneObject]) -> str:
    """Object names joined by ", " in the given order."""
    return ", ".join(o.name for o in objects)


def listing_step(scene: Scene, listing: Listing = "names") -> RationaleStep:
    """The opening step of every rationale: all objects in reading order, by name or with attributes."""
    if listing == "names":
        return step(f"I see {name_list(scene.objects)}.", LISTING_SKILL)
    described = ", ".join(f"{o.size} {o.name} {o.position}" for o in scene.objects)
    return step(f"I see {described}.", LISTING_SKILL)


def unique_values(scene: Scene, attribute: str) -> list[str]:
    """Values of `attribute` ("colour" or "shape") carried by exactly one object of the scene."""
    values = [getattr(o, attribute) for o in scene.objects]
    return [v for v in values if values.count(v) == 1]


def only(scene: Scene, attribute: str, value: str) -> SceneObject:
    """The single object whose `attribute` equals `value` (the caller has checked there is one)."""
    (match,) = [o for o in scene.objects if getattr(o, attribute) == value]
    return match


def yes_no(flag: bool) -> str:
    """The answer word for a yes/no question."""
    return "yes" if flag else "no"


def training_text(sample: Sample) -> str:
    """The text a student is trained to produce: its gold rationale and answer as "Step i: ... / Answer: ..."."""
    if sample.rationale is None:
        raise DataError(f"sample {sample.id} has no gold rationale", field="rationale")
    return format_rationale([s.text for s in sample.rationale], sample.answer)
