"""Drawing scenes with PIL: flat colours on a white background, no anti-aliasing, byte-stable PNGs."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

from edtune.bench.shapes.families import scene_of
from edtune.bench.shapes.scene import GRID, Scene, SceneObject
from edtune.records import Sample

RGB: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (235, 200, 30),
}
"""Saturated, well separated fills: a 16-pixel patch is all a tiny vision tower sees of an object."""
BACKGROUND = (255, 255, 255)

# Margin (pixels, per side, at 16-px cells) between the cell edge and the shape's bounding box.
# Large shapes nearly fill their cell; small ones are about half as wide, so size is visible at 48 px.
_MARGIN = {"large": 1, "small": 4}


def _box(obj: SceneObject, cell_px: int) -> tuple[int, int, int, int]:
    margin = max(1, round(_MARGIN[obj.size] * cell_px / 16))
    left, top = obj.col * cell_px + margin, obj.row * cell_px + margin
    right, bottom = (obj.col + 1) * cell_px - 1 - margin, (obj.row + 1) * cell_px - 1 - margin
    return left, top, right, bottom


def _draw(draw: ImageDraw.ImageDraw, obj: SceneObject, cell_px: int) -> None:
    left, top, right, bottom = _box(obj, cell_px)
    fill = RGB[obj.colour]
    if obj.shape == "circle":
        draw.ellipse((left, top, right, bottom), fill=fill)
    elif obj.shape == "square":
        draw.rectangle((left, top, right, bottom), fill=fill)
    else:
        draw.polygon([((left + right) / 2, top), (right, bottom), (left, bottom)], fill=fill)


def render_scene(scene: Scene, cell_px: int = 16) -> Image.Image:
    """The scene as an RGB image of `GRID * cell_px` pixels per side (48 x 48 at the default 16)."""
    side = GRID * cell_px
    image = Image.new("RGB", (side, side), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for obj in scene.objects:
        _draw(draw, obj, cell_px)
    return image


def render_sample(sample: Sample, cell_px: int = 16) -> Image.Image:
    """The image of a shapes sample, drawn from its stored scene graph (DataError if it has none)."""
    return render_scene(scene_of(sample), cell_px)


def png_bytes(image: Image.Image) -> bytes:
    """PNG encoding with fixed settings and no metadata chunks, so equal images give equal bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6, optimize=False)
    return buffer.getvalue()


def render_images(samples: list[Sample], image_root: Path) -> None:
    """Draw each sample's image at its relative path under `image_root`."""
    for sample in samples:
        path = image_root / sample.images[0]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png_bytes(render_sample(sample)))
