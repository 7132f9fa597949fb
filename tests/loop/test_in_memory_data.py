"""`adapt()` on in-memory `datasets` objects, and on an HF dataset folder named with a split and a column
map in a TOML config: the run is written to the run directory once, resumes without the objects, and
refuses other data on the same directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from edtune.data import HFColumns
from edtune.data.images import STORE_DIR
from edtune.errors import ConfigError, DataError
from edtune.loop import InMemoryData, adapt, load_config, resume
from edtune.loop.rundir import RunDir
from loop.fakes import FamilyStudent, scripted_teacher

datasets = pytest.importorskip("datasets")


@pytest.fixture(autouse=True)
def _quiet_datasets() -> None:
    datasets.disable_progress_bars()


def table(world: Path, name: str, *, family_column: bool = False) -> dict[str, list[Any]]:
    """The world's `name`.jsonl as dataset columns, images decoded to PIL, the family in metadata or in a
    column of its own."""
    rows = [json.loads(line) for line in (world / f"{name}.jsonl").read_text().splitlines()]
    columns: dict[str, list[Any]] = {
        "id": [r["id"] for r in rows], "question": [r["question"] for r in rows],
        "answer": [r["answer"] for r in rows], "rationale": [[s["text"] for s in r["rationale"]] for r in rows],
        "image": [Image.open(world / r["images"][0]).convert("RGB") for r in rows]}
    if family_column:
        columns["kind"] = [r["metadata"]["skill"] for r in rows]
    else:
        columns["metadata"] = [{"skill": r["metadata"]["skill"]} for r in rows]
    if all("required_skills" in r for r in rows):
        columns["required_skills"] = [r["required_skills"] for r in rows]
    return columns


def memory_sets(world: Path) -> dict[str, Any]:
    pool = datasets.DatasetDict({"train": datasets.Dataset.from_dict(table(world, "pool", family_column=True)),
                                 "unused": datasets.Dataset.from_dict(table(world, "base"))})
    return {"val": datasets.Dataset.from_dict(table(world, "counting_val")),
            "pool": InMemoryData(dataset=pool, split="train", columns=HFColumns(family="kind")),
            "test": datasets.DatasetDict({"test": datasets.Dataset.from_dict(table(world, "counting_test"))}),
            "replay": datasets.Dataset.from_dict(table(world, "base"))}


def run(run_dir: Path, sets: dict[str, Any], student: FamilyStudent | None = None) -> Any:
    return adapt(student or FamilyStudent(), teacher=scripted_teacher(), budget=4, iterations=1, run_dir=run_dir,
                 show_bars=False, **sets)


def test_in_memory_datasets_are_written_once_and_resume_without_them(world: Path, tmp_path: Path) -> None:
    sets = memory_sets(world)
    result = run(tmp_path / "run", sets)
    config = RunDir(result.run_dir).read_config()
    data_dir = (tmp_path / "run" / "data").resolve()
    for split in ("val", "pool", "test", "replay"):
        entry = getattr(config.data, split)
        assert (entry.path, entry.image_root, entry.format) == (data_dir / f"{split}.jsonl", data_dir, "jsonl")
    assert result.pretrained_accuracy == 0.0 and result.test_accuracy is not None and result.samples_used == 4
    assert set(result.metrics.iterations[1].test_by_family) == {"counting", "counting_by_attribute"}
    assert sum(result.metrics.iterations[1].selected_families.values()) == 4  # the pool's family column was read
    pool_rows = [json.loads(line) for line in (data_dir / "pool.jsonl").read_text().splitlines()]
    assert len(pool_rows) == 80 and pool_rows[0]["metadata"]["skill"] and pool_rows[0]["required_skills"]
    stored = {p.name for p in (data_dir / STORE_DIR).iterdir()}
    assert {Path(r["images"][0]).name for r in pool_rows} <= stored
    again = resume(result.run_dir, student=FamilyStudent(), teacher=scripted_teacher())
    assert again.test_accuracy == result.test_accuracy
    assert run(tmp_path / "run", memory_sets(world)).test_accuracy == result.test_accuracy


def test_other_data_on_the_same_run_directory_is_refused(world: Path, tmp_path: Path) -> None:
    run(tmp_path / "run", memory_sets(world))
    sets = memory_sets(world)
    changed = table(world, "counting_val")
    changed["answer"][0] = "41"
    sets["val"] = datasets.Dataset.from_dict(changed)
    with pytest.raises(ConfigError, match="the val dataset differs from the one the run"):
        run(tmp_path / "run", sets)


def test_a_bad_row_names_the_dataset_and_leaves_no_run_behind(world: Path, tmp_path: Path) -> None:
    sets = memory_sets(world)
    bad = table(world, "counting_val")
    bad["question"][3] = ""
    sets["val"] = datasets.Dataset.from_dict(bad)
    with pytest.raises(DataError, match="must not be empty") as err:
        run(tmp_path / "run", sets)
    assert (err.value.file, err.value.row, err.value.field) == ("in-memory val dataset", 3, "question")
    assert not RunDir(tmp_path / "run").exists()
    assert run(tmp_path / "run", memory_sets(world), FamilyStudent()).samples_used == 4  # fixed: the run starts


def test_toml_split_and_column_map_reach_the_loader(world: Path, tmp_path: Path) -> None:
    renamed = {"id": "qid", "question": "prompt", "answer": "label", "image": "picture", "kind": "kind"}
    pool = {renamed.get(k, k): v for k, v in table(world, "pool", family_column=True).items()}
    datasets.DatasetDict({"train": datasets.Dataset.from_dict(pool),
                          "other": datasets.Dataset.from_dict(pool)}).save_to_disk(str(tmp_path / "pool_hf"))
    (tmp_path / "run.toml").write_text(f"""
teacher = "openai/t@http://127.0.0.1:9/v1"
[data.val]
path = "{world / "counting_val.jsonl"}"
[data.pool]
path = "pool_hf"
split = "train"
[data.pool.columns]
id = "qid"
question = "prompt"
answer = "label"
images = "picture"
family = "kind"
""")
    config = load_config(tmp_path / "run.toml")
    assert config.data.pool.columns is not None and config.data.pool.columns.family == "kind"
    result = adapt(FamilyStudent(), config.data.val, config.data.pool, teacher=scripted_teacher(), budget=4,
                   iterations=1, config=config, run_dir=tmp_path / "run", show_bars=False)
    assert sum(result.metrics.iterations[1].selected_families.values()) == 4
