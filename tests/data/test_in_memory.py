"""In-memory `datasets` objects read into Samples (`dataset_samples`), the family column, and the hf-only
settings refused for other formats. Every dataset is built here, with images drawn by PIL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from edtune.data import HFColumns, dataset_samples, load_samples, resolve_image_path
from edtune.data.images import STORE_DIR
from edtune.errors import DataError
from edtune.loop.config import DataFile

datasets = pytest.importorskip("datasets")


@pytest.fixture(autouse=True)
def _quiet_datasets() -> None:
    datasets.disable_progress_bars()


def _table(colours: list[str]) -> dict[str, list[Any]]:
    n = len(colours)
    return {"qid": list(range(n)), "prompt": [f"Colour of {i}?" for i in range(n)], "label": colours,
            "picture": [Image.new("RGB", (5, 5), c) for c in colours], "kind": ["colour"] * n,
            "skills": [["naming a colour"]] * n}


COLUMNS = HFColumns(id="qid", question="prompt", answer="label", images="picture", family="kind",
                    required_skills="skills")


def test_pil_images_are_stored_by_content_and_columns_mapped(tmp_path: Path) -> None:
    ds = datasets.Dataset.from_dict(_table(["red", "blue", "red"]))
    samples = dataset_samples(ds, source="val", image_root=tmp_path, columns=COLUMNS, family_field="kind")
    assert [(s.id, s.question, s.answer) for s in samples[:2]] == [("0", "Colour of 0?", "red"),
                                                                    ("1", "Colour of 1?", "blue")]
    assert samples[0].metadata == {"kind": "colour"} and samples[0].required_skills == ["naming a colour"]
    assert samples[0].images == samples[2].images != samples[1].images
    assert samples[0].images[0].startswith(f"{STORE_DIR}/")
    with Image.open(resolve_image_path(tmp_path, samples[1].images[0])) as img:
        assert img.convert("RGB").getpixel((0, 0)) == (0, 0, 255)
    assert len(list((tmp_path / STORE_DIR).iterdir())) == 2


def test_a_dataset_dict_needs_its_split_named_when_it_has_several(tmp_path: Path) -> None:
    dd = datasets.DatasetDict({"train": datasets.Dataset.from_dict(_table(["red"])),
                               "validation": datasets.Dataset.from_dict(_table(["blue", "red"]))})
    chosen = dataset_samples(dd, source="val", image_root=tmp_path, split="validation", columns=COLUMNS)
    assert [s.answer for s in chosen] == ["blue", "red"]
    with pytest.raises(DataError, match=r"choose a split .* \['train', 'validation'\], got None") as err:
        dataset_samples(dd, source="in-memory val dataset", image_root=tmp_path, columns=COLUMNS)
    assert (err.value.file, err.value.field) == ("in-memory val dataset", "split")
    with pytest.raises(DataError, match="already one split"):
        dataset_samples(dd["train"], source="val", image_root=tmp_path, split="train", columns=COLUMNS)


def test_image_paths_are_read_from_files_and_copied_into_the_store(tmp_path: Path) -> None:
    (tmp_path / "pics").mkdir()
    Image.new("RGB", (4, 4), "green").save(tmp_path / "pics" / "g.png")
    ds = datasets.Dataset.from_dict({"id": ["a", "b"], "question": ["q?", "q?"], "answer": ["x", "y"],
                                     "image": ["g.png", str(tmp_path / "pics" / "g.png")]})
    store = tmp_path / "store"
    a, b = dataset_samples(ds, source="pool", image_root=store, files_from=tmp_path / "pics")
    assert a.images == b.images and (store / a.images[0]).is_file()
    with pytest.raises(DataError, match="cannot read image file") as err:
        dataset_samples(ds, source="pool", image_root=store, files_from=tmp_path)
    assert (err.value.file, err.value.row, err.value.field) == ("pool", 0, "image")


def test_bad_rows_name_the_dataset_row_and_column(tmp_path: Path) -> None:
    table = _table(["red", "blue"])
    table["label"] = ["red", " "]
    with pytest.raises(DataError, match="must not be empty") as err:
        dataset_samples(datasets.Dataset.from_dict(table), source="in-memory test dataset", image_root=tmp_path,
                        columns=COLUMNS)
    assert (err.value.file, err.value.row, err.value.field) == ("in-memory test dataset", 1, "label")
    with pytest.raises(DataError, match="no column 'colour'") as err:
        dataset_samples(datasets.Dataset.from_dict(_table(["red"])), source="pool", image_root=tmp_path,
                        columns=COLUMNS.model_copy(update={"family": "colour"}))
    assert err.value.field == "family"
    no_image = {"id": ["a"], "question": ["q?"], "answer": ["x"]}
    with pytest.raises(DataError, match="has no images") as err:
        dataset_samples(datasets.Dataset.from_dict(no_image), source="pool", image_root=tmp_path,
                        require_images=True)
    assert (err.value.row, err.value.field) == (0, "images")
    numbers = {**no_image, "image": [[1, 2]]}
    with pytest.raises(DataError, match="expected an image path, image or") as err:
        dataset_samples(datasets.Dataset.from_dict(numbers), source="pool", image_root=tmp_path)
    assert err.value.field == "image.0"


def test_family_column_of_a_saved_dataset_lands_under_the_family_field(tmp_path: Path) -> None:
    datasets.DatasetDict({"test": datasets.Dataset.from_dict(_table(["red"])),
                          "train": datasets.Dataset.from_dict(_table(["blue"]))}).save_to_disk(str(tmp_path / "dd"))
    entry = DataFile(path=tmp_path / "dd", split="test", columns=COLUMNS, family_field="colour_kind")
    [sample] = entry.load(check_images=True, require_images=True)
    assert sample.answer == "red" and sample.metadata == {"colour_kind": "colour"}
    # as a run's config.json stores it: every column field written out, none of them "set" any more
    assert DataFile.model_validate_json(entry.model_dump_json()).load(check_images=False) == [sample]


def test_hf_settings_on_other_formats_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match='columns apply to the hf format only; set format = "hf"'):
        DataFile(path=tmp_path / "val.jsonl", columns=COLUMNS)
    with pytest.raises(ValueError, match="split apply to the hf format only"):
        DataFile(path=tmp_path / "pool.parquet", format="llava", split="train")
    assert DataFile(path=tmp_path / "val.jsonl", format="hf", split="train").split == "train"
    (tmp_path / "val.jsonl").write_text('{"id": "a", "question": "q", "answer": "x"}\n')
    with pytest.raises(DataError, match="columns applies to the hf format only") as err:
        load_samples(tmp_path / "val.jsonl", columns=COLUMNS)
    assert err.value.field == "columns"
