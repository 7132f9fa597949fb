"""Saving and loading indexes, spec files, pool reading, and the refusals of mismatched indexes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from edtune.errors import ConfigError, DataError, UserError
from edtune.records import Sample
from edtune.retrieval import index as index_module
from edtune.retrieval.corpus import read_pool
from edtune.retrieval.index import IndexMismatch, build_index, open_index, read_manifest
from edtune.retrieval.reference import ReferenceBM25
from edtune.retrieval.spec import CorpusSpec, load_spec
from edtune.retrieval.tokenize import Tokenizer

SpecFactory = Callable[..., CorpusSpec]
MakeSamples = Callable[[int], list[Sample]]
WritePool = Callable[[Path, list[Sample]], Path]
QUERIES = ["counting objects", "left of", "colour", "nothing here"]


def test_round_trip_gives_the_same_hits_as_the_built_index(pool_spec: SpecFactory) -> None:
    spec = pool_spec(40)
    built = build_index(spec)
    loaded = open_index(spec)
    assert loaded.search(QUERIES, 7) == built.search(QUERIES, 7)
    assert loaded.search(QUERIES, 7) == ReferenceBM25(read_pool(spec).corpus).search(QUERIES, 7)
    assert open_index(spec.index_dir).search(QUERIES, 3) == built.search(QUERIES, 3)  # by folder alone
    manifest = read_manifest(spec.index_dir)
    assert (manifest.documents, manifest.skipped, manifest.spec) == (40, 0, spec)


def test_rebuild_replaces_the_old_index(pool_spec: SpecFactory,
        make_samples: MakeSamples, write_pool: WritePool) -> None:
    spec = pool_spec(40)
    build_index(spec)
    write_pool(spec.pool[0], make_samples(24))
    build_index(spec)
    assert open_index(spec).size == 24
    assert sorted(p.name for p in spec.index_dir.parent.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(("change", "reason"), [
    ({"tokenizer": {"stopwords": False}}, "tokenizer settings"),
    ({"bm25": {"k1": 1.2}}, "BM25 parameters"),
    ({"fields": "skills+question"}, "indexed fields"),
])
def test_settings_mismatch_is_refused(pool_spec: SpecFactory, change: dict[str, object], reason: str) -> None:
    build_index(pool_spec(40))
    with pytest.raises(IndexMismatch, match=reason):
        open_index(pool_spec(40, **change))


def test_tokenizer_version_mismatch_is_refused(pool_spec: SpecFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = pool_spec(40)
    build_index(spec)
    monkeypatch.setattr(index_module, "TOKENIZER_VERSION", 999)
    with pytest.raises(IndexMismatch, match="tokenizer version"):
        open_index(spec)


def test_changed_pool_content_is_refused_but_a_touched_file_is_not(pool_spec: SpecFactory,
        make_samples: MakeSamples, write_pool: WritePool) -> None:
    spec = pool_spec(40)
    build_index(spec)
    pool = spec.pool[0]
    stat = pool.stat()
    os.utime(pool, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert open_index(spec).size == 40  # same content: re-hashed and accepted
    samples = make_samples(40)
    samples[3] = samples[3].model_copy(update={"required_skills": ["something else entirely"]})
    write_pool(pool, samples)
    with pytest.raises(IndexMismatch, match="content hash"):
        open_index(spec)


def test_same_size_and_mtime_is_trusted_unless_content_is_verified(pool_spec: SpecFactory) -> None:
    spec = pool_spec(40)
    build_index(spec)
    pool = spec.pool[0]
    stat = pool.stat()
    pool.write_text(pool.read_text(encoding="utf-8").replace("s003", "s00X"), encoding="utf-8")
    os.utime(pool, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert open_index(spec).size == 40
    with pytest.raises(IndexMismatch, match="content hash"):
        open_index(spec, verify="content")


def test_missing_index_and_missing_pool(pool_spec: SpecFactory) -> None:
    spec = pool_spec(40)
    with pytest.raises(UserError, match="no index at"):
        open_index(spec)
    build_index(spec)
    spec.pool[0].unlink()
    with pytest.raises(IndexMismatch, match="missing"):
        open_index(spec)


def test_sample_without_skills_names_file_row_field(pool_spec: SpecFactory,
        make_samples: MakeSamples, write_pool: WritePool) -> None:
    spec = pool_spec(40)
    samples = make_samples(25)
    samples[2] = samples[2].model_copy(update={"required_skills": None})
    write_pool(spec.pool[0], samples)
    with pytest.raises(DataError) as info:
        build_index(spec)
    assert (info.value.file, info.value.row, info.value.field) == (str(spec.pool[0]), 3, "required_skills")
    skipping = spec.model_copy(update={"on_missing_skills": "skip"})
    assert build_index(skipping).size == 24
    assert read_manifest(spec.index_dir).skipped == 1


def test_duplicate_ids_across_pool_files_are_refused(tmp_path: Path,
        make_samples: MakeSamples, write_pool: WritePool) -> None:
    a = write_pool(tmp_path / "a.jsonl", make_samples(3))
    b = write_pool(tmp_path / "b.jsonl", make_samples(2))
    spec = CorpusSpec(name="t", pool=[a, b], index_dir=tmp_path / "i")
    with pytest.raises(DataError, match="duplicate id 's000'") as info:
        read_pool(spec)
    assert (info.value.file, info.value.row) == (str(b), 1)


def test_question_text_is_indexed_on_request(pool_spec: SpecFactory) -> None:
    spec = pool_spec(24, fields="skills+question")
    hits = build_index(spec).search(["question 7"], 1)[0]
    assert hits[0].sample_id == "s007"
    assert read_pool(spec).corpus.texts[7] == "reading off what objects a scene contains | question 7?"


def test_spec_file_paths_resolve_against_the_spec_folder(tmp_path: Path) -> None:
    folder = tmp_path / "retrieval"
    folder.mkdir()
    (folder / "mine.toml").write_text('name = "m"\npool = ["../p.jsonl"]\nindex_dir = "../idx"\n'
                                      "[tokenizer]\nstem = false\n", encoding="utf-8")
    spec = load_spec("mine", project_dir=tmp_path)
    assert spec.pool == [tmp_path.resolve() / "p.jsonl"] and spec.index_dir == tmp_path.resolve() / "idx"
    assert spec.tokenizer.stem is False and Tokenizer(spec.tokenizer)("shapes") == ["shapes"]
    assert load_spec(folder / "mine.toml") == spec


def test_bad_spec_files_are_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\npool = []\nindex_dir = "i"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="pool"):
        load_spec(bad)
    bad.write_text('name = "x"\npool = ["p"]\nindex_dir = "i"\ntypo = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="typo"):
        load_spec(bad)
    bad.write_text("name = ", encoding="utf-8")
    with pytest.raises(ConfigError, match="TOML"):
        load_spec(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_spec(tmp_path / "absent.toml")


def test_bundled_shapes_spec_validates() -> None:
    spec = load_spec(Path(__file__).resolve().parents[2] / "retrieval" / "shapes.toml")
    assert spec.name == "shapes" and spec.pool[0].name == "pool.jsonl"
