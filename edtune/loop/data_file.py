"""`DataFile`: one data set of a run, as a run config names it (on disk, any format edtune reads)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from edtune.data.assistant_turn import compile_answer_pattern
from edtune.data.columns import HFColumns
from edtune.records import Record, Sample

_NOT_HF_SUFFIXES = (".jsonl", ".json")
"""File names `format = "auto"` reads as Sample JSONL or LLaVA JSON, not with `datasets`."""


class DataFile(Record):
    """One data set on disk (any format `edtune.data.load_samples` reads)."""

    path: Path
    """The data file (JSONL, LLaVA JSON, parquet/csv/arrow, or an HF dataset folder)."""
    image_root: Path | None = None
    """Folder that `Sample.images` are relative to; None: the data file's folder (as the loaders default)."""
    format: Literal["auto", "jsonl", "llava", "hf"] = "auto"
    """Data format; auto picks it from the file name."""
    family_field: str = Field(default="skill", min_length=1, pattern=r"^\S(.*\S)?$")
    """The `Sample.metadata` key holding a sample's question family (test accuracy per family, selected
    samples per family); see docs/data.md. A data set without it is reported as having no families."""
    answer_pattern: str | None = None
    """LLaVA JSON only: a regular expression with a named group `answer` that finds the final-answer line of
    an assistant turn (searched in each line; the last match wins). None: edtune's `Answer: ...` line. See
    docs/data.md."""
    text_only: bool = False
    """Declares a data set without images. When False (the default), every row must name at least one
    image, so a row that lost its `images` field is refused at run start instead of being read as a
    text-only question."""
    split: str | None = None
    """HF format only: the split to read, needed for a `save_to_disk` folder holding several (a
    DatasetDict); for json/parquet/csv/arrow files read with `datasets` it names the split `datasets`
    gives them ("train", the default). None: the folder's only split."""
    columns: HFColumns | None = None
    """HF format only: which column feeds which Sample field (id, images, question, answer, choices,
    rationale, required_skills, the question family ...; see `edtune.data.HFColumns`). None: columns named
    like the Sample fields."""

    @field_validator("answer_pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            compile_answer_pattern(value)
        return value

    @model_validator(mode="after")
    def _hf_settings_on_hf_data(self) -> DataFile:
        given = [name for name in ("split", "columns") if getattr(self, name) is not None]
        auto_not_hf = self.format == "auto" and self.path.suffix in _NOT_HF_SUFFIXES
        if given and (self.format in ("jsonl", "llava") or auto_not_hf):
            # A column map on a file read as Sample JSONL or LLaVA would be silently ignored.
            raise ValueError(f"{' and '.join(given)} apply to the hf format only; set format = \"hf\" to read "
                             f"{self.path.name} with `datasets`")
        return self

    @property
    def root(self) -> Path:
        """The image root actually used."""
        if self.image_root is not None:
            return self.image_root
        return self.path if self.path.is_dir() else self.path.parent

    def load(self, *, check_images: bool, require_images: bool = False) -> list[Sample]:
        """The file's Samples, read with every setting above; DataError naming file, row and field."""
        from edtune.data.loaders import load_samples

        return load_samples(self.path, fmt=self.format, image_root=self.image_root, check_images=check_images,
                            columns=self.columns, split=self.split, require_images=require_images,
                            answer_pattern=self.answer_pattern, family_field=self.family_field)
