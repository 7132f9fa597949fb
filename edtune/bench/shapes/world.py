"""Assembling the shapes world: configuration, sample generation, and the in-memory world.

Every split draws from its own `random.Random` seeded by (seed, split name), so changing the pool size
leaves the test sets unchanged. Splits are generated evaluation-first (each task's test, then val, then
the pool), and no (scene, question) pair is used twice across them: a pool sample is never a copy of a
validation or test sample. The base split is drawn on its own (it only holds base-skill questions, which
no target task asks).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import Field, field_validator, model_validator

from edtune.bench.shapes.families import BASE_FAMILIES, DEFAULT_POOL_MIX, FAMILIES, TASKS
from edtune.bench.shapes.questions import Family, Listing, Params, Solution
from edtune.bench.shapes.scene import GRID, Scene, sample_scene
from edtune.bench.shapes.skills import required_skill_phrases
from edtune.errors import ConfigError
from edtune.records import Record, Sample

# Scenes drawn for one sample before giving up. Every family fits well over 1 scene in 10 at the default
# object counts; running out means the config leaves too few distinct (scene, question) pairs.
_MAX_TRIES = 1000


class ShapesConfig(Record):
    """Settings of one shapes world. The defaults are the bundled benchmark."""

    seed: int = 0
    """Master seed; the same config gives a byte-identical world."""
    pool_size: int = Field(default=20_000, ge=1)
    """Supporting-pool samples. 20,000 is the benchmark's floor: big enough that a task's relevant share
    holds several selection rounds of 500 samples, small enough to generate quickly."""
    val_size: int = Field(default=500, ge=1)
    """Validation samples per target task (the student's errors are mined here)."""
    test_size: int = Field(default=1_000, ge=1)
    """Test samples per target task; 1,000 gives about +-3 points of 95% interval on accuracy."""
    base_size: int = Field(default=2_000, ge=0)
    """Base-skill samples written as base.jsonl (replay data; pretraining draws more via generate_base)."""
    tasks: list[str] = Field(default_factory=lambda: list(TASKS), min_length=1)
    """Target tasks to generate val/test sets for."""
    pool_mix: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_POOL_MIX))
    """Question family -> relative weight in the pool; a family left out (or at 0) is absent."""
    min_objects: int = Field(default=1, ge=1)
    """Fewest objects in a scene."""
    max_objects: int = Field(default=4, ge=2, le=GRID * GRID)
    """Most objects in a scene. 4 keeps rationales short and within what a tiny student learns from a
    48-px image (benchmarks/README.md). At least 2, since comparisons need two objects."""
    cell_px: int = Field(default=16, ge=8, le=64)
    """Pixels per grid cell (image side = 3 x cell_px). 16 matches a 16-px ViT patch: one cell, one token."""
    listing: Listing = "names"
    """Style of every rationale's opening step. "names" is what the bundled student was pretrained to
    write; "attributes" adds each object's size and cell ("large red-circle top-left") and goes with the
    `attributes` student, whose listing carries what the size and spatial families read. Only the
    rationale text changes: scenes, questions and answers are the same for the same seed."""

    @field_validator("tasks")
    @classmethod
    def _known_tasks(cls, tasks: list[str]) -> list[str]:
        unknown = [t for t in tasks if t not in TASKS]
        if unknown:
            raise ValueError(f"unknown task(s) {unknown}; known: {list(TASKS)}")
        if len(set(tasks)) != len(tasks):
            raise ValueError(f"tasks listed twice: {tasks}")
        return tasks

    @field_validator("pool_mix")
    @classmethod
    def _valid_mix(cls, mix: dict[str, float]) -> dict[str, float]:
        unknown = [name for name in mix if name not in FAMILIES]
        if unknown:
            raise ValueError(f"unknown question family {unknown}; known: {list(FAMILIES)}")
        negative = {name: w for name, w in mix.items() if w < 0}
        if negative:
            raise ValueError(f"weights must be >= 0, got {negative}")
        if sum(mix.values()) <= 0:
            raise ValueError("at least one family needs a positive weight")
        return mix

    @model_validator(mode="after")
    def _object_range(self) -> ShapesConfig:
        if self.min_objects > self.max_objects:
            raise ValueError(f"min_objects ({self.min_objects}) exceeds max_objects ({self.max_objects})")
        return self

    @property
    def image_px(self) -> int:
        """Side of every image in pixels."""
        return GRID * self.cell_px


@dataclass
class ShapesWorld:
    """A generated world in memory. Images are not stored: render them with `render_sample`."""

    config: ShapesConfig
    splits: dict[str, list[Sample]]
    """Split name -> samples: "pool", "base", then "<task>_val" and "<task>_test" per task."""

    @property
    def pool(self) -> list[Sample]:
        """The task-agnostic supporting pool."""
        return self.splits["pool"]

    @property
    def base(self) -> list[Sample]:
        """Base-skill samples (replay / pretraining)."""
        return self.splits["base"]

    def val(self, task: str) -> list[Sample]:
        """Validation set of a target task."""
        return self.splits[f"{task}_val"]

    def test(self, task: str) -> list[Sample]:
        """Test set of a target task."""
        return self.splits[f"{task}_test"]


