"""Reading and writing data sets of `Sample`s (JSONL, LLaVA conversation JSON, Hugging Face datasets)."""

from edtune.data.hf import HFColumns
from edtune.data.loaders import (
    default_image_root,
    detect_format,
    iter_samples,
    load_samples,
    resolve_image_path,
    write_samples,
)

__all__ = [
    "HFColumns",
    "default_image_root",
    "detect_format",
    "iter_samples",
    "load_samples",
    "resolve_image_path",
    "write_samples",
]
