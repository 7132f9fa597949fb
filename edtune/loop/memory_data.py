"""In-memory Hugging Face datasets given to `edtune.adapt` in place of a data file.

A run must resume from its directory alone, and the viewer and report must read its samples, so an
in-memory dataset is written into the run directory, as Sample JSONL, before the run starts:

    data/<split>.jsonl        its samples (split: val, test, pool or replay), image paths relative to data/
    data/_edtune_images/      every image of those samples, named by a hash of its bytes (written once)

The run's config names `data/<split>.jsonl` like any other data file, so `resume`, `edtune report` and
`edtune view` need neither the dataset object nor `datasets`. Calling `adapt` again on the same run
directory converts the dataset again; the result must equal the file already there, else the call is
refused (ConfigError): the run was started on other data.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from edtune.atomic import atomic_write_text
from edtune.data.columns import HFColumns
from edtune.data.loaders import dataset_samples, samples_jsonl
from edtune.errors import ConfigError
from edtune.loop.data_file import DataFile
from edtune.loop.rundir import DATA_DIR
from edtune.records import Record


class InMemoryData(Record):
    """A `datasets.Dataset` (or a DatasetDict and a split) given to `edtune.adapt` as val, test, pool or
    replay, with how to read it. A bare Dataset passed to `adapt` is read with the defaults below."""

    dataset: Any
    """A `datasets.Dataset`, or a `datasets.DatasetDict` with `split` naming the split to use."""
    split: str | None = None
    """The DatasetDict's split; None: its only split (a DatasetDict with several is refused)."""
    columns: HFColumns | None = None
    """Which column feeds which Sample field; None: columns named like the Sample fields."""
    image_root: Path | None = None
    """Where image paths in the dataset (a string column, or an Image column holding only paths) are
    relative to; None: the current folder. Embedded images (PIL images, Image columns with bytes) need none."""
    family_field: str = Field(default="skill", min_length=1, pattern=r"^\S(.*\S)?$")
    """The metadata key holding a sample's question family (`DataFile.family_field`); `columns.family`
    is stored under it."""
    text_only: bool = False
    """Declares a dataset without images (`DataFile.text_only`)."""

    @field_validator("dataset")
    @classmethod
    def _is_a_dataset(cls, value: Any) -> Any:
        if not _is_dataset(value):
            raise ValueError(f"expected a datasets.Dataset or DatasetDict, got {type(value).__name__}")
        return value


def _is_dataset(value: Any) -> bool:
    """Whether `value` is a `datasets` Dataset or DatasetDict (never imports `datasets` to find out)."""
    module = sys.modules.get("datasets")
    return module is not None and isinstance(value, module.Dataset | module.DatasetDict)


def as_in_memory(value: Any) -> InMemoryData | None:
    """`value` as InMemoryData when it is one or a bare Dataset / DatasetDict; None for a path or DataFile."""
    if isinstance(value, InMemoryData):
        return value
    return InMemoryData(dataset=value) if _is_dataset(value) else None


def memory_data_file(data: InMemoryData, run_root: Path, split: str) -> DataFile:
    """The DataFile the run's config records for `data` given as `split`: data/<split>.jsonl."""
    folder = run_root.resolve() / DATA_DIR
    return DataFile(path=folder / f"{split}.jsonl", image_root=folder, format="jsonl",
                    family_field=data.family_field, text_only=data.text_only)


def write_in_memory(data: InMemoryData, entry: DataFile, split: str, *, run_started: bool) -> None:
    """Convert `data` and write it to `entry` (from `memory_data_file`), its images to the store.

    DataError names the dataset ("in-memory <split> dataset"), the row and the column of a bad row.
    ConfigError when `run_started` and the file already written differs from this dataset's.
    """
    samples = dataset_samples(data.dataset, source=f"in-memory {split} dataset", image_root=entry.root,
                              split=data.split, columns=data.columns, family_field=data.family_field,
                              files_from=data.image_root, require_images=not data.text_only)
    text = samples_jsonl(samples)
    if entry.path.is_file():
        if entry.path.read_text(encoding="utf-8") == text:
            return
        if run_started:
            raise ConfigError(f"the {split} dataset differs from the one the run in {entry.path.parent.parent} "
                              "was started on; resume it with the same data or choose a new run directory")
    atomic_write_text(entry.path, text)
