"""Image checks: containment in the image root, missing/corrupt/truncated files, the embedded-image store."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from edtune.data import load_samples, resolve_image_path
from edtune.data.images import STORE_DIR, store_image_bytes
from edtune.errors import DataError


def _data(tmp_path: Path, images: list[str]) -> Path:
    path = tmp_path / "data" / "set.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"id": "ok", "question": "q", "answer": "a"}, {"id": "x", "images": images, "question": "q", "answer": "a"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _error(path: Path, **kw: object) -> DataError:
    with pytest.raises(DataError) as err:
        load_samples(path, **kw)  # type: ignore[arg-type]
    assert (err.value.file, err.value.row) == (str(path), 2)
    return err.value


def test_image_paths_resolve_under_the_default_root(tmp_path: Path, png: Callable[..., Path]) -> None:
    png("data/img/a.png")
    path = _data(tmp_path, ["img/a.png"])
    assert load_samples(path)[1].images == ["img/a.png"]
    assert resolve_image_path(path.parent, "img/a.png") == (tmp_path / "data" / "img" / "a.png").resolve()


def test_dotdot_escape_is_refused_even_when_the_file_exists(tmp_path: Path, png: Callable[..., Path]) -> None:
    png("secret.png")
    err = _error(_data(tmp_path, ["../secret.png"]))
    assert err.detail.startswith("image path '../secret.png' escapes the image root")
    assert err.field == "images.0"


def test_absolute_path_is_refused(tmp_path: Path, png: Callable[..., Path]) -> None:
    target = png("data/a.png")
    err = _error(_data(tmp_path, [str(target)]), check_images=False)
    assert err.detail == f"image path must be relative to the image root, got absolute path {str(target)!r}"


def test_symlink_out_of_the_root_is_refused(tmp_path: Path, png: Callable[..., Path]) -> None:
    outside = png("outside/b.png")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "link.png").symlink_to(outside)
    err = _error(_data(tmp_path, ["link.png"]))
    assert "escapes the image root" in err.detail
    assert err.field == "images.0"


def test_missing_image(tmp_path: Path, png: Callable[..., Path]) -> None:
    png("data/a.png")
    err = _error(_data(tmp_path, ["a.png", "b.png"]))
    assert (err.detail, err.field) == ("image file not found: 'b.png'", "images.1")
    assert load_samples(_data(tmp_path, ["a.png", "b.png"]), check_images=False)[1].images == ["a.png", "b.png"]


def test_corrupt_and_truncated_images(tmp_path: Path, png: Callable[..., Path]) -> None:
    good = png("data/good.png").read_bytes()
    (tmp_path / "data" / "junk.png").write_bytes(b"not an image at all")
    (tmp_path / "data" / "cut.png").write_bytes(good[: len(good) // 2])
    for name in ("junk.png", "cut.png"):
        err = _error(_data(tmp_path, [name]))
        assert err.detail.startswith(f"unreadable or corrupt image {name!r}: ")
        assert err.field == "images.0"


def test_explicit_image_root(tmp_path: Path, png: Callable[..., Path]) -> None:
    png("pics/a.png")
    path = _data(tmp_path, ["a.png"])
    assert load_samples(path, image_root=tmp_path / "pics")[1].images == ["a.png"]


def test_store_is_content_addressed(tmp_path: Path, png: Callable[..., Path]) -> None:
    data = png("a.png").read_bytes()
    rel = store_image_bytes(tmp_path / "root", data, file="f", row=0, field="image")
    assert rel.startswith(f"{STORE_DIR}/") and rel.endswith(".png")
    assert store_image_bytes(tmp_path / "root", data, file="f", row=5, field="image") == rel
    assert (tmp_path / "root" / rel).read_bytes() == data
    with pytest.raises(DataError, match="unreadable or corrupt embedded image") as err:
        store_image_bytes(tmp_path / "root", b"garbage", file="f", row=7, field="image")
    assert (err.value.row, err.value.field) == (7, "image")
