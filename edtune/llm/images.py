"""Images for VLM teachers: inline them as data URIs in `ContentPart(type="image_url", ...)`."""

from __future__ import annotations

import base64
import io
import mimetypes
from pathlib import Path

from PIL import Image

from edtune.errors import DataError

_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP", "image/gif": "GIF"}


def image_data_uri(image: str | Path | Image.Image) -> str:
    """`data:<mime>;base64,...` for an image file (bytes sent as they are) or a PIL image (encoded as PNG).

    The same image always gives the same URI, so caches keyed by it hit across runs.
    """
    if isinstance(image, Image.Image):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        return _encode("image/png", buffer.getvalue())
    path = Path(image)
    mime = mimetypes.guess_type(path.name)[0]
    if mime not in _FORMATS:
        raise DataError(f"not a supported image type ({', '.join(_FORMATS)}): {mime}", file=str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read image: {exc.strerror}", file=str(path)) from exc
    return _encode(mime, data)


def _encode(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
