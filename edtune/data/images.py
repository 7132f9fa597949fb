"""Image paths under an image root: containment, readability, and a content-addressed store.

Every image path in a data set is relative to its image root. A path that is absolute, or that leaves the
root once `..` and symlinks are resolved, is refused: a data file must not be able to make edtune read
(or, for the store, write) files elsewhere on the machine.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from PIL import Image

from edtune.atomic import atomic_write_bytes
from edtune.errors import DataError

STORE_DIR = "_edtune_images"
"""Folder inside the image root where images embedded in a data set (e.g. HF `Image` columns) are written."""


def resolve_image(root: Path, rel: str, *, file: str | None = None, row: int | None = None,
                  field: str | None = None) -> Path:
    """The absolute path of `rel` under `root`; DataError when it is absolute or escapes the root."""
    if not rel:
        raise DataError("empty image path", file=file, row=row, field=field)
    if Path(rel).is_absolute():
        raise DataError(f"image path must be relative to the image root, got absolute path {rel!r}",
                        file=file, row=row, field=field)
    real_root = root.resolve()
    target = (real_root / rel).resolve()
    if not target.is_relative_to(real_root):
        raise DataError(f"image path {rel!r} escapes the image root {str(real_root)!r}",
                        file=file, row=row, field=field)
    return target


def check_image(path: Path, rel: str, *, file: str, row: int, field: str) -> None:
    """DataError unless `path` is a readable, complete image.

    `verify()` catches corrupt headers and bad checksums but leaves the image unusable, so the file is
    reopened and fully decoded to catch truncated pixel data as well.
    """
    if not path.is_file():
        raise DataError(f"image file not found: {rel!r}", file=file, row=row, field=field)
    try:
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            img.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"unreadable or corrupt image {rel!r}: {exc}", file=file, row=row, field=field) from exc


def store_image_bytes(root: Path, data: bytes, *, file: str, row: int, field: str) -> str:
    """Write embedded image bytes under `root/STORE_DIR`, named by content hash; returns the relative path.

    The same bytes always give the same name, so loading a data set twice writes nothing the second time.
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            ext = (img.format or "png").lower()
    except (OSError, Image.DecompressionBombError) as exc:
        raise DataError(f"unreadable or corrupt embedded image: {exc}", file=file, row=row, field=field) from exc
    rel = f"{STORE_DIR}/{hashlib.sha256(data).hexdigest()[:32]}.{ext}"
    target = root / rel
    if not target.exists():
        # Derived from the data set and named by content: rebuilt by loading again, so not fsynced.
        atomic_write_bytes(target, data, durable=False)
    return rel


def store_pil_image(root: Path, image: Image.Image, *, file: str, row: int, field: str) -> str:
    """`store_image_bytes` of a decoded PIL image, encoded losslessly as PNG."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return store_image_bytes(root, buf.getvalue(), file=file, row=row, field=field)
