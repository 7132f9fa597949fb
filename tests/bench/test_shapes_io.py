"""Writing and reading world folders, byte determinism on disk, and the `edtune bench make` command."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from edtune.bench.shapes import ShapesConfig, ShapesWorld, generate_world, load_world, read_manifest, write_world
from edtune.cli import bench as bench_cli
from edtune.errors import DataError, UserError

TINY = ShapesConfig(seed=3, pool_size=60, val_size=8, test_size=10, base_size=9)


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_writes_identical_bytes_and_other_seed_does_not(tmp_path: Path) -> None:
    write_world(generate_world(TINY), tmp_path / "a")
    write_world(generate_world(TINY), tmp_path / "b")
    write_world(generate_world(TINY.model_copy(update={"seed": 4})), tmp_path / "c")
    a, b, c = (_hashes(tmp_path / name) for name in "abc")
    assert a == b
    assert len(a) == 1 + 8 + (60 + 9 + 3 * 18)  # manifest, 8 JSONL files, one PNG per sample
    assert a["pool.jsonl"] != c["pool.jsonl"] and a["images/pool/pool-000001.png"] != c["images/pool/pool-000001.png"]


def test_round_trip_with_verified_hash(tmp_path: Path) -> None:
    world = generate_world(TINY)
    manifest_path = write_world(world, tmp_path)
    loaded = load_world(tmp_path, verify=True)
    assert loaded.config == world.config
    assert {n: [s.model_dump() for s in ss] for n, ss in loaded.splits.items()} == \
        {n: [s.model_dump() for s in ss] for n, ss in world.splits.items()}
    manifest = read_manifest(tmp_path)
    assert manifest_path.name == "world.json" and manifest.splits["pool"].count == 60
    assert {s.name for s in manifest.skills} >= {"counting", "spatial_relation", "size_comparison"}
    assert all((tmp_path / s.images[0]).is_file() for s in loaded.pool)


def test_tampered_world_fails_verification_and_bad_rows_name_file_and_row(tmp_path: Path) -> None:
    write_world(generate_world(TINY), tmp_path)
    image = tmp_path / "images" / "base" / "base-000001.png"
    image.write_bytes(image.read_bytes() + b"\0")
    with pytest.raises(DataError, match="content hash"):
        load_world(tmp_path, verify=True)
    lines = (tmp_path / "size_val.jsonl").read_text().splitlines()
    lines[2] = lines[2].replace('"answer":', '"anwser":')
    (tmp_path / "size_val.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as info:
        load_world(tmp_path)
    assert info.value.file is not None and info.value.file.endswith("size_val.jsonl") and info.value.row == 3


def test_missing_manifest_and_non_empty_folders_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="manifest missing"):
        load_world(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        write_world(generate_world(TINY), tmp_path)
    with pytest.raises(UserError, match="refusing to overwrite"):
        write_world(generate_world(TINY), tmp_path, overwrite=True)


def test_overwrite_replaces_an_existing_world(tmp_path: Path) -> None:
    write_world(generate_world(TINY), tmp_path)
    smaller = TINY.model_copy(update={"pool_size": 20})
    write_world(generate_world(smaller), tmp_path, overwrite=True)
    assert len(load_world(tmp_path, verify=True).pool) == 20
    assert len(list((tmp_path / "images" / "pool").iterdir())) == 20


def _app() -> typer.Typer:
    """A fresh app holding only the bench group, so tests never re-register on the global one."""
    app = typer.Typer()
    bench_cli.register(app)
    return app


def _world_files(world: ShapesWorld) -> int:
    return sum(len(samples) for samples in world.splits.values())


def test_cli_writes_a_world_that_load_world_reads(tmp_path: Path) -> None:
    out = tmp_path / "w"
    args = ["bench", "make", "shapes", "--out", str(out), "--seed", "5", "--pool-size", "40", "--val-size", "6",
            "--test-size", "9", "--base-size", "3"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert "pool.jsonl" in result.output and "counting_test.jsonl" in result.output
    world = load_world(out, verify=True)
    assert world.config.seed == 5 and len(world.pool) == 40 and len(world.test("spatial")) == 9
    assert _world_files(world) == 40 + 3 + 3 * 15


def test_cli_rejects_unknown_worlds_and_bad_sizes(tmp_path: Path) -> None:
    runner, app = CliRunner(), _app()
    unknown = runner.invoke(app, ["bench", "make", "cubes", "--out", str(tmp_path / "x")])
    assert isinstance(unknown.exception, UserError) and "known: shapes" in str(unknown.exception)
    bad = runner.invoke(app, ["bench", "make", "shapes", "--out", str(tmp_path / "y"), "--pool-size", "0"])
    assert isinstance(bad.exception, UserError) and "invalid --pool-size" in str(bad.exception)
    assert not (tmp_path / "y").exists()


def test_pngs_hold_no_metadata_chunks_and_manifest_records_pool_shares(tmp_path: Path) -> None:
    write_world(generate_world(TINY), tmp_path)
    data = (tmp_path / "images" / "pool" / "pool-000001.png").read_bytes()
    chunks, offset = [], 8
    while offset < len(data):
        length = int.from_bytes(data[offset:offset + 4], "big")
        chunks.append(data[offset + 4:offset + 8].decode())
        offset += 12 + length
    assert set(chunks) == {"IHDR", "IDAT", "IEND"}  # no tIME / tEXt: nothing that varies between runs
    manifest = read_manifest(tmp_path)
    assert set(manifest.pool_group_shares) == {"base", "distractor", "counting", "spatial", "size"}
    assert abs(sum(manifest.pool_group_shares.values()) - 1) < 1e-3
    assert manifest.pool_skill_shares["object_recognition"] == 1.0
