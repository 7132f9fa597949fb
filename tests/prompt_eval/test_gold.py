"""Gold-set files: the documented format (nested or top-level sample fields, header) and every error path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prompt_eval_fakes import GOLD_ITEMS

from edtune.errors import DataError
from edtune.prompt_eval.gold import GoldSet, load_gold


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows))
    return path


FLAT = {"id": "f1", "question": "Is the red-circle small or large?", "answer": "small", "choices": ["small", "large"],
        "student_steps": ["I see red-circle.", "The red-circle is large."], "student_answer": "large",
        "first_wrong_step": 2, "missing_skills": ["size_recognition"]}


def test_round_trip_keeps_items_header_and_hash(gold: GoldSet, gold_file: Path) -> None:
    assert [item.id for item in gold] == [item.id for item in GOLD_ITEMS]
    assert gold.meta.name == "hand" and gold.image_root == gold_file.parent
    assert gold.items[1] == GOLD_ITEMS[1]
    assert load_gold(gold_file).hash == gold.hash and len(gold.hash) == 16
    gold_file.write_text(gold_file.read_text().replace("hand", "hand2"))
    assert load_gold(gold_file).hash != gold.hash


def test_top_level_sample_fields_and_image_root(tmp_path: Path) -> None:
    header = {"header": {"name": "flat", "image_root": "imgs", "source": "user"}}
    gold = load_gold(_write(tmp_path / "g.jsonl", [header, FLAT]))
    item = gold.items[0]
    assert item.sample.id == "f1" and item.sample.choices == ["small", "large"] and item.student_answer == "large"
    assert gold.image_root == tmp_path / "imgs"
    assert load_gold(tmp_path / "g.jsonl", image_root=tmp_path / "x").image_root == tmp_path / "x"


def test_skill_catalogue_is_built_from_items_without_a_header(tmp_path: Path) -> None:
    gold = load_gold(_write(tmp_path / "g.jsonl", [{**FLAT, "skill_text": ["judging size"]}]))
    assert gold.skill_catalogue() == {"size_recognition": ["judging size"]}


@pytest.mark.parametrize(("rows", "row", "field", "words"), [
    (["{not json"], 1, None, "not valid JSON"),
    ([[1, 2]], 1, None, "JSON object"),
    ([{**FLAT, "student_steps": []}], 1, "student_steps", "at least 1"),
    ([FLAT, {k: v for k, v in FLAT.items() if k != "question"} | {"id": "f2"}], 2, "sample.question", "required"),
    ([{**FLAT, "first_wrong_step": 3}], 1, "(line)", "beyond the 2 student steps"),
    ([{**FLAT, "first_wrong_step": 0}], 1, "first_wrong_step", "greater than or equal to 1"),
    ([{**FLAT, "colour": "red"}], 1, "colour", "Extra inputs"),
    ([FLAT, FLAT], 2, "id", "duplicate item id 'f1'"),
    ([FLAT, {"header": {"name": "late"}}], 2, "header", "only allowed on the first line"),
    ([{"header": {"name": "x", "source": "bogus"}}, FLAT], 1, "header.source", "Input should be"),
    ([{**FLAT, "gold_verdict": "maybe"}], 1, "gold_verdict", "Input should be"),
])
def test_bad_lines_name_file_row_and_field(tmp_path: Path, rows: list[object], row: int, field: str | None,
                                           words: str) -> None:
    path = _write(tmp_path / "bad.jsonl", rows)
    with pytest.raises(DataError) as caught:
        load_gold(path)
    error = caught.value
    assert error.file == str(path) and error.row == row and error.field == field
    assert words in str(error)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_gold(tmp_path / "nope.jsonl")
    with pytest.raises(DataError, match="no items"):
        load_gold(_write(tmp_path / "empty.jsonl", [{"header": {"name": "e"}}]))
