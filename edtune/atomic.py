"""Atomic whole-file writes: the one helper every module uses to replace a file.

A file is written to a temporary sibling, then renamed over the target, so a reader (or a process
resuming after kill -9) sees either the old file or the whole new one, never a part. With `durable`
(the default) the data and then the folder entry are fsynced before returning, so the new file also
survives a power loss or an OS crash: run-directory state, selections and caches that a resumed run
trusts are written this way. `durable=False` is for derived files that can be rebuilt (an image store
named by content hash), where one fsync per file would be the main cost of a large import.

`atomic_folder` does the same for a whole folder (a saved adapter, a search index): it is written into a
scratch sibling that replaces the target only when complete.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import BaseModel


def sync_dir(folder: str | Path) -> None:
    """fsync a folder, making the renames and creations inside it durable (a no-op where the platform
    cannot open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def sync_tree(folder: str | Path) -> None:
    """fsync every file under `folder`, then its folders: for a folder written by another library (a saved
    adapter) that is about to be renamed into place."""
    root = Path(folder)
    for path in sorted(root.rglob("*")):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    for sub in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        sync_dir(sub)
    sync_dir(root)


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object], *, durable: bool = True) -> None:
    """Replace `path` with what `write` writes into the binary handle it is given (see the module
    docstring). The temporary file is removed when `write` raises; the old file is then left as it was."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        sync_dir(target.parent)


def atomic_write_bytes(path: str | Path, data: bytes, *, durable: bool = True) -> None:
    """`atomic_write` of `data`."""
    atomic_write(path, lambda handle: handle.write(data), durable=durable)


def atomic_write_text(path: str | Path, text: str, *, durable: bool = True) -> None:
    """`atomic_write` of `text` encoded as UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def atomic_write_json(path: str | Path, obj: Any, *, durable: bool = True) -> None:
    """`atomic_write_text` of `obj` as indented JSON (pydantic models are dumped in JSON mode)."""
    if isinstance(obj, BaseModel):
        obj = obj.model_dump(mode="json")
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n", durable=durable)


@contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """A scratch folder beside `path` to write a whole folder into. When the block ends without error, the
    scratch folder's files and folders are fsynced and it takes the place of `path` (a folder already there
    is moved aside first, then deleted), so a reader sees the old folder or the whole new one. When the
    block raises, the scratch folder is deleted and `path` is left as it was. Scratch folders are named
    `.<name>.*` beside the target, for a sweep after kill -9."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        yield scratch
        sync_tree(scratch)
        old = target.with_name(f".{target.name}.old")
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
        os.replace(scratch, target)
        sync_dir(target.parent)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
