"""The listing step's two styles: the same world but for each rationale's opening step, rebuilt exactly."""

from __future__ import annotations

import pytest

from edtune.bench.shapes import FAMILIES, ShapesConfig, ShapesWorld, generate_world, scene_of, solve_sample
from edtune.bench.shapes.questions import Family, Solution, listing_step, step
from edtune.errors import DataError


@pytest.fixture(scope="module")
def attributes_world(small_config: ShapesConfig) -> ShapesWorld:
    return generate_world(small_config.model_copy(update={"listing": "attributes"}))


def test_attributes_listing_names_size_name_and_cell_in_reading_order(attributes_world: ShapesWorld) -> None:
    sample = next(s for s in attributes_world.pool if len(scene_of(s).objects) >= 3)
    scene = scene_of(sample)
    words = ", ".join(f"{o.size} {o.name} {o.position}" for o in scene.objects)
    assert sample.rationale is not None
    assert sample.rationale[0].text == f"I see {words}."
    assert sample.rationale[0].skill == "object_recognition"
    assert listing_step(scene).text == f"I see {', '.join(o.name for o in scene.objects)}."


def test_only_the_opening_step_differs_from_the_names_world(small_world: ShapesWorld,
                                                             attributes_world: ShapesWorld) -> None:
    assert small_world.splits.keys() == attributes_world.splits.keys()
    for split, samples in small_world.splits.items():
        for names, attributes in zip(samples, attributes_world.splits[split], strict=True):
            assert names.rationale is not None and attributes.rationale is not None
            assert (names.id, names.question, names.answer) == (attributes.id, attributes.question, attributes.answer)
            assert names.rationale[1:] == attributes.rationale[1:]
            assert names.rationale[0] != attributes.rationale[0]
            # the default style is left out of the metadata, so older world files stay byte-identical
            assert "listing" not in names.metadata and attributes.metadata["listing"] == "attributes"


def test_every_family_rebuilds_its_attributes_rationale(attributes_world: ShapesWorld) -> None:
    seen = set()
    for sample in attributes_world.pool:
        solved = solve_sample(sample)
        assert (solved.steps, solved.answer) == (sample.rationale, sample.answer)
        seen.add(sample.metadata["skill"])
    assert seen == set(FAMILIES)


def test_unknown_listing_style_in_a_stored_sample_is_a_data_error(attributes_world: ShapesWorld) -> None:
    sample = attributes_world.pool[0]
    broken = sample.model_copy(update={"metadata": {**sample.metadata, "listing": "poetic"}})
    with pytest.raises(DataError, match="unknown listing style 'poetic'") as info:
        solve_sample(broken)
    assert info.value.field == "metadata.listing"


def test_a_family_that_does_not_open_with_the_listing_cannot_change_style(attributes_world: ShapesWorld) -> None:
    def solve(scene: object, params: object) -> Solution:
        return Solution("Why?", None, [step("Because.", "reasoning")], "because")

    odd = Family("odd", "distractor", FAMILIES["counting"].pick, solve)  # type: ignore[arg-type]
    scene = scene_of(attributes_world.pool[0])
    assert odd.solution(scene, {}, "names").steps[0].text == "Because."
    with pytest.raises(ValueError, match="does not open with the listing step"):
        odd.solution(scene, {}, "attributes")


def test_unknown_listing_in_a_config_is_refused() -> None:
    with pytest.raises(ValueError, match="listing"):
        ShapesConfig.model_validate({"listing": "poetic"})
