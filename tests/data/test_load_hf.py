"""Hugging Face `datasets`: save_to_disk folders, local files, column mapping, embedded images, errors."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from edtune.data import HFColumns, load_samples, resolve_image_path
from edtune.data.images import STORE_DIR
from edtune.errors import DataError, MissingDependency

datasets = pytest.importorskip("datasets")


@pytest.fixture(autouse=True)
def _quiet_datasets() -> None:
    datasets.disable_progress_bars()


def _png_bytes(colour: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (6, 6), colour).save(buf, format="PNG")
    return buf.getvalue()


def _rows(n: int = 2) -> dict[str, list[Any]]:
    return {"id": [f"h{i}" for i in range(n)], "question": [f"Colour {i}?" for i in range(n)],
            "answer": ["red"] * n, "choices": [["red", "blue"]] * n}


def test_save_to_disk_with_embedded_images(tmp_path: Path) -> None:
    colours = ["red", "blue", "red"]
    data = {**_rows(3), "image": [Image.open(io.BytesIO(_png_bytes(c))) for c in colours]}
    folder = tmp_path / "ds"
    datasets.Dataset.from_dict(data).save_to_disk(str(folder))
    samples = load_samples(folder)
    assert [s.id for s in samples] == ["h0", "h1", "h2"]
    assert samples[0].choices == ["red", "blue"]
    assert samples[0].images == samples[2].images != samples[1].images
    assert samples[0].images[0].startswith(f"{STORE_DIR}/")
    with Image.open(resolve_image_path(folder, samples[1].images[0])) as img:
        assert img.convert("RGB").getpixel((0, 0)) == (0, 0, 255)
    assert load_samples(folder) == samples  # second load reuses the stored files


def test_image_list_column_and_explicit_root(tmp_path: Path) -> None:
    pics = [[Image.open(io.BytesIO(_png_bytes("red"))), Image.open(io.BytesIO(_png_bytes("blue")))]]
    folder = tmp_path / "ds"
    datasets.Dataset.from_dict({**_rows(1), "images": pics}).save_to_disk(str(folder))
    [sample] = load_samples(folder, image_root=tmp_path / "root")
    assert len(sample.images) == 2
    assert all((tmp_path / "root" / rel).is_file() for rel in sample.images)


def test_dataset_dict_needs_a_split_when_it_has_several(tmp_path: Path) -> None:
    folder = tmp_path / "dd"
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_dict(_rows(2)),
                               "test": datasets.Dataset.from_dict(_rows(1))})
    dd.save_to_disk(str(folder))
    assert len(load_samples(folder, split="test")) == 1
    with pytest.raises(DataError, match=r"choose a split with split=...: the dataset has \['test', 'train'\]"):
        load_samples(folder)


def test_local_parquet_with_column_mapping(tmp_path: Path) -> None:
    Image.new("RGB", (4, 4), "green").save(tmp_path / "g.png")
    table = {"qid": [10, 11], "prompt": ["Q1?", "Q2?"], "label": ["x", "y"], "img": ["g.png", "g.png"],
             "steps": [["look", "answer"], ["look"]], "task": ["t1", "t2"]}
    path = tmp_path / "set.parquet"
    datasets.Dataset.from_dict(table).to_parquet(str(path))
    cols = HFColumns(id="qid", question="prompt", answer="label", images="img", rationale="steps",
                     extra_metadata=["task"])
    samples = load_samples(path, columns=cols)
    assert [(s.id, s.question, s.answer, s.images) for s in samples] == [("10", "Q1?", "x", ["g.png"]),
                                                                          ("11", "Q2?", "y", ["g.png"])]
    assert samples[0].rationale is not None and [r.text for r in samples[0].rationale] == ["look", "answer"]
    assert samples[1].metadata == {"task": "t2"}


def test_local_jsonl_through_datasets_with_row_index_ids(tmp_path: Path) -> None:
    path = tmp_path / "plain.jsonl"
    path.write_text('{"question": "a?", "answer": "1"}\n{"question": "b?", "answer": "2"}\n')
    samples = load_samples(path, fmt="hf", columns=HFColumns(id=None))
    assert [s.id for s in samples] == ["0", "1"]


def test_missing_column_and_bad_values(tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    datasets.Dataset.from_dict({"id": ["a", "b"], "question": ["q", "q"], "answer": ["x", ""]}).save_to_disk(
        str(folder))
    with pytest.raises(DataError, match="the dataset has no column 'label'") as err:
        load_samples(folder, columns=HFColumns(answer="label"))
    assert (err.value.file, err.value.field) == (str(folder), "answer")
    with pytest.raises(DataError, match="the dataset has no column 'choices'"):
        load_samples(folder, columns=HFColumns(choices="choices"))
    with pytest.raises(DataError, match="invalid sample: Value error, must not be empty") as err:
        load_samples(folder)
    assert (err.value.row, err.value.field) == (1, "answer")


def test_duplicate_ids_and_escaping_image_paths(tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    data = {"id": ["a", "b", "a"], "question": ["q"] * 3, "answer": ["x"] * 3, "image": [None, "../e.png", None]}
    datasets.Dataset.from_dict(data).save_to_disk(str(folder))
    with pytest.raises(DataError, match="escapes the image root") as err:
        load_samples(folder, check_images=False)
    assert (err.value.row, err.value.field) == (1, "image")
    data["image"] = [None, None, None]
    datasets.Dataset.from_dict(data).save_to_disk(str(tmp_path / "ds2"))
    with pytest.raises(DataError, match="duplicate id 'a', first seen at row 0") as err:
        load_samples(tmp_path / "ds2")
    assert (err.value.row, err.value.field) == (2, "id")


def test_corrupt_file_is_a_data_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(DataError, match="cannot load dataset") as err:
        load_samples(path)
    assert err.value.file == str(path)


def test_missing_datasets_package_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "ds"
    folder.mkdir()
    monkeypatch.setitem(sys.modules, "datasets", None)
    with pytest.raises(MissingDependency, match=r"pip install 'edtune\[datasets\]'"):
        load_samples(folder)
