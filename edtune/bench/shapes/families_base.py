"""Question families the student knows or that no target task needs: naming, existence, comparisons.

Base (pretraining) families: colour_naming, shape_naming, existence.
Distractor families (in the pool, needed by no target task): colour_comparison, shape_comparison.
"""

from __future__ import annotations

import random

from edtune.bench.shapes.questions import (
    YES_NO,
    Family,
    Params,
    Solution,
    listing_step,
    only,
    step,
    unique_values,
    yes_no,
)
from edtune.bench.shapes.scene import COLOURS, SHAPES, Scene


def _pick_colour_naming(rng: random.Random, scene: Scene) -> Params | None:
    shapes = unique_values(scene, "shape")
    return {"shape": rng.choice(shapes)} if shapes else None


def _solve_colour_naming(scene: Scene, params: Params) -> Solution:
    target = only(scene, "shape", params["shape"])
    steps = [listing_step(scene), step(f"The {target.shape} is {target.name}.", "colour_recognition")]
    return Solution(f"What colour is the {target.shape}?", None, steps, target.colour)


def _pick_shape_naming(rng: random.Random, scene: Scene) -> Params | None:
    colours = unique_values(scene, "colour")
    return {"colour": rng.choice(colours)} if colours else None


def _solve_shape_naming(scene: Scene, params: Params) -> Solution:
    target = only(scene, "colour", params["colour"])
    steps = [listing_step(scene), step(f"The {target.colour} object is {target.name}.", "shape_recognition")]
    return Solution(f"What shape is the {target.colour} object?", None, steps, target.shape)


def _pick_existence(rng: random.Random, scene: Scene) -> Params | None:
    present = [o.name for o in scene.objects]
    if rng.random() < 0.5:
        return {"name": rng.choice(present)}
    # Absent objects that share a colour or a shape with a present one: a near miss is the informative "no".
    near = sorted({f"{c}-{s}" for o in scene.objects for c in COLOURS for s in SHAPES
                   if (c == o.colour or s == o.shape)} - set(present))
    return {"name": rng.choice(near)} if near else None


def _solve_existence(scene: Scene, params: Params) -> Solution:
    name = params["name"]
    found = any(o.name == name for o in scene.objects)
    text = f"There is a {name}." if found else f"There is no {name}."
    steps = [listing_step(scene), step(text, "existence_checking")]
    return Solution(f"Is there a {name}?", list(YES_NO), steps, yes_no(found))


def _pick_pair(rng: random.Random, scene: Scene, key: str, same_on: str) -> Params | None:
    """Two values of `key` carried by one object each, half the time chosen to agree on `same_on`."""
    unique = unique_values(scene, key)
    keyed = [o for o in scene.objects if getattr(o, key) in unique]
    pairs = [(a, b) for a in keyed for b in keyed if a is not b]
    want_same = rng.random() < 0.5
    fitting = [(a, b) for a, b in pairs if (getattr(a, same_on) == getattr(b, same_on)) == want_same]
    if not fitting:
        return None
    a, b = rng.choice(fitting)
    return {"a": getattr(a, key), "b": getattr(b, key)}


def _pick_colour_comparison(rng: random.Random, scene: Scene) -> Params | None:
    return _pick_pair(rng, scene, "shape", "colour")


def _solve_colour_comparison(scene: Scene, params: Params) -> Solution:
    a, b = only(scene, "shape", params["a"]), only(scene, "shape", params["b"])
    same = a.colour == b.colour
    steps = [
        listing_step(scene),
        step(f"The {a.shape} is {a.name} and the {b.shape} is {b.name}.", "shape_recognition"),
        step("Their colours are the same." if same else "Their colours are different.", "colour_comparison"),
    ]
    return Solution(f"Is the {a.shape} the same colour as the {b.shape}?", list(YES_NO), steps, yes_no(same))


def _pick_shape_comparison(rng: random.Random, scene: Scene) -> Params | None:
    return _pick_pair(rng, scene, "colour", "shape")


def _solve_shape_comparison(scene: Scene, params: Params) -> Solution:
    a, b = only(scene, "colour", params["a"]), only(scene, "colour", params["b"])
    same = a.shape == b.shape
    steps = [
        listing_step(scene),
        step(f"The {a.colour} object is {a.name} and the {b.colour} object is {b.name}.", "colour_recognition"),
        step("Their shapes are the same." if same else "Their shapes are different.", "shape_comparison"),
    ]
    question = f"Is the {a.colour} object the same shape as the {b.colour} object?"
    return Solution(question, list(YES_NO), steps, yes_no(same))


BASE_AND_DISTRACTOR_FAMILIES = (
    Family("colour_naming", "base", _pick_colour_naming, _solve_colour_naming),
    Family("shape_naming", "base", _pick_shape_naming, _solve_shape_naming),
    Family("existence", "base", _pick_existence, _solve_existence),
    Family("colour_comparison", "distractor", _pick_colour_comparison, _solve_colour_comparison),
    Family("shape_comparison", "distractor", _pick_shape_comparison, _solve_shape_comparison),
)
