"""The samples of a run's data sets, read for the viewer: tolerant of bad rows, and for a JSONL data set
only the samples asked for are validated, so a page about a few pool samples does not pay for the pool."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection

from pydantic import ValidationError

from edtune.errors import EdtuneError
from edtune.loop.config import DataFile
from edtune.records import Sample

Note = Callable[[str], None]


def _is_jsonl(data: DataFile) -> bool:
    from edtune.data.loaders import detect_format

    if data.format != "auto":
        return data.format == "jsonl"
    try:
        return detect_format(data.path) == "jsonl"
    except EdtuneError:
        return False


def read_samples(data: DataFile, wanted: Collection[str] | None, note: Note) -> dict[str, Sample]:
    """The samples of `data` by id (all of them when `wanted` is None, else those whose id is in it).

    Rows that are not valid samples are skipped and counted in one note; a data set that cannot be read
    at all is noted and gives {}. Image paths are not checked here: `edtune.view.images` checks each one
    it links.
    """
    if not data.path.exists():
        note(f"data file not found: {data.path}")
        return {}
    if not _is_jsonl(data):
        return _other_format(data, wanted, note)
    found: dict[str, Sample] = {}
    bad = 0
    with data.path.open("rb") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise ValueError("not a JSON object")
                if wanted is not None and row.get("id") not in wanted:
                    continue
                sample = Sample.model_validate(row)
            except (ValueError, ValidationError):
                bad += 1
                continue
            found[sample.id] = sample
    if bad:
        note(f"{bad} row(s) of {data.path} are not valid samples and are not shown")
    return found


def _other_format(data: DataFile, wanted: Collection[str] | None, note: Note) -> dict[str, Sample]:
    try:
        samples = data.load(check_images=False)
    except (OSError, ValueError, EdtuneError) as exc:
        note(str(exc))
        return {}
    return {s.id: s for s in samples if wanted is None or s.id in wanted}
