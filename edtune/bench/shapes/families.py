"""All question families by name, the target tasks built from them, and re-solving a stored sample."""

from __future__ import annotations

from typing import get_args

from pydantic import ValidationError

from edtune.bench.shapes.families_base import BASE_AND_DISTRACTOR_FAMILIES
from edtune.bench.shapes.families_target import TARGET_FAMILIES
from edtune.bench.shapes.questions import Family, Listing, Solution
from edtune.bench.shapes.scene import Scene
from edtune.errors import DataError
from edtune.records import Sample

FAMILIES: dict[str, Family] = {f.name: f for f in (*BASE_AND_DISTRACTOR_FAMILIES, *TARGET_FAMILIES)}
"""Every question family by name (the value of `metadata["skill"]`)."""

BASE_FAMILIES: tuple[str, ...] = tuple(f.name for f in FAMILIES.values() if f.group == "base")
"""What the bundled student is pretrained on."""

TASKS: dict[str, tuple[str, ...]] = {
    task: tuple(f.name for f in FAMILIES.values() if f.group == task) for task in ("counting", "spatial", "size")
}
"""Target task -> its question families, mixed in equal numbers in the task's val and test sets."""

DEFAULT_POOL_MIX: dict[str, float] = {
    # base skills: 42% of the pool (an instruction pool is mostly what the model already does)
    "colour_naming": 14.0, "shape_naming": 14.0, "existence": 14.0,
    # distractors: 22%, needed by no target task
    "colour_comparison": 11.0, "shape_comparison": 11.0,
    # 12% per target task, so a task's relevant samples are about a tenth of the pool
    "counting": 6.0, "counting_by_attribute": 6.0,
    "position": 6.0, "spatial_relation": 6.0,
    "size_naming": 6.0, "size_comparison": 6.0,
}
"""Relative weight of each family in the supporting pool (normalised to shares when generating)."""


def scene_of(sample: Sample) -> Scene:
    """The scene graph stored in `sample.metadata["scene"]`; DataError naming the sample if absent or bad."""
    raw = sample.metadata.get("scene")
    if raw is None:
        raise DataError(f"sample {sample.id} has no scene graph", field="metadata.scene")
    try:
        return Scene.model_validate(raw)
    except ValidationError as exc:
        raise DataError(f"sample {sample.id} has an invalid scene graph: {exc}", field="metadata.scene") from exc


def solve_sample(sample: Sample) -> Solution:
    """Rebuild the gold question, rationale and answer of a shapes sample from its scene, parameters and
    listing style (`metadata["listing"]`, "names" when absent)."""
    family_name = sample.metadata.get("skill")
    if family_name not in FAMILIES:
        known = ", ".join(FAMILIES)
        raise DataError(f"sample {sample.id}: unknown question family {family_name!r} (known: {known})",
                        field="metadata.skill")
    params = sample.metadata.get("params")
    if not isinstance(params, dict):
        raise DataError(f"sample {sample.id} has no question parameters", field="metadata.params")
    listing = sample.metadata.get("listing", "names")
    if listing not in get_args(Listing):
        raise DataError(f"sample {sample.id}: unknown listing style {listing!r} (known: {get_args(Listing)})",
                        field="metadata.listing")
    try:
        return FAMILIES[family_name].solution(scene_of(sample), params, listing)
    except (KeyError, ValueError) as exc:
        raise DataError(f"sample {sample.id}: parameters {params} do not fit its scene ({exc!r})",
                        field="metadata.params") from exc
