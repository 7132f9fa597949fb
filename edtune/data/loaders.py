"""Load and write data sets of `Sample`s: JSONL, LLaVA conversation JSON, and Hugging Face `datasets`.

Every loader checks, row by row: the fields (pydantic, reported with the source's field name), unique ids,
and that each image path stays inside the image root and (with `check_images`) opens as a complete
image. The first bad row stops loading with a DataError naming the file, the row and the field. Rows are
1-based line numbers for JSONL and 0-based indices for JSON arrays and HF datasets.

Sample image paths stay relative to the image root; `resolve_image_path` gives the file to open.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from edtune.atomic import atomic_write_text
from edtune.data.columns import HFColumns
from edtune.data.hf import iter_hf_rows
from edtune.data.images import check_image, resolve_image
from edtune.data.jsonl import iter_jsonl_rows
from edtune.data.llava import iter_llava_rows
from edtune.data.rows import RawRow, to_sample
from edtune.errors import DataError
from edtune.records import Sample

Format = Literal["auto", "jsonl", "llava", "hf"]
_HF_SUFFIXES = (".parquet", ".csv", ".arrow")


def detect_format(path: Path) -> Format:
    """The format `fmt="auto"` picks: a folder is an HF `save_to_disk` dataset, `.jsonl` is Sample JSONL,
    `.json` is LLaVA conversation JSON, and `.parquet`/`.csv`/`.arrow` are read with `datasets`."""
    if path.is_dir():
        return "hf"
    if path.suffix == ".jsonl":
        return "jsonl"
    if path.suffix == ".json":
        return "llava"
    if path.suffix in _HF_SUFFIXES:
        return "hf"
    raise DataError(f"cannot tell the data format from the name {path.name!r}; pass fmt='jsonl', 'llava' or 'hf'",
                    file=str(path))


def default_image_root(path: str | Path) -> Path:
    """The image root used when none is given: the folder itself for an HF dataset folder, else the
    folder that holds the data file."""
    p = Path(path)
    return p if p.is_dir() else p.parent


def iter_samples(path: str | Path, *, fmt: Format = "auto", image_root: str | Path | None = None,
                 check_images: bool = True, columns: HFColumns | None = None,
                 split: str | None = None, require_images: bool = False,
                 answer_pattern: str | None = None, family_field: str = "skill") -> Iterator[Sample]:
    """Stream validated Samples from `path` (JSONL is read line by line; LLaVA JSON is parsed whole).

    `columns`, `split` and `family_field` (the metadata key `columns.family` is stored under) apply to the
    hf format only, and `columns` or `split` given for another format is a DataError; `answer_pattern` (a
    regular expression with a named group `answer` finding the final-answer line of a gpt turn; None: the
    `Answer:` convention) applies to llava only. With `require_images`, a row without images is a
    DataError (a data set that is not text-only). Raises DataError at the first bad row; the ids seen so
    far are kept to detect duplicates.
    """
    source = Path(path)
    if not source.exists():
        raise DataError("data file not found", file=str(source))
    root = Path(image_root) if image_root is not None else default_image_root(source)
    kind = detect_format(source) if fmt == "auto" else fmt
    if kind != "hf" and (columns is not None or split is not None):
        given = "columns" if columns is not None else "split"
        raise DataError(f"{given} applies to the hf format only; this file is read as {kind} (set format = "
                        f'"hf" to read it with `datasets` and a column map)', file=str(source), field=given)
    raws = _raw_rows(source, kind, root, columns, split, answer_pattern, family_field)
    return _validated(raws, root, check_images=check_images, require_images=require_images)


def dataset_samples(dataset: Any, *, source: str, image_root: Path, split: str | None = None,
                    columns: HFColumns | None = None, family_field: str = "skill", files_from: Path | None = None,
                    require_images: bool = False) -> list[Sample]:
    """The validated Samples of an in-memory `datasets.Dataset` (or one split of a DatasetDict).

    Every image (embedded, or a file named by path: absolute or relative to `files_from`, default the
    current folder) is written to the content-addressed store under `image_root`, so the Samples' image
    paths are relative to `image_root`. DataError names `source` as the file, with the row and column.
    """
    from edtune.data.hf import iter_dataset_rows, pick_split

    ds = pick_split(dataset, split, source=source)
    raws = iter_dataset_rows(ds, columns=columns or HFColumns(), image_root=image_root, source=source,
                             family_field=family_field, files_from=files_from or Path.cwd())
    return list(_validated(raws, image_root, check_images=True, require_images=require_images))


def _validated(raws: Iterable[RawRow], root: Path, *, check_images: bool, require_images: bool) -> Iterator[Sample]:
    seen: dict[str, int] = {}
    for raw in raws:
        sample = to_sample(raw)
        if sample.id in seen:
            raise DataError(f"duplicate id {sample.id!r}, first seen at row {seen[sample.id]}", file=raw.file,
                            row=raw.row, field=raw.source_field("id"))
        seen[sample.id] = raw.row
        if require_images and not sample.images:
            raise DataError("the sample has no images (a text-only data set must be declared text_only)",
                            file=raw.file, row=raw.row, field=raw.source_field("images"))
        _check_images(sample, raw, root, check_images)
        yield sample


def load_samples(path: str | Path, *, fmt: Format = "auto", image_root: str | Path | None = None,
                 check_images: bool = True, columns: HFColumns | None = None,
                 split: str | None = None, require_images: bool = False,
                 answer_pattern: str | None = None, family_field: str = "skill") -> list[Sample]:
    """All Samples of `path` as a list; see `iter_samples` for the arguments and the checks."""
    return list(iter_samples(path, fmt=fmt, image_root=image_root, check_images=check_images, columns=columns,
                             split=split, require_images=require_images, answer_pattern=answer_pattern,
                             family_field=family_field))


def write_samples(samples: Iterable[Sample], path: str | Path) -> int:
    """Write Samples as JSONL, atomically (readers see the old file or the complete new one); returns the count.

    Image paths are written as they are, so keep the image root next to the file (or pass it when loading).
    """
    text = samples_jsonl(samples)
    atomic_write_text(path, text)
    return text.count("\n")


def samples_jsonl(samples: Iterable[Sample]) -> str:
    """The JSONL text `write_samples` writes: one Sample per line, fields at their default left out."""
    return "".join(s.model_dump_json(exclude_defaults=True) + "\n" for s in samples)


def resolve_image_path(image_root: str | Path, rel: str) -> Path:
    """The absolute file of a Sample's relative image path; DataError when it escapes the root."""
    return resolve_image(Path(image_root), rel)


def _raw_rows(source: Path, kind: str, root: Path, columns: HFColumns | None, split: str | None,
              answer_pattern: str | None, family_field: str) -> Iterator[RawRow]:
    if kind == "jsonl":
        return iter_jsonl_rows(source)
    if kind == "llava":
        return iter_llava_rows(source, answer_pattern)
    if kind == "hf":
        return iter_hf_rows(source, columns=columns or HFColumns(), image_root=root, split=split,
                            family_field=family_field)
    raise DataError(f"unknown data format {kind!r}; use 'auto', 'jsonl', 'llava' or 'hf'", file=str(source))


def _check_images(sample: Sample, raw: RawRow, root: Path, check: bool) -> None:
    for i, rel in enumerate(sample.images):
        field = raw.source_field(f"images.{i}")
        target = resolve_image(root, rel, file=raw.file, row=raw.row, field=field)
        if check:
            check_image(target, rel, file=raw.file, row=raw.row, field=field)
