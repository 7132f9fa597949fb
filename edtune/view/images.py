"""Images of the data sets, reachable only below their image root.

A sample's image path comes from a data file, so it is untrusted: it is resolved (symlinks followed) and
refused unless the result lies below the data set's image root. Links carry the normalised path, so a
static copy never writes outside its own folder either.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from edtune.data.images import resolve_image
from edtune.errors import DataError
from edtune.view import urls
from edtune.view.runfiles import RunFiles

SPLITS = ("val", "pool", "test", "replay")
"""Data sets whose images the viewer serves."""


@dataclass(frozen=True)
class ImageRef:
    """One image as a page shows it: a site path, or the reason it cannot be shown."""

    path: str | None
    """Site path of the image (see `edtune.view.urls.image`); None when refused or missing."""
    problem: str | None = None
    """Why the image is not shown."""


def image_file(run: RunFiles, split: str, relative: str) -> Path | None:
    """The image file of `split` at `relative`, or None when the split is unknown, the path escapes the
    image root (or is absolute), or no such file exists."""
    data = run.data_file(split) if split in SPLITS else None
    if data is None:
        return None
    try:
        target = resolve_image(data.root, relative)
    except DataError:
        return None
    return target if target.is_file() else None


def image_ref(run: RunFiles, split: str, relative: str) -> ImageRef:
    """How a page links the image `relative` of a sample of `split` (worked out once per run read)."""
    key = (split, relative)
    if key not in run.image_refs:
        run.image_refs[key] = _image_ref(run, split, relative)
    found: ImageRef = run.image_refs[key]  # type: ignore[assignment]
    return found


def _image_ref(run: RunFiles, split: str, relative: str) -> ImageRef:
    data = run.data_file(split)
    if data is None:
        return ImageRef(None, f"no {split} data set in config.json")
    try:
        target = resolve_image(data.root, relative)
    except DataError as exc:
        return ImageRef(None, str(exc))
    if not target.is_file():
        return ImageRef(None, f"image file not found: {relative}")
    normal = target.relative_to(data.root.resolve()).as_posix()
    return ImageRef(urls.image(run.key, split, normal))
