"""World assembly: determinism, split sizes and shares, disjoint splits, config validation."""

from __future__ import annotations

from collections import Counter

import pytest
from pydantic import ValidationError

from edtune.bench.shapes import (
    BASE_FAMILIES,
    FAMILIES,
    TASKS,
    ShapesConfig,
    ShapesWorld,
    generate_base,
    generate_world,
    scene_of,
)


def _dump(world: ShapesWorld) -> dict[str, list[str]]:
    return {name: [s.model_dump_json() for s in samples] for name, samples in world.splits.items()}


def test_same_seed_same_world_and_other_seed_differs(small_config: ShapesConfig, small_world: ShapesWorld) -> None:
    assert _dump(generate_world(small_config)) == _dump(small_world)
    other = generate_world(small_config.model_copy(update={"seed": 8}))
    assert _dump(other)["pool"] != _dump(small_world)["pool"]
    assert _dump(other)["counting_test"] != _dump(small_world)["counting_test"]


def test_split_sizes_and_exact_pool_shares(small_config: ShapesConfig, small_world: ShapesWorld) -> None:
    assert list(small_world.splits) == ["pool", "base"] + [f"{t}_{p}" for t in TASKS for p in ("val", "test")]
    assert len(small_world.pool) == 600 and len(small_world.base) == 90
    for task, families in TASKS.items():
        assert len(small_world.val(task)) == 40
        test_mix = Counter(s.metadata["skill"] for s in small_world.test(task))
        assert set(test_mix) == set(families) and len(set(test_mix.values())) == 1
        assert all(s.metadata["task"] == task for s in small_world.test(task))
    shares = Counter(s.metadata["skill"] for s in small_world.pool)
    total = sum(small_config.pool_mix.values())
    for family, weight in small_config.pool_mix.items():
        assert abs(shares[family] - 600 * weight / total) < 1
    assert set(Counter(s.metadata["skill"] for s in small_world.base)) == set(BASE_FAMILIES)


def test_ids_unique_and_no_question_shared_between_pool_and_evaluation(small_world: ShapesWorld) -> None:
    ids = [s.id for samples in small_world.splits.values() for s in samples]
    assert len(ids) == len(set(ids))
    keys = {name: {f"{scene_of(s).key()}|{s.question}" for s in samples}
            for name, samples in small_world.splits.items()}
    evaluation = set().union(*(keys[n] for n in keys if n.endswith(("_val", "_test"))))
    assert not keys["pool"] & evaluation
    assert sum(len(keys[n]) for n in keys if n.endswith(("_val", "_test"))) == len(evaluation)
    assert len(keys["pool"]) == len(small_world.pool)


def test_changing_pool_size_keeps_test_sets(small_config: ShapesConfig, small_world: ShapesWorld) -> None:
    bigger = generate_world(small_config.model_copy(update={"pool_size": 700}))
    assert _dump(bigger)["spatial_test"] == _dump(small_world)["spatial_test"]


def test_generate_base_matches_world_base_and_other_split_names_give_other_ids(small_world: ShapesWorld) -> None:
    base = generate_base(90, seed=7)
    assert [s.model_dump_json() for s in base] == [s.model_dump_json() for s in small_world.base]
    extra = generate_base(5, seed=7, split="base_eval")
    assert [s.id for s in extra] == [f"base_eval-00000{i}" for i in range(1, 6)]
    assert all(s.metadata["skill"] in BASE_FAMILIES for s in extra)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"pool_size": 0}, "greater than or equal to 1"),
        ({"tasks": ["juggling"]}, "unknown task"),
        ({"tasks": []}, "at least 1 item"),
        ({"tasks": ["counting", "counting"]}, "listed twice"),
        ({"pool_mix": {"telepathy": 1.0}}, "unknown question family"),
        ({"pool_mix": {"counting": -1.0}}, "must be >= 0"),
        ({"pool_mix": {"counting": 0.0}}, "positive weight"),
        ({"min_objects": 4, "max_objects": 3}, "exceeds max_objects"),
        ({"max_objects": 1}, "greater than or equal to 2"),
        ({"cell_px": 4}, "greater than or equal to 8"),
        ({"pool_sise": 10}, "Extra inputs are not permitted"),
    ],
)
def test_bad_config_values_are_rejected_clearly(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ShapesConfig.model_validate(change)


def test_every_family_is_reachable_from_a_task_or_the_pool() -> None:
    default = ShapesConfig()
    in_tasks = {f for families in TASKS.values() for f in families}
    assert set(default.pool_mix) == set(FAMILIES)
    assert in_tasks | set(BASE_FAMILIES) | {"colour_comparison", "shape_comparison"} == set(FAMILIES)
    assert default.image_px == 48
