"""The reference teacher as a local HTTP server speaking the OpenAI chat-completions protocol.

    with reference_teacher("data/shapes", error_rate=0.1, seed=0) as server:
        client = OpenAICompatibleClient(server.model, server.base_url, provider="reference")

Endpoints: `GET /v1/models` and `POST /v1/chat/completions` (non-streaming). A request it cannot answer
gets HTTP 400 with an OpenAI-style body `{"error": {"message", "type", "param", "code"}}` saying why;
an unknown path gets 404. Answer-switch replies carry `logprobs.content[0].top_logprobs`: the option
letters with their log-probabilities, best first, padded with non-letter tokens up to the `top_logprobs`
asked for (none when it asks for none, as OpenAI does).
Usage counts are estimates (about four characters per token), there so that usage accounting works.
The header `x-edtune-simulated-error` says whether a simulated error changed the reply.
"""

from __future__ import annotations

import itertools
import json
import math
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from edtune.bench.reference.engine import ReferenceTeacher, ServedStats
from edtune.bench.reference.index import WorldIndex
from edtune.bench.reference.settings import ReferenceSettings, UnmatchedRequest
from edtune.bench.reference.tasks import Reply

IMAGE_TOKENS = 64
"""Prompt tokens counted per image (the estimate a usage meter sees)."""
_FILLERS = ("The", "Option", "Answer", "It", "Based", "Looking", "Since", "From", "Given", "There",
            "This", "We", "Both", "None", "Yes", "No", "My", "After", "Correct", "Letter")
_FILLER_LOGPROB = -30.0


@dataclass(frozen=True)
class RunningServer:
    """A reference teacher that is up: where to send requests and under which model name."""

    base_url: str
    """OpenAI-style base URL, ending in /v1."""
    model: str
    """The model name the server reports."""
    teacher: ReferenceTeacher
    """The answering engine (its `stats()` counts requests and simulated errors)."""

    def stats(self) -> ServedStats:
        """Requests served, simulated errors and rejections so far."""
        return self.teacher.stats()


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _prompt_tokens(body: dict[str, Any]) -> int:
    count = 0
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        parts = content if isinstance(content, list) else [{"type": "text", "text": content or ""}]
        for part in parts:
            count += IMAGE_TOKENS if part.get("type") == "image_url" else _tokens(str(part.get("text") or ""))
    return count


def _logprobs(reply: Reply, top: int) -> dict[str, Any]:
    """The `logprobs` of a one-token reply: the letters' log-probabilities, best first, then fillers."""
    letters = sorted((reply.letters or {}).items(), key=lambda item: -item[1])
    entries = [{"token": t, "logprob": math.log(p), "bytes": list(t.encode())} for t, p in letters]
    entries += [{"token": t, "logprob": _FILLER_LOGPROB, "bytes": list(t.encode())} for t in _FILLERS]
    chosen = entries[0]
    return {"content": [{**chosen, "top_logprobs": entries[:top]}], "refusal": None}


def completion_body(body: dict[str, Any], reply: Reply, model: str, request_id: str) -> dict[str, Any]:
    """The chat.completion object answering `body` with `reply`."""
    choice: dict[str, Any] = {"index": 0, "message": {"role": "assistant", "content": reply.text},
                              "finish_reason": "stop", "logprobs": None}
    if body.get("logprobs"):
        choice["logprobs"] = _logprobs(reply, int(body.get("top_logprobs") or 0))
    prompt, completion = _prompt_tokens(body), _tokens(reply.text)
    return {"id": f"chatcmpl-ref-{request_id}", "object": "chat.completion", "created": 0, "model": model,
            "choices": [choice],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}}


def error_body(message: str, code: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    """An OpenAI-style error object."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _handler(teacher: ReferenceTeacher) -> type[BaseHTTPRequestHandler]:
    numbers = itertools.count(1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle's algorithm on, each reply would wait ~40 ms
        # for the client's delayed ACK.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            if self.path.rstrip("/") == "/v1/models":
                model = {"id": teacher.settings.model, "object": "model", "created": 0, "owned_by": "edtune"}
                self._send(200, {"object": "list", "data": [model]})
            else:
                self._send(404, error_body(f"no route GET {self.path}", "not_found"))

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, error_body(f"no route POST {self.path}", "not_found"))
                return
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"null")
                if not isinstance(body, dict):
                    raise UnmatchedRequest("the request body is not a JSON object", "invalid_request")
                reply = teacher.answer(body)
            except json.JSONDecodeError as exc:
                self._send(400, error_body(f"the request body is not JSON: {exc}", "invalid_request"))
                return
            except UnmatchedRequest as exc:
                self._send(400, error_body(f"reference teacher: {exc}", exc.code))
                return
            except Exception as exc:  # a bug here must reach the client as a 500, not kill the connection
                self._send(500, error_body(f"reference teacher failed: {exc!r}", "internal_error", "server_error"))
                return
            self._send(200, completion_body(body, reply, teacher.settings.model, f"{next(numbers):08d}"),
                       {"x-edtune-simulated-error": str(reply.erred).lower()})

        def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: library code does not print (the CLI reports what it serves)."""

    return Handler


class _Server(ThreadingHTTPServer):
    # The default listen backlog (5) refuses connections when a client opens many at once, as a batch does.
    request_queue_size = 1024
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet about a client that closed its idle keep-alive connection (the openai client does so when it
        is done); any other error in a request thread is still printed, as the base class does."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def reference_teacher(world: str | Path | WorldIndex, error_rate: float = 0.0, seed: int = 0, *,
                      settings: ReferenceSettings | None = None, host: str = "127.0.0.1",
                      port: int = 0) -> Iterator[RunningServer]:
    """Serve the reference teacher for `world` (a world folder, or an index already loaded) in a background
    thread; port 0 picks a free port. `settings`, when given, replaces `error_rate` and `seed`. The server
    stops when the block exits, also on errors."""
    chosen = settings if settings is not None else ReferenceSettings(error_rate=error_rate, seed=seed)
    index = world if isinstance(world, WorldIndex) else WorldIndex.load(world)
    teacher = ReferenceTeacher(index, chosen)
    server = _Server((host, port), _handler(teacher))
    thread = threading.Thread(target=server.serve_forever, name="edtune-reference-teacher", daemon=True)
    thread.start()
    try:
        bound_host, bound_port = server.server_address[:2]
        yield RunningServer(base_url=f"http://{bound_host!s}:{bound_port}/v1", model=chosen.model, teacher=teacher)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
