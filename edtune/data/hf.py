"""Hugging Face `datasets`: a `save_to_disk` folder or local json/jsonl/parquet/csv/arrow files.

`datasets` is optional (`pip install 'edtune[datasets]'`) and imported only here, only when used. Rows are
numbered by their 0-based index in the split. Columns are mapped to Sample fields by `HFColumns`.

Images may be stored as paths (relative to the image root) or embedded (an `Image` column, raw
`{"bytes", "path"}` dicts, or PIL images). Embedded images are written once to `<image root>/_edtune_images/`
under a name derived from their content hash, and the Sample refers to that relative path; the original
bytes are kept when the column has them (PIL images are encoded as PNG).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image as PILImage
from pydantic import Field

from edtune.data.images import store_image_bytes, store_pil_image
from edtune.data.rows import RawRow
from edtune.errors import DataError, MissingDependency
from edtune.records import Record

_FILE_BUILDERS = {".json": "json", ".jsonl": "json", ".parquet": "parquet", ".csv": "csv", ".arrow": "arrow"}
_OPTIONAL = ("choices", "rationale", "required_skills", "metadata")


class HFColumns(Record):
    """Which dataset column feeds which Sample field."""

    id: str | None = "id"
    """Column with the sample id (integers are turned into text); None: the row index is the id."""
    images: str | None = None
    """Column with one image or a list of images; None: `images` if present, else `image`, else none."""
    question: str = "question"
    """Column with the question text."""
    answer: str = "answer"
    """Column with the reference answer."""
    choices: str = "choices"
    """Column with the answer options; skipped when absent unless set explicitly."""
    rationale: str = "rationale"
    """Column with the gold rationale (strings or {text, skill} objects); skipped when absent unless set."""
    required_skills: str = "required_skills"
    """Column with the required-skills phrases; skipped when absent unless set explicitly."""
    metadata: str = "metadata"
    """Column holding a metadata object; skipped when absent unless set explicitly."""
    extra_metadata: list[str] = Field(default_factory=list)
    """Further columns copied into `metadata` under their own names."""


def iter_hf_rows(path: Path, *, columns: HFColumns, image_root: Path, split: str | None) -> Iterator[RawRow]:
    """Yield one RawRow per dataset row, with embedded images already written under `image_root`."""
    ds = _open(path, split)
    mapping = _mapping(columns, set(ds.column_names), file=str(path))
    ds = _raw_image_bytes(ds, mapping.get("images"))
    for index, record in enumerate(ds):
        data = _row_data(record, mapping, columns, index=index)
        fields = dict(mapping)
        if "images" in mapping:
            value = record[mapping["images"]]
            data["images"] = _image_paths(value, image_root, file=str(path), row=index, field=mapping["images"])
            if not isinstance(value, list):
                fields["images.0"] = mapping["images"]
        yield RawRow(file=str(path), row=index, data=data, source_fields=fields)


def _import_datasets() -> Any:
    try:
        import datasets
    except ImportError as exc:
        raise MissingDependency("datasets", extra="datasets", purpose="loading Hugging Face datasets") from exc
    return datasets


def _open(path: Path, split: str | None) -> Any:
    datasets = _import_datasets()
    file = str(path)
    try:
        if path.is_dir():
            loaded = datasets.load_from_disk(file)
        elif path.suffix in _FILE_BUILDERS:
            return datasets.load_dataset(_FILE_BUILDERS[path.suffix], data_files=file, split=split or "train")
        else:
            raise DataError(f"unsupported file type {path.suffix!r} for the hf format", file=file)
    except (OSError, ValueError, datasets.exceptions.DatasetGenerationError) as exc:
        raise DataError(f"cannot load dataset: {exc}", file=file) from exc
    if not isinstance(loaded, datasets.DatasetDict):
        return loaded
    if split is None and len(loaded) == 1:
        split = next(iter(loaded))
    if split not in loaded:
        raise DataError(f"choose a split with split=...: the dataset has {sorted(loaded)}, got {split!r}", file=file)
    return loaded[split]


def _mapping(columns: HFColumns, present: set[str], *, file: str) -> dict[str, str]:
    """Sample field -> column, for every field that will be read; DataError for a missing required column."""
    wanted: dict[str, str] = {"question": columns.question, "answer": columns.answer}
    if columns.id is not None:
        wanted["id"] = columns.id
    for name in _OPTIONAL:
        col = getattr(columns, name)
        if col in present or name in columns.model_fields_set:
            wanted[name] = col
    image_col = columns.images or next((c for c in ("images", "image") if c in present), None)
    if image_col is not None:
        wanted["images"] = image_col
    for name, col in [*wanted.items(), *((c, c) for c in columns.extra_metadata)]:
        if col not in present:
            raise DataError(f"the dataset has no column {col!r} (columns: {sorted(present)})", file=file, field=name)
    return wanted


def _raw_image_bytes(ds: Any, column: str | None) -> Any:
    """Stop `datasets` decoding an Image column into PIL, so the stored bytes are kept as they are."""
    datasets = _import_datasets()
    if column is None:
        return ds
    feature = ds.features[column]
    if isinstance(feature, datasets.Image):
        return ds.cast_column(column, datasets.Image(decode=False))
    if isinstance(getattr(feature, "feature", None), datasets.Image):
        raw = copy.copy(feature)
        raw.feature = datasets.Image(decode=False)
        return ds.cast_column(column, raw)
    return ds


def _row_data(record: dict[str, Any], mapping: dict[str, str], columns: HFColumns, *, index: int) -> dict[str, Any]:
    data = {name: record[col] for name, col in mapping.items() if name != "images"}
    data["id"] = str(index) if columns.id is None else _id_text(data["id"])
    if isinstance(data.get("rationale"), list):
        data["rationale"] = [{"text": s} if isinstance(s, str) else s for s in data["rationale"]]
    if columns.extra_metadata:
        base = data.get("metadata")
        extra = {c: record[c] for c in columns.extra_metadata}
        data["metadata"] = {**(base if isinstance(base, dict) else {}), **extra}
    return {k: v for k, v in data.items() if not (k in _OPTIONAL and v is None)}


def _id_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _image_paths(value: Any, root: Path, *, file: str, row: int, field: str) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [_image_path(item, root, file=file, row=row, field=f"{field}.{i}" if isinstance(value, list) else field)
            for i, item in enumerate(items)]


def _image_path(item: Any, root: Path, *, file: str, row: int, field: str) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, PILImage.Image):
        return store_pil_image(root, item, file=file, row=row, field=field)
    if isinstance(item, dict) and item.get("bytes"):
        return store_image_bytes(root, item["bytes"], file=file, row=row, field=field)
    if isinstance(item, dict) and isinstance(item.get("path"), str):
        return str(item["path"])
    raise DataError(f"expected an image path, image or {{bytes, path}} object, got {type(item).__name__}",
                    file=file, row=row, field=field)
