"""Reading and writing data sets of `Sample`s (JSONL, LLaVA conversation JSON, Hugging Face datasets, on
disk or in memory)."""

from edtune.data.columns import HFColumns
from edtune.data.loaders import (
    dataset_samples,
    default_image_root,
    detect_format,
    iter_samples,
    load_samples,
    resolve_image_path,
    write_samples,
)

__all__ = [
    "HFColumns",
    "dataset_samples",
    "default_image_root",
    "detect_format",
    "iter_samples",
    "load_samples",
    "resolve_image_path",
    "write_samples",
]
