"""Scene graphs of the shapes world: what is drawn where, as records a reference teacher can re-read.

A scene is a 3x3 grid of cells holding 1-4 objects, at most one per cell. Each object has a colour, a
shape and a size; no two objects in a scene share both colour and shape, so the one-word name
`"red-circle"` always points at exactly one object (the rationales and questions rely on it).
"""

from __future__ import annotations

import random
from typing import Literal

from pydantic import Field, model_validator

from edtune.records import Record

Colour = Literal["red", "green", "blue", "yellow"]
Shape = Literal["circle", "square", "triangle"]
Size = Literal["small", "large"]

COLOURS: tuple[Colour, ...] = ("red", "green", "blue", "yellow")
SHAPES: tuple[Shape, ...] = ("circle", "square", "triangle")
SIZES: tuple[Size, ...] = ("small", "large")
GRID = 3
"""Cells per side. Fixed: the rationale words (top/middle/bottom, left/middle/right) assume three."""
ROW_WORDS = ("top", "middle", "bottom")
COLUMN_WORDS = ("left", "middle", "right")


class SceneObject(Record):
    """One shape drawn in one grid cell."""

    colour: Colour
    """Fill colour."""
    shape: Shape
    """Outline drawn: circle, square or triangle (pointing up)."""
    size: Size
    """small (about half a cell) or large (nearly the whole cell)."""
    row: int = Field(ge=0, lt=GRID)
    """Grid row, 0 = top."""
    col: int = Field(ge=0, lt=GRID)
    """Grid column, 0 = left."""

    @property
    def name(self) -> str:
        """The one-word name used in questions and rationales, e.g. "red-circle"."""
        return f"{self.colour}-{self.shape}"

    @property
    def position(self) -> str:
        """The cell as "<row word>-<column word>", e.g. "top-left" or "middle-middle"."""
        return f"{ROW_WORDS[self.row]}-{COLUMN_WORDS[self.col]}"


class Scene(Record):
    """Everything drawn in one image. Objects are kept in reading order (row by row, left to right)."""

    objects: list[SceneObject] = Field(min_length=1, max_length=GRID * GRID)
    """The objects, in reading order."""

    @model_validator(mode="after")
    def _check(self) -> Scene:
        cells = [(o.row, o.col) for o in self.objects]
        if len(set(cells)) != len(cells):
            raise ValueError("two objects share a grid cell")
        if cells != sorted(cells):
            raise ValueError("objects must be listed in reading order (row, then column)")
        names = [o.name for o in self.objects]
        if len(set(names)) != len(names):
            raise ValueError("two objects share colour and shape; names must be unique in a scene")
        return self

    def find(self, name: str) -> SceneObject:
        """The object called `name` ("red-circle"); KeyError if the scene has none."""
        for obj in self.objects:
            if obj.name == name:
                return obj
        raise KeyError(name)

    def key(self) -> str:
        """A compact canonical string of the scene, used to keep evaluation scenes out of the pool."""
        return ";".join(f"{o.name}/{o.size}/{o.row}{o.col}" for o in self.objects)


def sample_scene(rng: random.Random, min_objects: int, max_objects: int) -> Scene:
    """Draw a scene: object count uniform in [min_objects, max_objects], cells and names without repeats."""
    count = rng.randint(min_objects, max_objects)
    cells = sorted(rng.sample(range(GRID * GRID), count))
    kinds = rng.sample([(c, s) for c in COLOURS for s in SHAPES], count)
    objects = [
        SceneObject(colour=colour, shape=shape, size=rng.choice(SIZES), row=cell // GRID, col=cell % GRID)
        for cell, (colour, shape) in zip(cells, kinds, strict=True)
    ]
    return Scene(objects=objects)
