"""Question families of the target tasks, whose skills the pretrained student lacks.

counting task: counting, counting_by_attribute. spatial task: position, spatial_relation.
size task: size_naming, size_comparison.
"""

from __future__ import annotations

import random

from edtune.bench.shapes.questions import Family, Params, Solution, listing_step, name_list, step
from edtune.bench.shapes.scene import COLOURS, COLUMN_WORDS, ROW_WORDS, SHAPES, Scene

# Counting-by-attribute answers are drawn uniformly from 0..3 first (a scene without a fitting colour or
# shape is redrawn); picking the attribute value first would make "1" about half of all answers.
_ATTRIBUTE_COUNTS = (0, 1, 2, 3)


def _pick_counting(rng: random.Random, scene: Scene) -> Params | None:
    return {}


def _solve_counting(scene: Scene, params: Params) -> Solution:
    steps = [listing_step(scene), step(f"That makes {len(scene.objects)}.", "counting")]
    return Solution("How many objects are there?", None, steps, str(len(scene.objects)))


def _pick_counting_by_attribute(rng: random.Random, scene: Scene) -> Params | None:
    attribute = rng.choice(("colour", "shape"))
    wanted = rng.choice(_ATTRIBUTE_COUNTS)
    values = COLOURS if attribute == "colour" else SHAPES
    fitting = [v for v in values if sum(getattr(o, attribute) == v for o in scene.objects) == wanted]
    return {attribute: rng.choice(fitting)} if fitting else None


def _solve_counting_by_attribute(scene: Scene, params: Params) -> Solution:
    ((attribute, value),) = params.items()
    group = f"{value} objects" if attribute == "colour" else f"{value}s"
    matches = [o for o in scene.objects if getattr(o, attribute) == value]
    found = f"The {group} are {name_list(matches)}." if matches else f"There are no {group}."
    steps = [
        listing_step(scene),
        step(found, "attribute_filtering"),
        step(f"That makes {len(matches)}.", "counting"),
    ]
    return Solution(f"How many {group} are there?", None, steps, str(len(matches)))


def _pick_one(rng: random.Random, scene: Scene) -> Params | None:
    return {"name": rng.choice(scene.objects).name}


def _solve_position(scene: Scene, params: Params) -> Solution:
    target = scene.find(params["name"])
    where = f"The {target.name} is in the {ROW_WORDS[target.row]} row and the {COLUMN_WORDS[target.col]} column."
    steps = [listing_step(scene), step(where, "spatial_localisation")]
    return Solution(f"Where is the {target.name}?", None, steps, target.position)


def _pick_spatial_relation(rng: random.Random, scene: Scene) -> Params | None:
    options = [(a.name, b.name, axis) for a in scene.objects for b in scene.objects if a is not b
               for axis, differs in (("horizontal", a.col != b.col), ("vertical", a.row != b.row)) if differs]
    if not options:
        return None
    a, b, axis = rng.choice(options)
    return {"a": a, "b": b, "axis": axis}


def _solve_spatial_relation(scene: Scene, params: Params) -> Solution:
    a, b = scene.find(params["a"]), scene.find(params["b"])
    if params["axis"] == "horizontal":
        words, line, choices = COLUMN_WORDS, "column", ["left", "right"]
        answer = "left" if a.col < b.col else "right"
        relation, ask = f"{answer} of", "left or right of"
        place_a, place_b = a.col, b.col
    else:
        words, line, choices = ROW_WORDS, "row", ["above", "below"]
        answer = "above" if a.row < b.row else "below"
        relation, ask = answer, "above or below"
        place_a, place_b = a.row, b.row
    steps = [
        listing_step(scene),
        step(f"The {a.name} is in the {words[place_a]} {line} and the {b.name} is in the {words[place_b]} {line}.",
             "spatial_localisation"),
        step(f"So the {a.name} is {relation} the {b.name}.", "spatial_relation"),
    ]
    return Solution(f"Is the {a.name} {ask} the {b.name}?", choices, steps, answer)


def _solve_size_naming(scene: Scene, params: Params) -> Solution:
    target = scene.find(params["name"])
    steps = [listing_step(scene), step(f"The {target.name} is {target.size}.", "size_recognition")]
    return Solution(f"Is the {target.name} small or large?", ["small", "large"], steps, target.size)


def _pick_size_comparison(rng: random.Random, scene: Scene) -> Params | None:
    if len(scene.objects) < 2:
        return None
    a, b = rng.sample(scene.objects, 2)
    return {"a": a.name, "b": b.name}


def _solve_size_comparison(scene: Scene, params: Params) -> Solution:
    a, b = scene.find(params["a"]), scene.find(params["b"])
    if a.size == b.size:
        verdict, answer = "So they are the same size.", "same"
    else:
        bigger = a if a.size == "large" else b
        verdict, answer = f"So the {bigger.name} is bigger.", bigger.name
    steps = [
        listing_step(scene),
        step(f"The {a.name} is {a.size} and the {b.name} is {b.size}.", "size_recognition"),
        step(verdict, "size_comparison"),
    ]
    return Solution(f"Which is bigger, the {a.name} or the {b.name}?", [a.name, b.name, "same"], steps, answer)


TARGET_FAMILIES = (
    Family("counting", "counting", _pick_counting, _solve_counting),
    Family("counting_by_attribute", "counting", _pick_counting_by_attribute, _solve_counting_by_attribute),
    Family("position", "spatial", _pick_one, _solve_position),
    Family("spatial_relation", "spatial", _pick_spatial_relation, _solve_spatial_relation),
    Family("size_naming", "size", _pick_one, _solve_size_naming),
    Family("size_comparison", "size", _pick_size_comparison, _solve_size_comparison),
)
