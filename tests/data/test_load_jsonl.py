"""JSONL loading and writing, and every field-level error path (shared by all formats)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edtune.data import iter_samples, load_samples, write_samples
from edtune.errors import DataError
from edtune.records import RationaleStep, Sample

JsonlWriter = Callable[[list[Any]], Path]


def _row(i: int, **kw: Any) -> dict[str, Any]:
    return {"id": f"s{i}", "question": "What colour?", "answer": "red", **kw}


def test_write_then_load_round_trips_every_field(tmp_path: Path, png: Callable[..., Path]) -> None:
    png("img/a.png")
    samples = [
        Sample(id="a", images=["img/a.png"], question="Colour?", choices=["red", "blue"], answer="red",
               rationale=[RationaleStep(text="It is red.", skill="colour")], required_skills=["colour naming"],
               metadata={"scene": {"n": 1}}),
        Sample(id="b", question="Text only?", answer="yes"),
    ]
    out = tmp_path / "sub" / "set.jsonl"
    assert write_samples(samples, out) == 2
    assert load_samples(out, image_root=tmp_path) == samples
    assert not list(out.parent.glob("*.tmp"))


def test_write_replaces_the_whole_file(tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    write_samples([Sample(id=str(i), question="q", answer="a") for i in range(3)], out)
    write_samples([Sample(id="only", question="q", answer="a")], out)
    assert [s.id for s in load_samples(out)] == ["only"]


def test_iter_samples_streams_and_skips_blank_lines(write_jsonl: JsonlWriter) -> None:
    path = write_jsonl([_row(1), "   ", _row(2)])
    it = iter_samples(path)
    assert next(it).id == "s1"
    assert [s.id for s in it] == ["s2"]


@pytest.mark.parametrize(
    ("row", "message", "field"),
    [
        ({"id": "s1", "question": "q"}, "invalid sample: missing required field", "answer"),
        (_row(1, choices="red"), "invalid sample: Input should be a valid list, got 'red'", "choices"),
        (_row(1, answer=3), "invalid sample: Input should be a valid string, got 3", "answer"),
        (_row(1, answer="  "), "invalid sample: Value error, must not be empty, got '  '", "answer"),
        (_row(1, anwser="typo"), "invalid sample: Extra inputs are not permitted", "anwser"),
        (_row(1, rationale=[{"txt": "x"}]), "invalid sample: missing required field (and 1 more error(s) in this row)",
         "rationale.0.text"),
        (_row(1, images=["a.png", 5]), "invalid sample: Input should be a valid string, got 5", "images.1"),
    ],
)
def test_bad_field_names_file_row_and_field(write_jsonl: JsonlWriter, row: dict[str, Any], message: str,
                                            field: str) -> None:
    path = write_jsonl([_row(0), "", row])
    with pytest.raises(DataError) as err:
        load_samples(path)
    assert (err.value.detail, err.value.file, err.value.row, err.value.field) == (message, str(path), 3, field)


def test_invalid_json_and_non_object_lines(write_jsonl: JsonlWriter) -> None:
    with pytest.raises(DataError, match=r"invalid JSON: Expecting ',' delimiter at column \d+") as err:
        load_samples(write_jsonl([_row(1), '{"id": "s2" "question": 1}']))
    assert err.value.row == 2
    with pytest.raises(DataError, match="expected a JSON object, got list") as err:
        load_samples(write_jsonl([[1, 2]]))
    assert err.value.row == 1


def test_non_utf8_line_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"id": "a", "question": "q", "answer": "a"}\n{"id": "\xff"}\n')
    with pytest.raises(DataError, match="not UTF-8 text") as err:
        load_samples(path)
    assert err.value.row == 2


def test_duplicate_id_names_both_rows(write_jsonl: JsonlWriter) -> None:
    path = write_jsonl([_row(1), _row(2), _row(1)])
    with pytest.raises(DataError) as err:
        load_samples(path)
    assert err.value.detail == "duplicate id 's1', first seen at row 1"
    assert (err.value.row, err.value.field) == (3, "id")


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="data file not found"):
        load_samples(tmp_path / "nope.jsonl")
    odd = tmp_path / "data.txt"
    odd.write_text("")
    with pytest.raises(DataError, match="cannot tell the data format"):
        load_samples(odd)
    assert load_samples(odd, fmt="jsonl") == []
    with pytest.raises(DataError, match="unknown data format 'csv'"):
        load_samples(odd, fmt="csv")  # type: ignore[arg-type]