def _allocate(total: int, mix: Mapping[str, float]) -> dict[str, int]:
    """Exact per-family counts proportional to `mix` (largest remainder; ties go to the earlier family)."""
    weights = {name: w for name, w in mix.items() if w > 0}
    scale = total / sum(weights.values())
    counts = {name: int(w * scale) for name, w in weights.items()}
    by_remainder = sorted(weights, key=lambda n: -(weights[n] * scale - counts[n]))
    for name in by_remainder[: total - sum(counts.values())]:
        counts[name] += 1
    return counts


def _draw(family: Family, rng: random.Random, config: ShapesConfig, used: set[str]) -> tuple[Scene, Params, Solution]:
    for _ in range(_MAX_TRIES):
        scene = sample_scene(rng, config.min_objects, config.max_objects)
        params = family.pick(rng, scene)
        if params is None:
            continue
        solution = family.solution(scene, params, config.listing)
        key = f"{scene.key()}|{solution.question}"
        if key not in used:
            used.add(key)
            return scene, params, solution
    raise ConfigError(f"could not draw a new '{family.name}' question in {_MAX_TRIES} scenes: the config "
                      f"(objects {config.min_objects}-{config.max_objects}) leaves too few distinct questions")


def _to_sample(sample_id: str, split: str, family: Family, drawn: tuple[Scene, Params, Solution],
               skill_rng: random.Random | None, listing: Listing) -> Sample:
    scene, params, solution = drawn
    skills = list(dict.fromkeys(s.skill for s in solution.steps if s.skill))
    # Recorded only when not the default, so worlds written before the option existed stay byte-identical.
    style = {} if listing == "names" else {"listing": listing}
    return Sample(
        id=sample_id, images=[f"images/{split}/{sample_id}.png"], question=solution.question,
        choices=solution.choices, answer=solution.answer, rationale=solution.steps,
        required_skills=required_skill_phrases(skills, skill_rng) if skill_rng is not None else None,
        metadata={"scene": scene.model_dump(), "skill": family.name, "task": family.group, "split": split,
                  "params": params, "skills": skills, **style},
    )


def generate_samples(mix: Mapping[str, float], n: int, *, split: str, config: ShapesConfig,
                     used: set[str] | None = None, required_skills: bool = False) -> list[Sample]:
    """`n` samples of the families in `mix` (exact shares, shuffled), ids "<split>-000001" on.

    Draws from a generator seeded by (config.seed, split). `used` holds "scene|question" keys to avoid and
    is extended with the new ones. `required_skills` fills `Sample.required_skills` with paraphrases.
    """
    rng = random.Random(f"shapes/{config.seed}/{split}")
    skill_rng = random.Random(f"shapes/{config.seed}/{split}/skills") if required_skills else None
    order = [name for name, count in _allocate(n, mix).items() for _ in range(count)]
    rng.shuffle(order)
    seen = used if used is not None else set()
    return [
        _to_sample(f"{split}-{i:06d}", split, FAMILIES[name], _draw(FAMILIES[name], rng, config, seen), skill_rng,
                   config.listing)
        for i, name in enumerate(order, start=1)
    ]


def generate_base(n: int, seed: int = 0, *, split: str = "base", config: ShapesConfig | None = None) -> list[Sample]:
    """`n` base-skill samples (colour, shape, existence in equal numbers), with ids "<split>-000001" on.

    Equals `generate_world(config).base` for the same seed and size. Base questions never coincide with
    target-task questions, so base samples cannot leak into a test set. Use another `split` name for a
    second, id-disjoint base set (e.g. "base_eval"); its scenes may repeat ones of "base".
    """
    cfg = (config or ShapesConfig()).model_copy(update={"seed": seed})
    return generate_samples(dict.fromkeys(BASE_FAMILIES, 1.0), n, split=split, config=cfg)


def generate_world(config: ShapesConfig | None = None) -> ShapesWorld:
    """Generate every split of a world in memory (a few seconds at the default sizes)."""
    cfg = config or ShapesConfig()
    used: set[str] = set()
    evaluation: dict[str, list[Sample]] = {}
    for task in cfg.tasks:
        mix = dict.fromkeys(TASKS[task], 1.0)
        for part, size in (("test", cfg.test_size), ("val", cfg.val_size)):
            evaluation[f"{task}_{part}"] = generate_samples(mix, size, split=f"{task}_{part}", config=cfg, used=used)
    pool = generate_samples(cfg.pool_mix, cfg.pool_size, split="pool", config=cfg, used=used, required_skills=True)
    # Base samples may repeat pool questions (both teach base skills); they never meet a target task's.
    base = generate_base(cfg.base_size, cfg.seed, config=cfg)
    ordered = {"pool": pool, "base": base}
    for task in cfg.tasks:
        ordered[f"{task}_val"] = evaluation[f"{task}_val"]
        ordered[f"{task}_test"] = evaluation[f"{task}_test"]
    return ShapesWorld(config=cfg, splits=ordered)
