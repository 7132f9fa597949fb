"""Everything is validated before any model work: each data file in full, and the config's types."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from edtune.errors import ConfigError, DataError
from edtune.loop import adapt
from edtune.loop.config import DataFile, validate_config
from edtune.records import Sample, StudentOutput
from loop.fakes import FamilyStudent, scripted_teacher


class WatchedStudent(FamilyStudent):
    """Fails the test if it is asked anything: the checks must come first."""

    def answer(self, samples: Sequence[Sample], image_root: Path, *, batch_size: int = 64) -> list[StudentOutput]:
        raise AssertionError("the student was used before the data was checked")


def _copy(world: Path, name: str, tmp_path: Path, edit: str = "", row: int = 1) -> DataFile:
    """`name` of the world copied to tmp_path (images stay in the world), with row `row` rewritten by `edit`."""
    lines = (world / name).read_text().splitlines()
    record = json.loads(lines[row - 1])
    if edit == "no_images":
        del record["images"]
    elif edit == "bad_image":
        (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
        record["images"] = [str(tmp_path / "broken.png")]
    elif edit == "duplicate":
        record["id"] = json.loads(lines[0])["id"]
    lines[row - 1] = json.dumps(record)
    out = tmp_path / name
    out.write_text("" if edit == "empty" else "\n".join(lines) + "\n")
    return DataFile(path=out, image_root=world)


def _adapt(world: Path, tmp_path: Path, **data: DataFile) -> None:
    files: dict[str, DataFile | Path] = {"val": world / "counting_val.jsonl", "pool": world / "pool.jsonl",
                                         "test": world / "counting_test.jsonl", "replay": world / "base.jsonl"}
    files.update(data)
    adapt(WatchedStudent(), files["val"], files["pool"], test=files["test"], replay=files["replay"],
          teacher=scripted_teacher(), budget=6, iterations=1, run_dir=tmp_path / "run", show_bars=False)


def test_an_empty_val_file_is_refused(world: Path, tmp_path: Path) -> None:
    val = _copy(world, "counting_val.jsonl", tmp_path, "empty")
    with pytest.raises(DataError, match="holds no samples") as info:
        _adapt(world, tmp_path, val=val)
    assert info.value.file == str(val.path)


def test_a_row_without_images_is_refused_unless_text_only(world: Path, tmp_path: Path) -> None:
    val = _copy(world, "counting_val.jsonl", tmp_path, "no_images", row=3)
    with pytest.raises(DataError) as info:
        _adapt(world, tmp_path, val=val)
    assert (info.value.file, info.value.row, info.value.field) == (str(val.path), 3, "images")
    assert "text_only" in str(info.value)


def test_a_text_only_file_may_have_rows_without_images(world: Path, tmp_path: Path) -> None:
    val = _copy(world, "counting_val.jsonl", tmp_path, "no_images", row=3)
    with pytest.raises(AssertionError, match="student was used"):
        _adapt(world, tmp_path, val=val.model_copy(update={"text_only": True}))


@pytest.mark.parametrize("split", ["pool", "replay", "test"])
def test_an_undecodable_image_anywhere_is_refused_before_the_student_runs(world: Path, tmp_path: Path,
                                                                         split: str) -> None:
    name = {"pool": "pool.jsonl", "replay": "base.jsonl", "test": "counting_test.jsonl"}[split]
    bad = _copy(world, name, tmp_path, "bad_image", row=5)
    with pytest.raises(DataError) as info:
        _adapt(world, tmp_path, **{split: bad})
    assert (info.value.file, info.value.row, info.value.field) == (str(bad.path), 5, "images.0")


def test_duplicate_ids_in_the_pool_are_refused(world: Path, tmp_path: Path) -> None:
    pool = _copy(world, "pool.jsonl", tmp_path, "duplicate", row=7)
    with pytest.raises(DataError, match="duplicate id") as info:
        _adapt(world, tmp_path, pool=pool)
    assert (info.value.file, info.value.row, info.value.field) == (str(pool.path), 7, "id")


@pytest.mark.parametrize(("key", "value"), [("iterations", "2"), ("budget", 12.5), ("seed", "0"),
                                            ("teacher_images", 1)])
def test_config_types_are_strict(key: str, value: object) -> None:
    data = {"data": {"val": {"path": "v.jsonl"}, "pool": {"path": "p.jsonl"}}, "teacher": "openai/x", key: value}
    with pytest.raises(ConfigError, match=f"field '{key}'"):
        validate_config(data, "test.toml")


def test_strict_config_still_takes_paths_as_strings() -> None:
    config = validate_config({"data": {"val": {"path": "v.jsonl"}, "pool": {"path": "p.jsonl"}},
                              "teacher": "openai/x", "iterations": 2}, "test.toml")
    assert config.data.val.path == Path("v.jsonl") and config.iterations == 2
