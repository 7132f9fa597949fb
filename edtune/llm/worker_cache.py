"""The cache of a worker process that must not write the shared cache file (see `edtune.llm.cache`).

New replies and calls go to an in-memory cache that the worker hands over with its results
(`export_rows`); the file's owner `absorb`s them. Lookups also read the shared file, opened read-only, when
this machine sees it at the same path (one node, or a shared file system), so a reply cached by any earlier
run is not paid again. Where the file is not visible, a worker only misses the old replies: it pays for
them again and the owner stores the same content-addressed rows.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from edtune.llm.base import ChatResponse
from edtune.llm.cache import LLMCache, cache_hit


class WorkerCache(LLMCache):
    """An in-memory LLMCache whose lookups fall back on the shared file at `shared` (read-only)."""

    def __init__(self, shared: Path | None) -> None:
        super().__init__(":memory:")
        self.shared = shared
        self._shared_lock = threading.Lock()
        self._shared_db = _open_read_only(shared) if shared is not None else None

    def __repr__(self) -> str:
        return f"WorkerCache(shared={str(self.shared)!r})"

    def get(self, key: str) -> ChatResponse | None:
        """The reply from this worker's own rows, else from the shared file, else None."""
        own = super().get(key)
        if own is not None or self._shared_db is None:
            return own
        try:
            with self._shared_lock:
                row = self._shared_db.execute("SELECT response_json FROM responses WHERE key = ?",
                                              (key,)).fetchone()
        except sqlite3.Error:  # a file that cannot be read only costs the call it would have saved
            return None
        return None if row is None else cache_hit(row[0])

    def close(self) -> None:
        super().close()
        if self._shared_db is not None:
            with self._shared_lock:
                self._shared_db.close()


def _open_read_only(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to the shared file, or None where this machine does not see it."""
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
        db.execute("SELECT 1 FROM responses LIMIT 1")
    except sqlite3.Error:
        return None
    return db
