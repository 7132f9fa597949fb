"""A resumable, bounded-concurrency batch runner that streams results to a JSONL file.

Built for pools of 100K+ items: items are pulled lazily from any iterable, at most `concurrency` are in
flight, and each result is appended (and flushed) as soon as it is ready, so memory holds the in-flight
items and the set of finished ids, never the whole pool or all results.

Resuming: the ids already in the output file are skipped. A crash can leave the last line cut short;
it is dropped on the next run and its item redone. A bad line anywhere else is a DataError, because it
means the file was edited or mixed up, not interrupted. Re-runs of items that are redone anyway (e.g.
with `retry_failed`) cost nothing twice when the client has a cache, since requests are deterministic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO, Generic, TextIO, TypeVar

from pydantic import ValidationError

from edtune.errors import DataError
from edtune.records import Record
from edtune.teacher.records import TeacherResult

T = TypeVar("T")
R = TypeVar("R", bound=TeacherResult)


class BatchReport(Record):
    """What one batch run did."""

    path: str
    """The results file."""
    already_done: int
    """Items skipped because the file already had their result."""
    processed: int
    """Items run now."""
    failed: int
    """Of those, how many ended with a failure record (the teacher gave no usable reply)."""
    repaired_tail: bool
    """True when the file did not end at a line boundary (an earlier crash) and was repaired."""


def iter_results(path: Path, result_type: type[R]) -> Iterator[R]:
    """The records of a results file in file order, streamed (an id retried later appears again; the
    later record wins). An unterminated, invalid last line (a write cut short) is skipped; any other bad
    line is a DataError naming the file and row."""
    if not path.exists():
        return
    with path.open("rb") as handle:
        for row, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield result_type.model_validate_json(line)
            except ValidationError as exc:
                if not line.endswith(b"\n"):
                    return
                raise DataError(f"not a valid {result_type.__name__}: {exc.errors()[0]['msg']}",
                                file=str(path), row=row) from exc


def repair_tail(path: Path, result_type: type[R]) -> bool:
    """Make the file end at a line boundary after a crash: an unterminated last line is kept (newline
    added) when it is a whole record, else cut off, since it was being written when the process died."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    with path.open("r+b") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(size - 1, 0))
        if handle.read(1) == b"\n":
            return False
        start = _last_line_start(handle, size)
        handle.seek(start)
        tail = handle.read()
        try:
            result_type.model_validate_json(tail)
        except ValidationError:
            handle.truncate(start)
        else:
            handle.write(b"\n")
    return True


def _last_line_start(handle: BinaryIO, size: int) -> int:
    """Offset just after the last newline (0 when there is none), reading backwards in blocks."""
    position = size
    while position > 0:
        block = min(65536, position)
        handle.seek(position - block)
        found = handle.read(block).rfind(b"\n")
        if found >= 0:
            return position - block + found + 1
        position -= block
    return 0


def _finished_ids(path: Path, result_type: type[R], retry_failed: bool) -> set[str]:
    """Ids whose latest record counts as done (with `retry_failed`, a failed latest record does not)."""
    done: set[str] = set()
    for record in iter_results(path, result_type):
        if retry_failed and record.failure is not None:
            done.discard(record.sample_id)
        else:
            done.add(record.sample_id)
    return done


class _Appender(Generic[R]):
    """Appends finished results to the open results file, counting them."""

    def __init__(self, handle: TextIO, on_result: Callable[[R], None] | None) -> None:
        self.handle = handle
        self.on_result = on_result
        self.processed = 0
        self.failed = 0

    def write(self, finished: set[asyncio.Task[R]]) -> None:
        """Write every successful result (flushed at once, so a crash loses at most the line being
        written), then re-raise the first exception among `finished`, if any."""
        errors = [exc for task in finished if (exc := task.exception()) is not None]
        for task in finished:
            if task.exception() is None:
                result = task.result()
                self.handle.write(result.model_dump_json() + "\n")
                self.handle.flush()
                self.processed += 1
                self.failed += result.failure is not None
                if self.on_result is not None:
                    self.on_result(result)
        if errors:
            raise errors[0]


async def run_resumable(items: Iterable[T], work: Callable[[T], Awaitable[R]], *, out: Path,
                        key: Callable[[T], str], result_type: type[R], concurrency: int = 8,
                        retry_failed: bool = False, on_result: Callable[[R], None] | None = None) -> BatchReport:
    """Run `work` on each item whose `key` has no result in `out` yet, at most `concurrency` at a time,
    appending each result to `out` as one JSON line. An exception from `work` (e.g. ProviderError once
    retries are spent) cancels the items in flight and propagates; finished results stay in the file.
    Duplicate keys in `items` run once."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    out.parent.mkdir(parents=True, exist_ok=True)
    repaired = repair_tail(out, result_type)
    done = _finished_ids(out, result_type, retry_failed)
    already = len(done)
    pending: set[asyncio.Task[R]] = set()
    with out.open("a", encoding="utf-8") as handle:
        appender = _Appender(handle, on_result)
        try:
            for item in items:
                if (item_key := key(item)) in done:
                    continue
                done.add(item_key)
                if len(pending) >= concurrency:
                    finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                    appender.write(finished)
                pending.add(asyncio.ensure_future(work(item)))
            while pending:
                finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                appender.write(finished)
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
    return BatchReport(path=str(out), already_done=already, processed=appender.processed, failed=appender.failed,
                       repaired_tail=repaired)
