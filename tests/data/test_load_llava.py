"""LLaVA conversation JSON: turn-to-sample mapping, `<image>` stripping, and its error paths."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from edtune.data import load_samples
from edtune.errors import DataError
from edtune.loop.config import DataFile


def _conv(*texts: str, roles: tuple[str, ...] = ()) -> list[dict[str, str]]:
    names = roles or tuple("human" if i % 2 == 0 else "gpt" for i in range(len(texts)))
    return [{"from": r, "value": t} for r, t in zip(names, texts, strict=True)]


def _write(tmp_path: Path, entries: Any) -> Path:
    path = tmp_path / "llava.json"
    path.write_text(json.dumps(entries))
    return path


def _error(tmp_path: Path, entries: Any) -> DataError:
    path = _write(tmp_path, entries)
    with pytest.raises(DataError) as err:
        load_samples(path, check_images=False)
    assert err.value.file == str(path)
    return err.value


def test_single_turn_keeps_id_and_strips_image_token(tmp_path: Path, png: Callable[..., Path]) -> None:
    png("imgs/1.png")
    entry = {"id": "c1", "image": "imgs/1.png", "source": "coco",
             "conversations": _conv("<image>\nWhat colour is the cube?", "Red.")}
    [sample] = load_samples(_write(tmp_path, [entry]))
    assert (sample.id, sample.images, sample.question, sample.answer) == ("c1", ["imgs/1.png"],
                                                                          "What colour is the cube?", "Red.")
    assert sample.metadata == {"source": "coco"}


def test_multi_turn_gives_one_sample_per_pair(tmp_path: Path, png: Callable[..., Path]) -> None:
    png("a.png")
    png("b.png")
    entry = {"id": 7, "image": ["a.png", "b.png"],
             "conversations": [{"from": "system", "value": "Be brief."},
                               *_conv("How many? <image>", "Two.", "Which is left?", "The cube.")]}
    samples = load_samples(_write(tmp_path, [entry]))
    assert [s.id for s in samples] == ["7#1", "7#2"]
    assert [(s.question, s.answer) for s in samples] == [("How many?", "Two."), ("Which is left?", "The cube.")]
    assert all(s.images == ["a.png", "b.png"] for s in samples)
    assert samples[1].metadata == {"llava_id": "7", "turn": 2, "turns": 2}


def test_text_only_conversation(tmp_path: Path) -> None:
    [sample] = load_samples(_write(tmp_path, [{"id": "t", "conversations": _conv("Hi?", "Hello.")}]))
    assert sample.images == []


@pytest.mark.parametrize(
    ("entries", "row", "field", "message"),
    [
        ({"id": "x"}, None, None, "expected a JSON array of conversations, got dict"),
        ([{"id": "a", "conversations": _conv("q", "a")}, "oops"], 1, None, "expected a JSON object, got str"),
        ([{"conversations": _conv("q", "a")}], 0, "id", "missing required field"),
        ([{"id": 1.5, "conversations": _conv("q", "a")}], 0, "id", "id must be a string or integer, got float"),
        ([{"id": "a"}], 0, "conversations", "missing required field"),
        ([{"id": "a", "conversations": []}], 0, "conversations", "conversations must be a non-empty list"),
        ([{"id": "a", "conversations": _conv("q", "a", roles=("gpt", "human"))}], 0, "conversations.0.from",
         "expected a 'human' turn, got 'gpt'"),
        ([{"id": "a", "conversations": [*_conv("q", "a"), {"from": "human"}]}], 0, "conversations.2.value",
         "value must be a string"),
        ([{"id": "a", "conversations": _conv("q", "a", "q2")}], 0, "conversations.2",
         "conversation ends with a human turn that has no gpt answer"),
        ([{"id": "a", "conversations": ["q", "a"]}], 0, "conversations.0", "expected a JSON object, got str"),
        ([{"id": "a", "image": 3, "conversations": _conv("q", "a")}], 0, "image",
         "image must be a path or a list of paths"),
        ([{"id": "a", "conversations": _conv("<image>", "a")}], 0, "conversations.0.value",
         "invalid sample: Value error, must not be empty, got ''"),
        ([{"id": "a", "conversations": _conv("q", "a")}, {"id": "a", "conversations": _conv("q", "b")}], 1, "id",
         "duplicate id 'a', first seen at row 0"),
    ],
)
def test_errors_name_row_and_source_field(tmp_path: Path, entries: Any, row: int | None, field: str | None,
                                          message: str) -> None:
    err = _error(tmp_path, entries)
    assert (err.detail, err.row, err.field) == (message, row, field)


def test_bad_image_is_reported_at_the_image_field(tmp_path: Path) -> None:
    path = _write(tmp_path, [{"id": "a", "image": "../x.png", "conversations": _conv("q", "a")}])
    with pytest.raises(DataError, match="escapes the image root") as err:
        load_samples(path)
    assert (err.value.row, err.value.field) == (0, "image")
    path = _write(tmp_path, [{"id": "a", "image": ["x.png", "/x.png"], "conversations": _conv("q", "a")}])
    with pytest.raises(DataError, match="absolute path") as err:
        load_samples(path, check_images=False)
    assert err.value.field == "image.1"


def test_invalid_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[{"id": "a",]')
    with pytest.raises(DataError, match=r"invalid JSON: .* at line 1 column \d+"):
        load_samples(path)


def test_step_by_step_turn_becomes_rationale_and_answer(tmp_path: Path) -> None:
    turn = "Let me look.\nStep 1: I see 3 digits.\nthat are all odd\nStep 2: 3 is odd.\nAnswer: odd"
    [sample] = load_samples(_write(tmp_path, [{"id": "s", "conversations": _conv("Parity?", turn)}]))
    assert sample.answer == "odd"
    assert [s.text for s in sample.rationale or []] == ["I see 3 digits. that are all odd", "3 is odd."]


def test_answer_only_turns(tmp_path: Path) -> None:
    entries = [{"id": "a", "conversations": _conv("q", "Final answer: 7")},
               {"id": "b", "conversations": _conv("q", "The cube is red.\nIt is large.")}]
    first, second = load_samples(_write(tmp_path, entries))
    assert (first.answer, first.rationale) == ("7", None)
    assert (second.answer, second.rationale) == ("The cube is red.\nIt is large.", None)


def test_last_answer_line_wins_and_later_steps_are_ignored(tmp_path: Path) -> None:
    turn = "Step 1: a\nAnswer: 1\nStep 2: b\nAnswer: 2\nStep 3: late"
    [sample] = load_samples(_write(tmp_path, [{"id": "s", "conversations": _conv("q", turn)}]))
    assert (sample.answer, [s.text for s in sample.rationale or []]) == ("2", ["a", "b"])


def test_configured_answer_pattern(tmp_path: Path) -> None:
    turn = "Step 1: 4 is even.\nSo the result is EVEN."
    path = _write(tmp_path, [{"id": "s", "conversations": _conv("q", turn)}])
    [sample] = load_samples(path, answer_pattern=r"the result is (?P<answer>\w+)")
    assert (sample.answer, [s.text for s in sample.rationale or []]) == ("EVEN", ["4 is even."])


def test_steps_without_an_answer_line_are_refused(tmp_path: Path) -> None:
    err = _error(tmp_path, [{"id": "s", "conversations": _conv("q", "Step 1: a\nStep 2: b\nso even")}])
    assert (err.row, err.field) == (0, "conversations.1.value")
    assert err.detail.startswith("the turn has 2 step line(s) but no line matches the answer pattern")


@pytest.mark.parametrize(("pattern", "message"), [("(", "is not a regular expression"),
                                                  (r"answer: (\w+)", "needs a named group (?P<answer>...)")])
def test_bad_answer_pattern(tmp_path: Path, pattern: str, message: str) -> None:
    path = _write(tmp_path, [{"id": "s", "conversations": _conv("q", "a")}])
    with pytest.raises(DataError, match=re.escape(message)) as err:
        load_samples(path, answer_pattern=pattern)
    assert err.value.field == "answer_pattern"
    with pytest.raises(ValidationError, match=re.escape(message)):
        DataFile(path=path, answer_pattern=pattern)
