"""Bounded concurrency for batches of LLM calls, async and sync.

`map_bounded` keeps at most `limit` calls in flight (enough to fill a vLLM server's batch without
flooding it) with `limit` worker tasks pulling from the items, so 100K items cost `limit` tasks, not 100K.
Results come back in input order.

`run_bounded` is the same for synchronous callers. It runs everything on one long-lived background event
loop: an async HTTP client's connection pool belongs to the loop that opened it, so a fresh loop per
batch (`asyncio.run`) would break a client reused across batches. An exception raised in the waiting
thread (a signal handler's) cancels the work on the loop and waits for it to unwind.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


async def map_bounded(fn: Callable[[T], Awaitable[R]], items: Iterable[T], limit: int, *,
                      on_done: Callable[[int], None] | None = None) -> list[R]:
    """`[await fn(x) for x in items]` with at most `limit` awaits running at once, in input order.

    The first exception cancels the remaining work and propagates. `on_done(n)` is called with the
    number of finished items after each one (for progress bars).
    """
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    pending = list(enumerate(items))
    results: dict[int, R] = {}
    queue = iter(pending)
    finished = 0

    async def worker() -> None:
        nonlocal finished
        for index, item in queue:
            results[index] = await fn(item)
            finished += 1
            if on_done is not None:
                on_done(finished)

    workers = [asyncio.ensure_future(worker()) for _ in range(min(limit, len(pending)))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    return [results[index] for index in range(len(pending))]


CANCEL_WAIT_S = 30.0
"""How long an interrupted `run_sync` waits for the cancelled work to unwind."""


class _BackgroundLoop:
    """One event loop on a daemon thread, started on first use and shared by every sync caller."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="edtune-llm-loop", daemon=True).start()
            return self._loop

    def run(self, coro: Coroutine[Any, Any, R]) -> R:
        if threading.current_thread().name == "edtune-llm-loop":
            coro.close()
            raise RuntimeError("run_bounded called from inside the LLM event loop; await map_bounded instead")
        finished = threading.Event()

        async def tracked() -> R:
            try:
                return await coro
            finally:
                finished.set()

        future = asyncio.run_coroutine_threadsafe(tracked(), self.loop())
        try:
            return future.result()
        except BaseException:
            # Interrupted while waiting (a signal, Ctrl-C): stop the work on the loop too, and let it
            # unwind (its `finally` blocks close files) before the caller goes on unwinding.
            future.cancel()
            finished.wait(timeout=CANCEL_WAIT_S)
            raise


_BACKGROUND = _BackgroundLoop()


def run_sync(coro: Coroutine[Any, Any, R]) -> R:
    """Run one coroutine to completion on the shared background loop, from synchronous code."""
    return _BACKGROUND.run(coro)


def run_bounded(fn: Callable[[T], Awaitable[R]], items: Iterable[T], limit: int, *,
                on_done: Callable[[int], None] | None = None) -> list[R]:
    """Synchronous `map_bounded`, for callers that are not async (works inside notebooks too)."""
    return run_sync(map_bounded(fn, items, limit, on_done=on_done))
