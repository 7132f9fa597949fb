"""A pool cut into shards, and the folder that keeps the finished ones.

A shard is a run of consecutive ids of the work list; its file name carries its position and a hash of
its ids, so a restarted driver, planning the same work list with the same shard size, finds the shards
finished before and skips them, while a file from another plan (another pool, another shard size) matches
no shard and is never read. Each shard file is written atomically once its shard is done, so a file that
exists is complete.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from edtune.atomic import atomic_write, atomic_write_bytes


@dataclass(frozen=True)
class Shard:
    """One shard of a plan: its position and the ids it holds, in work-list order."""

    index: int
    ids: tuple[str, ...]

    @property
    def name(self) -> str:
        """`shard-<index>-<hash of the ids>`: the stem of its file."""
        digest = hashlib.sha256("\n".join(self.ids).encode()).hexdigest()[:12]
        return f"shard-{self.index:06d}-{digest}"


def plan_shards(ids: Sequence[str], size: int) -> list[Shard]:
    """`ids` cut into shards of `size` (the last one shorter), in order."""
    if size < 1:
        raise ValueError("a shard holds at least one id")
    return [Shard(index, tuple(ids[start:start + size])) for index, start in enumerate(range(0, len(ids), size))]


class ShardStore:
    """The folder of finished shards: `<folder>/<shard name><suffix>`, one file per shard."""

    def __init__(self, folder: Path, suffix: str = ".jsonl") -> None:
        self.folder = folder
        self.suffix = suffix

    def path(self, shard: Shard) -> Path:
        return self.folder / f"{shard.name}{self.suffix}"

    def done(self, shard: Shard) -> bool:
        """Whether `shard` was finished (by this driver or an earlier one)."""
        return self.path(shard).is_file()

    def write(self, shard: Shard, data: bytes) -> None:
        """Keep a finished shard's results, atomically."""
        atomic_write_bytes(self.path(shard), data)

    def read(self, shard: Shard) -> bytes:
        """The results of a finished shard, as written."""
        return self.path(shard).read_bytes()

    def append_to(self, path: Path, plan: Sequence[Shard]) -> None:
        """Append every shard of `plan`, in plan order, to the file `path` in one atomic rewrite: a driver
        killed during it leaves `path` as it was, and its successor finds every shard still kept. `path`
        must end at a line boundary (a results file's `repair_tail` does that)."""
        def write(handle: BinaryIO) -> None:
            if path.exists():
                with path.open("rb") as old:
                    shutil.copyfileobj(old, handle)
            for shard in plan:
                with self.path(shard).open("rb") as part:
                    shutil.copyfileobj(part, handle)

        atomic_write(path, write)

    def clear(self) -> None:
        """Remove the folder, once its shards are merged into the stage's own output."""
        shutil.rmtree(self.folder, ignore_errors=True)
