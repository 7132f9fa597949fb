"""One process owns a run directory: an OS file lock (`filelock`) plus an owner record naming it.

    run.lock         the lock file; the OS releases its lock when the owner exits, however it exits
    owner.json       RunOwner of the process holding the lock; removed when it lets go
    takeovers.jsonl  one RunOwner per takeover of a stale lock, naming the owner it replaced

A second process asking for the directory is refused with RunDirBusy naming the owner. A process killed
with kill -9 cannot remove owner.json, but its lock is gone with it, so the next process takes the
directory over: it says so once (StaleOwnerWarning, naming the old owner's pid and host) and appends the
takeover to takeovers.jsonl, so the run keeps the record after owner.json is gone.
"""

from __future__ import annotations

import os
import socket
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock, Timeout
from pydantic import Field, ValidationError

from edtune.atomic import atomic_write_json
from edtune.errors import RunDirBusy
from edtune.jsonl import append_jsonl, read_jsonl
from edtune.records import Record

LOCK_NAME = "run.lock"
OWNER_NAME = "owner.json"
TAKEOVERS_NAME = "takeovers.jsonl"
OWNERSHIP_FILES = frozenset({LOCK_NAME, OWNER_NAME, TAKEOVERS_NAME})
"""Files of the ownership protocol; a run directory holding only these holds no run yet."""


class StaleOwnerWarning(UserWarning):
    """A run directory was taken over from a process that ended without letting go of it (e.g. killed)."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class RunOwner(Record):
    """owner.json: which process holds a run directory."""

    pid: int
    """Process id of the owner."""
    host: str
    """Host name of the machine the owner runs on."""
    since: str = Field(default_factory=_now)
    """UTC time the owner took the directory, ISO 8601."""
    stale_owner: RunOwner | None = None
    """The owner found in owner.json when this one took over: a process that ended without letting go
    (killed). None when the directory was free."""


def read_owner(root: Path) -> RunOwner | None:
    """The owner recorded in `root`, or None when there is none (or the record is unreadable)."""
    try:
        return RunOwner.model_validate_json((root / OWNER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None


@contextmanager
def own_run_dir(root: str | Path) -> Iterator[RunOwner]:
    """Hold `root` for the duration of the block; RunDirBusy when another process holds it. The lock is
    not re-entrant across objects: a second `own_run_dir` on the same folder, even in this process, is
    refused too."""
    folder = Path(root)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / LOCK_NAME, timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        owner = read_owner(folder)
        raise RunDirBusy(str(folder), pid=owner.pid if owner else None, host=owner.host if owner else None) from None
    try:
        me = RunOwner(pid=os.getpid(), host=socket.gethostname(), stale_owner=_stale(read_owner(folder)))
        if me.stale_owner is not None:
            _record_takeover(folder, me)
        atomic_write_json(folder / OWNER_NAME, me)
        yield me
    finally:
        (folder / OWNER_NAME).unlink(missing_ok=True)
        lock.release()


def _record_takeover(folder: Path, me: RunOwner) -> None:
    """Say once that `me` took `folder` over from its stale owner, and append the takeover to takeovers.jsonl."""
    old = me.stale_owner
    assert old is not None
    append_jsonl(folder / TAKEOVERS_NAME, [me])
    warnings.warn(f"{folder}: took the run directory over from process {old.pid} on {old.host} (owner since "
                  f"{old.since}), which ended without letting go of it; recorded in {TAKEOVERS_NAME}",
                  StaleOwnerWarning, stacklevel=4)


def read_takeovers(root: Path) -> list[RunOwner]:
    """Every takeover of a stale lock in `root`, oldest first (each RunOwner names the owner it replaced)."""
    return read_jsonl(root / TAKEOVERS_NAME, RunOwner)


def _stale(previous: RunOwner | None) -> RunOwner | None:
    """The previous owner, without its own history (one level is enough to say who was replaced)."""
    return previous.model_copy(update={"stale_owner": None}) if previous is not None else None
