"""Hugging Face `datasets`: a `save_to_disk` folder, local json/jsonl/parquet/csv/arrow files, or a
`Dataset` / `DatasetDict` object already in memory.

`datasets` is optional (`pip install 'edtune[datasets]'`) and imported only here, only when used. Rows are
numbered by their 0-based index in the split. Columns are mapped to Sample fields by `HFColumns`.

Images may be stored as paths or embedded (an `Image` column, raw `{"bytes", "path"}` dicts, or PIL
images). Embedded images are written once to `<image root>/_edtune_images/` under a name derived from
their content hash, and the Sample refers to that relative path; the original bytes are kept when the
column has them (PIL images are encoded as PNG). In a dataset read from files, a path stays a path
relative to the image root. In an in-memory dataset (`files_from` given), a path names a file on this
machine (absolute, or relative to `files_from`), which is copied into the store like an embedded image.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PIL import Image as PILImage

from edtune.data.columns import FAMILY, OPTIONAL, HFColumns, column_mapping
from edtune.data.images import store_image_bytes, store_pil_image
from edtune.data.rows import RawRow
from edtune.errors import DataError, MissingDependency

__all__ = ["HFColumns", "import_datasets", "iter_dataset_rows", "iter_hf_rows", "pick_split"]

_FILE_BUILDERS = {".json": "json", ".jsonl": "json", ".parquet": "parquet", ".csv": "csv", ".arrow": "arrow"}


def iter_hf_rows(path: Path, *, columns: HFColumns, image_root: Path, split: str | None,
                 family_field: str = "skill") -> Iterator[RawRow]:
    """Yield one RawRow per row of the dataset at `path`, with embedded images already written under
    `image_root`."""
    return iter_dataset_rows(_open(path, split), columns=columns, image_root=image_root, source=str(path),
                             family_field=family_field)


def iter_dataset_rows(ds: Any, *, columns: HFColumns, image_root: Path, source: str, family_field: str = "skill",
                      files_from: Path | None = None) -> Iterator[RawRow]:
    """Yield one RawRow per row of the `datasets.Dataset` `ds`; errors name `source` as the file.

    `files_from` marks an in-memory dataset: see the module docstring for how its image paths are read.
    """
    mapping = column_mapping(columns, set(ds.column_names), source=source)
    ds = _raw_image_bytes(ds, mapping.get("images"))
    for index, record in enumerate(ds):
        data = _row_data(record, mapping, columns, index=index, family_field=family_field)
        fields = {name: col for name, col in mapping.items() if name != FAMILY}
        if FAMILY in mapping:
            fields[f"metadata.{family_field}"] = mapping[FAMILY]
        if "images" in mapping:
            value = record[mapping["images"]]
            data["images"] = _image_paths(value, image_root, files_from, file=source, row=index,
                                          field=mapping["images"])
            if not isinstance(value, list):
                fields["images.0"] = mapping["images"]
        yield RawRow(file=source, row=index, data=data, source_fields=fields)


def import_datasets() -> Any:
    """The `datasets` module; MissingDependency naming the extra when it is not installed."""
    try:
        import datasets
    except ImportError as exc:
        raise MissingDependency("datasets", extra="datasets", purpose="loading Hugging Face datasets") from exc
    return datasets


def pick_split(loaded: Any, split: str | None, *, source: str) -> Any:
    """The Dataset to read from `loaded`: itself when it is one (a split then must not be named), else the
    split `split` of the DatasetDict (the only one when `split` is None)."""
    datasets = import_datasets()
    if isinstance(loaded, datasets.Dataset):
        if split is not None and split != str(loaded.split):
            raise DataError(f"split={split!r} was given but the dataset is already one split, not a "
                            "DatasetDict", file=source, field="split")
        return loaded
    if not isinstance(loaded, datasets.DatasetDict):
        raise DataError(f"expected a datasets.Dataset or DatasetDict, got {type(loaded).__name__}", file=source)
    if split is None and len(loaded) == 1:
        split = next(iter(loaded))
    if split not in loaded:
        raise DataError(f"choose a split with split=...: the dataset has {sorted(loaded)}, got {split!r}",
                        file=source, field="split")
    return loaded[split]


def _open(path: Path, split: str | None) -> Any:
    datasets = import_datasets()
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
    return pick_split(loaded, split, source=file)


def _raw_image_bytes(ds: Any, column: str | None) -> Any:
    """Stop `datasets` decoding an Image column into PIL, so the stored bytes are kept as they are."""
    datasets = import_datasets()
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


def _row_data(record: dict[str, Any], mapping: dict[str, str], columns: HFColumns, *, index: int,
              family_field: str) -> dict[str, Any]:
    data = {name: record[col] for name, col in mapping.items() if name not in ("images", FAMILY)}
    data["id"] = str(index) if columns.id is None else _id_text(data["id"])
    if isinstance(data.get("rationale"), list):
        data["rationale"] = [{"text": s} if isinstance(s, str) else s for s in data["rationale"]]
    extra = {c: record[c] for c in columns.extra_metadata}
    if FAMILY in mapping and record[mapping[FAMILY]] is not None:
        extra[family_field] = record[mapping[FAMILY]]
    if extra:
        base = data.get("metadata")
        data["metadata"] = {**(base if isinstance(base, dict) else {}), **extra}
    return {k: v for k, v in data.items() if not (k in OPTIONAL and v is None)}


def _id_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _image_paths(value: Any, root: Path, files_from: Path | None, *, file: str, row: int, field: str) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [_image_path(item, root, files_from, file=file, row=row,
                        field=f"{field}.{i}" if isinstance(value, list) else field)
            for i, item in enumerate(items)]


def _image_path(item: Any, root: Path, files_from: Path | None, *, file: str, row: int, field: str) -> str:
    if isinstance(item, PILImage.Image):
        return store_pil_image(root, item, file=file, row=row, field=field)
    if isinstance(item, dict) and item.get("bytes"):
        return store_image_bytes(root, item["bytes"], file=file, row=row, field=field)
    path = item.get("path") if isinstance(item, dict) else item
    if isinstance(path, str):
        if files_from is None:
            return path  # checked (inside the image root, readable) like every other image path
        if not path:
            raise DataError("empty image path", file=file, row=row, field=field)
        return _copy_file(files_from / path, root, file=file, row=row, field=field)
    raise DataError(f"expected an image path, image or {{bytes, path}} object, got {type(item).__name__}",
                    file=file, row=row, field=field)


def _copy_file(path: Path, root: Path, *, file: str, row: int, field: str) -> str:
    """An in-memory dataset's image file, copied into the store (an absolute `path` ignores the base)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read image file {str(path)!r}: {exc.strerror}", file=file, row=row,
                        field=field) from exc
    return store_image_bytes(root, data, file=file, row=row, field=field)
