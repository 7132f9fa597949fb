"""The bundled shapes world: procedurally generated visual QA with scene graphs and tagged gold rationales.

    world = generate_world(ShapesConfig(seed=0))    # in memory, a few seconds
    write_world(world, "data/shapes")               # JSONL + PNG + world.json
    world = load_world("data/shapes")
    image = render_sample(world.pool[0])            # PIL image from the stored scene graph
    first_wrong_step(sample, steps, answer)         # ground-truth first wrong step + missing skill

Question families (`metadata["skill"]`), their group (`metadata["task"]`), form, and default pool share:

    family                 group       form              gold step skills (after object_recognition)   pool
    colour_naming          base        open (colour)     colour_recognition                              14%
    shape_naming           base        open (shape)      shape_recognition                               14%
    existence              base        yes/no choices    existence_checking                              14%
    colour_comparison      distractor  yes/no choices    shape_recognition, colour_comparison            11%
    shape_comparison       distractor  yes/no choices    colour_recognition, shape_comparison            11%
    counting               counting    open (number)     counting                                         6%
    counting_by_attribute  counting    open (number)     attribute_filtering, counting                    6%
    position               spatial     open (row-col)    spatial_localisation                             6%
    spatial_relation       spatial     2 choices         spatial_localisation, spatial_relation           6%
    size_naming            size        small/large       size_recognition                                 6%
    size_comparison        size        3 choices         size_recognition, size_comparison                6%

So each target task's families are 12% of the pool (the share a perfect selector finds relevant), base
families 42% and distractors 22%. world.json records the shares of every written world.

Importing this package is cheap (pydantic and PIL only).
"""

from edtune.bench.shapes.families import BASE_FAMILIES, DEFAULT_POOL_MIX, FAMILIES, TASKS, scene_of, solve_sample
from edtune.bench.shapes.io import WorldManifest, load_world, read_manifest, write_world
from edtune.bench.shapes.locate import FirstError, first_wrong_step, first_wrong_step_of, normalise
from edtune.bench.shapes.questions import training_text
from edtune.bench.shapes.render import png_bytes, render_sample, render_scene
from edtune.bench.shapes.scene import Scene, SceneObject
from edtune.bench.shapes.skills import SKILLS, SkillInfo
from edtune.bench.shapes.world import ShapesConfig, ShapesWorld, generate_base, generate_samples, generate_world

__all__ = [
    "BASE_FAMILIES",
    "DEFAULT_POOL_MIX",
    "FAMILIES",
    "SKILLS",
    "TASKS",
    "FirstError",
    "Scene",
    "SceneObject",
    "ShapesConfig",
    "ShapesWorld",
    "SkillInfo",
    "WorldManifest",
    "first_wrong_step",
    "first_wrong_step_of",
    "generate_base",
    "generate_samples",
    "generate_world",
    "load_world",
    "normalise",
    "png_bytes",
    "read_manifest",
    "render_sample",
    "render_scene",
    "scene_of",
    "solve_sample",
    "training_text",
    "write_world",
]
