"""The reference teacher without the HTTP: request body in, reply out, with counts of what it served."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from pydantic import Field

from edtune.bench.reference.index import WorldIndex
from edtune.bench.reference.noise import draw_for
from edtune.bench.reference.parse import ParsedRequest, parse_request
from edtune.bench.reference.settings import ReferenceSettings, UnmatchedRequest
from edtune.bench.reference.tasks import ANSWERS, Context, Reply
from edtune.errors import DataError
from edtune.records import Record


class TaskCounts(Record):
    """What the reference teacher served for one task."""

    requests: int = 0
    """Requests answered."""
    simulated_errors: int = 0
    """Answers a simulated error changed."""


class ServedStats(Record):
    """Counts since the server started (a snapshot; the server keeps counting)."""

    tasks: dict[str, TaskCounts] = Field(default_factory=dict)
    """Task -> requests answered and simulated errors among them."""
    rejected: int = 0
    """Requests refused with HTTP 400."""


class ReferenceTeacher:
    """Answers chat-completions bodies from a world's gold data. Safe to call from several threads."""

    def __init__(self, index: WorldIndex, settings: ReferenceSettings) -> None:
        self.index = index
        self.settings = settings
        self._lock = threading.Lock()
        self._stats = ServedStats()

    def answer(self, body: Mapping[str, Any]) -> Reply:
        """The reply to one request body; UnmatchedRequest (counted as rejected) when it cannot answer."""
        try:
            request = parse_request(body)
            reply = self._answer_task(request)
        except (UnmatchedRequest, DataError) as exc:
            with self._lock:
                self._stats.rejected += 1
            if isinstance(exc, DataError):  # a matched sample without usable gold data
                raise UnmatchedRequest(f"the matched sample cannot be answered: {exc}", "no_gold") from exc
            raise
        with self._lock:
            counts = self._stats.tasks.setdefault(request.task, TaskCounts())
            counts.requests += 1
            counts.simulated_errors += int(reply.erred)
        return reply

    def _answer_task(self, request: ParsedRequest) -> Reply:
        """Answer from the last user message; when that names no task and the conversation is a re-ask,
        from the message that asked the task, with the seeded draw of the request that was re-asked: a
        re-ask gets the answer the first ask would have got (the reference teacher's own replies always
        validate, so only a reply spoiled on the way is re-asked)."""
        try:
            return self._reply(request)
        except UnmatchedRequest:
            if request.reasked_text is None or request.reasked_key is None:
                raise
        return self._reply(replace(request, text=request.reasked_text, content_key=request.reasked_key,
                                   reasked_text=None, reasked_key=None))

    def _reply(self, request: ParsedRequest) -> Reply:
        if request.task == "preflight":  # a run-start check: it asks about no sample
            return Reply('{"ok": true}', erred=False)
        samples = self.index.match(request)
        draw = draw_for(request.content_key, self.settings.seed, self.settings.error_rate)
        return ANSWERS[request.task](request, samples, Context(self.settings, self.index.skills, draw))

    def stats(self) -> ServedStats:
        """A copy of the counts so far."""
        with self._lock:
            return self._stats.model_copy(deep=True)
