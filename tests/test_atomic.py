"""`edtune.atomic`: the one atomic-write helper, fsynced when durable; every module replaces files through it."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import BinaryIO

import pytest

import edtune
from edtune import atomic
from edtune.atomic import atomic_write, atomic_write_bytes, atomic_write_text, sync_tree
from edtune.jsonl import atomic_write_text as reexported


def _synced(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    return calls


def test_durable_writes_fsync_the_file_and_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _synced(monkeypatch)
    atomic_write_text(tmp_path / "a" / "state.json", "new")
    assert (tmp_path / "a" / "state.json").read_text() == "new" and len(calls) == 2


def test_non_durable_writes_do_not_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _synced(monkeypatch)
    atomic_write_bytes(tmp_path / "img.png", b"x", durable=False)
    assert (tmp_path / "img.png").read_bytes() == b"x" and calls == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")

    def broken(handle: BinaryIO) -> None:
        handle.write(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, broken)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_sync_tree_fsyncs_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "w.bin").write_bytes(b"1")
    (tmp_path / "c.json").write_text("{}")
    calls = _synced(monkeypatch)
    sync_tree(tmp_path)
    assert len(calls) == 4  # two files, two folders


def test_the_jsonl_name_is_the_same_helper() -> None:
    assert reexported is atomic_write_text


def test_no_other_module_replaces_files_by_hand() -> None:
    """Only `edtune.atomic` makes scratch files or folders and renames them into place."""
    package = Path(edtune.__file__).parent
    by_hand = [str(p.relative_to(package)) for p in package.rglob("*.py")
               if re.search(r"mkstemp|mkdtemp\(dir=|os\.replace\(|\.rename\(", p.read_text()) and p.name != "atomic.py"]
    assert by_hand == []


def test_atomic_folder_replaces_a_folder_only_when_complete(tmp_path: Path) -> None:
    target = tmp_path / "out" / "adapter"
    with atomic.atomic_folder(target) as scratch:
        (scratch / "a.txt").write_text("one", encoding="utf-8")
        assert not target.exists()
    assert (target / "a.txt").read_text(encoding="utf-8") == "one"
    with pytest.raises(RuntimeError), atomic.atomic_folder(target) as scratch:
        (scratch / "b.txt").write_text("half", encoding="utf-8")
        raise RuntimeError("killed mid-write")
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    with atomic.atomic_folder(target) as scratch:
        (scratch / "b.txt").write_text("two", encoding="utf-8")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["adapter"]
