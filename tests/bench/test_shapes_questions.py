"""Gold rationales and answers: tags known, answers recomputed from the scene graph, images match scenes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from edtune.bench.shapes import (
    FAMILIES,
    SKILLS,
    Scene,
    ShapesWorld,
    render_sample,
    scene_of,
    solve_sample,
    training_text,
)
from edtune.bench.shapes.render import RGB
from edtune.errors import DataError
from edtune.rationale import parse_rationale
from edtune.records import Sample


def _count(scene: Scene, params: dict[str, str]) -> str:
    ((attribute, value),) = params.items()
    return str(sum(getattr(o, attribute) == value for o in scene.objects))


def _spatial(scene: Scene, params: dict[str, str]) -> str:
    a, b = scene.find(params["a"]), scene.find(params["b"])
    if params["axis"] == "horizontal":
        return "left" if a.col < b.col else "right"
    return "above" if a.row < b.row else "below"


def _bigger(scene: Scene, params: dict[str, str]) -> str:
    a, b = scene.find(params["a"]), scene.find(params["b"])
    return "same" if a.size == b.size else (a.name if a.size == "large" else b.name)


def _same(scene: Scene, by: str, compare: str, params: dict[str, str]) -> str:
    (a,) = [o for o in scene.objects if getattr(o, by) == params["a"]]
    (b,) = [o for o in scene.objects if getattr(o, by) == params["b"]]
    return "yes" if getattr(a, compare) == getattr(b, compare) else "no"


# Written independently of the generators, from the scene graph alone.
ORACLE: dict[str, Callable[[Scene, dict[str, str]], str]] = {
    "colour_naming": lambda s, p: next(o.colour for o in s.objects if o.shape == p["shape"]),
    "shape_naming": lambda s, p: next(o.shape for o in s.objects if o.colour == p["colour"]),
    "existence": lambda s, p: "yes" if p["name"] in {f"{o.colour}-{o.shape}" for o in s.objects} else "no",
    "colour_comparison": lambda s, p: _same(s, "shape", "colour", p),
    "shape_comparison": lambda s, p: _same(s, "colour", "shape", p),
    "counting": lambda s, p: str(len(s.objects)),
    "counting_by_attribute": _count,
    "position": lambda s, p: "-".join((("top", "middle", "bottom")[s.find(p["name"]).row],
                                       ("left", "middle", "right")[s.find(p["name"]).col])),
    "spatial_relation": _spatial,
    "size_naming": lambda s, p: s.find(p["name"]).size,
    "size_comparison": _bigger,
}


def _all(world: ShapesWorld) -> list[Sample]:
    return [s for samples in world.splits.values() for s in samples]


def test_oracle_covers_every_family_and_every_family_occurs(small_world: ShapesWorld) -> None:
    assert set(ORACLE) == set(FAMILIES)
    assert {s.metadata["skill"] for s in _all(small_world)} == set(FAMILIES)


def test_answers_agree_with_the_scene_graph(small_world: ShapesWorld) -> None:
    for sample in _all(small_world):
        expected = ORACLE[sample.metadata["skill"]](scene_of(sample), sample.metadata["params"])
        assert sample.answer == expected, sample.id
        if sample.choices is not None:
            assert sample.answer in sample.choices and len(set(sample.choices)) == len(sample.choices)


def test_gold_steps_are_tagged_with_known_skills_and_rebuild_from_the_scene(small_world: ShapesWorld) -> None:
    for sample in _all(small_world):
        assert sample.rationale and all(step.skill in SKILLS for step in sample.rationale)
        assert sample.rationale[0].skill == "object_recognition"
        assert sample.metadata["skills"] == list(dict.fromkeys(step.skill for step in sample.rationale))
        solution = solve_sample(sample)
        assert (solution.question, solution.answer, solution.steps) == (sample.question, sample.answer,
                                                                         sample.rationale)


def test_base_samples_use_only_base_skills_and_targets_need_a_target_skill(small_world: ShapesWorld) -> None:
    for sample in small_world.base:
        assert all(SKILLS[name].kind == "base" for name in sample.metadata["skills"])
    for name, samples in small_world.splits.items():
        if name.endswith(("_val", "_test")):
            assert all(any(SKILLS[k].kind == "target" for k in s.metadata["skills"]) for s in samples), name


def test_pool_samples_carry_one_paraphrase_per_needed_skill(small_world: ShapesWorld) -> None:
    phrasings = set()
    for sample in small_world.pool:
        skills = sample.metadata["skills"]
        assert sample.required_skills is not None and len(sample.required_skills) == len(skills)
        for skill, phrase in zip(skills, sample.required_skills, strict=True):
            assert phrase in SKILLS[skill].phrases
            phrasings.add(phrase)
    assert len(phrasings) > 2 * len(SKILLS)  # wording varies, not one fixed phrase per skill
    assert all(s.required_skills is None for s in small_world.test("counting"))


def test_training_text_round_trips_through_the_rationale_parser(small_world: ShapesWorld) -> None:
    sample = small_world.val("counting")[0]
    steps, answer = parse_rationale(training_text(sample))
    assert steps == [step.text for step in sample.rationale or []] and answer == sample.answer


def test_rendered_pixels_show_each_object_in_its_cell(small_world: ShapesWorld) -> None:
    for sample in small_world.pool[:200]:
        image = render_sample(sample)
        assert image.size == (48, 48) and image.mode == "RGB"
        scene = scene_of(sample)
        for obj in scene.objects:
            # The lower-middle of a cell lies inside every shape, small triangles included.
            assert image.getpixel((obj.col * 16 + 8, obj.row * 16 + 10)) == RGB[obj.colour], sample.id
        empty = {(r, c) for r in range(3) for c in range(3)} - {(o.row, o.col) for o in scene.objects}
        for row, col in empty:
            assert image.crop((col * 16, row * 16, col * 16 + 16, row * 16 + 16)).getcolors() == [(256, (255,) * 3)]


def test_large_shapes_cover_more_pixels_than_small_ones(small_world: ShapesWorld) -> None:
    covered: dict[tuple[str, str], set[int]] = {}
    for sample in small_world.pool[:300]:
        image = render_sample(sample)
        for obj in scene_of(sample).objects:
            cell = image.crop((obj.col * 16, obj.row * 16, obj.col * 16 + 16, obj.row * 16 + 16))
            painted = sum(n for n, colour in cell.getcolors() or [] if colour != (255, 255, 255))
            covered.setdefault((obj.shape, obj.size), set()).add(painted)
    for shape in ("circle", "square", "triangle"):
        assert max(covered[(shape, "small")]) * 2 < min(covered[(shape, "large")])


def test_stored_samples_with_broken_metadata_raise_data_errors(small_world: ShapesWorld) -> None:
    sample = small_world.pool[0]
    with pytest.raises(DataError, match="no scene graph"):
        scene_of(sample.model_copy(update={"metadata": {}}))
    with pytest.raises(DataError, match="unknown question family"):
        solve_sample(sample.model_copy(update={"metadata": {**sample.metadata, "skill": "magic"}}))
    bad_params = {**sample.metadata, "skill": "position", "params": {"name": "purple-star"}}
    with pytest.raises(DataError, match="do not fit its scene"):
        solve_sample(sample.model_copy(update={"metadata": bad_params}))
