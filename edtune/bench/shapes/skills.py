"""The skill catalogue: every skill a gold rationale step can be tagged with, and how people phrase it.

Each skill has a canonical name (the tag on `RationaleStep.skill`) and several paraphrases. Pool samples
get one paraphrase per skill they need in `Sample.required_skills`, drawn at random, so that a retriever
matching a teacher's free-text "missing skill" against them meets varied wording, as it would in a real
instruction pool, rather than the exact tag.
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import Field

from edtune.records import Record

SkillKind = Literal["base", "target", "distractor"]


class SkillInfo(Record):
    """One skill of the shapes world."""

    name: str
    """Canonical tag, e.g. "counting"; the value of `RationaleStep.skill` in gold rationales."""
    kind: SkillKind
    """base: taught in pretraining; target: needed by a target task, not pretrained; distractor: in the
    pool but needed by no target task."""
    description: str
    """One sentence saying what the skill does, for people and teachers."""
    phrases: list[str] = Field(min_length=3)
    """Paraphrases used as `required_skills` text of pool samples."""


def _skill(name: str, kind: SkillKind, description: str, *phrases: str) -> SkillInfo:
    return SkillInfo(name=name, kind=kind, description=description, phrases=list(phrases))


SKILLS: dict[str, SkillInfo] = {s.name: s for s in (
    _skill("object_recognition", "base", "List every object in the image by colour and shape.",
           "recognising the objects in an image", "listing the coloured shapes in a picture",
           "identifying each object by its colour and shape", "naming all the items shown",
           "reading off what objects a scene contains"),
    _skill("colour_recognition", "base", "Name the colour of a given object.",
           "naming the colour of an object", "telling which colour a shape is",
           "colour identification", "recognising red, green, blue and yellow",
           "saying what colour something is painted"),
    _skill("shape_recognition", "base", "Name the shape of a given object.",
           "naming the shape of an object", "telling circles, squares and triangles apart",
           "shape identification", "recognising geometric forms",
           "finding an object by the kind of shape it is"),
    _skill("existence_checking", "base", "Decide whether an object is present in the image.",
           "checking whether an object is present", "deciding if something appears in the picture",
           "verifying the existence of an item", "answering whether there is a given object",
           "looking for a specific object and reporting if it is there"),
    _skill("counting", "target", "Count a list of objects and give the number.",
           "counting objects", "counting how many shapes are in a picture",
           "enumerating items in an image", "giving the number of things shown",
           "tallying objects to a total"),
    _skill("attribute_filtering", "target", "Keep only the objects with a given colour or shape.",
           "selecting the objects that have a given colour", "filtering items by an attribute",
           "picking out all shapes of one kind", "grouping objects that share a colour or shape",
           "narrowing a set of objects down to those matching a property"),
    _skill("spatial_localisation", "target", "Say which row and column of the grid an object is in.",
           "locating an object in the image", "telling where in the picture a shape is",
           "finding the row and column of an object", "describing the position of an item",
           "knowing top, bottom, left and right parts of an image"),
    _skill("spatial_relation", "target", "Compare the positions of two objects (left of, above ...).",
           "understanding spatial relations between objects", "deciding whether one object is left of another",
           "comparing the positions of two shapes", "judging which item is above or below another",
           "relative placement of things in a scene"),
    _skill("size_recognition", "target", "Say whether an object is small or large.",
           "telling whether an object is small or large", "recognising the size of a shape",
           "judging how big an item is", "size estimation of objects",
           "noticing big and little things in a picture"),
    _skill("size_comparison", "target", "Decide which of two objects is bigger, or that they match.",
           "comparing the sizes of two objects", "deciding which shape is bigger",
           "judging relative size", "telling whether two items are the same size",
           "picking the larger of two things"),
    _skill("colour_comparison", "distractor", "Decide whether two objects have the same colour.",
           "comparing the colours of two objects", "deciding if two shapes share a colour",
           "colour matching", "telling whether two items are painted alike",
           "checking two things for the same hue"),
    _skill("shape_comparison", "distractor", "Decide whether two objects have the same shape.",
           "comparing the shapes of two objects", "deciding if two items have the same form",
           "shape matching", "telling whether two objects are the same kind of figure",
           "checking two things for identical geometry"),
)}
"""All skills by canonical name, in the order they are listed in manifests and summaries."""


def required_skill_phrases(skills: list[str], rng: random.Random) -> list[str]:
    """One randomly chosen paraphrase per distinct skill, in first-use order."""
    distinct = list(dict.fromkeys(skills))
    return [rng.choice(SKILLS[name].phrases) for name in distinct]
