"""Crash-safe JSONL logs and atomic writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from edtune.atomic import atomic_write_json
from edtune.errors import DataError
from edtune.jsonl import append_jsonl, read_jsonl
from edtune.records import Judgment


def _j(i: int) -> Judgment:
    return Judgment(sample_id=f"s{i}", outcome="correct", judge="exact")


def test_torn_last_line_is_dropped_but_earlier_records_kept(tmp_path: Path) -> None:
    log = tmp_path / "j.jsonl"
    assert append_jsonl(log, [_j(1), _j(2)]) == 2
    with log.open("a") as fh:
        fh.write('{"sample_id": "s3", "outc')  # what kill -9 mid-write leaves
    assert [j.sample_id for j in read_jsonl(log, Judgment)] == ["s1", "s2"]


def test_bad_line_in_the_middle_names_file_row_field(tmp_path: Path) -> None:
    log = tmp_path / "j.jsonl"
    append_jsonl(log, [_j(1)])
    append_jsonl(log, [{"sample_id": "s2", "outcome": "maybe", "judge": "exact"}])
    append_jsonl(log, [_j(3)])
    with pytest.raises(DataError) as info:
        read_jsonl(log, Judgment)
    assert (info.value.row, info.value.field) == (2, "outcome")


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "state.json"
    atomic_write_json(target, {"a": 1})
    atomic_write_json(target, _j(1))
    assert '"sample_id": "s1"' in target.read_text()
    assert list(target.parent.iterdir()) == [target]
