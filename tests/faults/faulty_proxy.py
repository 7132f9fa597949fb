"""A seeded faulty OpenAI-compatible proxy on 127.0.0.1, in front of a real server (the reference teacher).

Each chat-completions request is forwarded, or answered with a fault drawn from a generator seeded by
(seed, sha256 of the body, how often that body was seen), so the same request meets the same fault in
every run whatever the order in which concurrent requests arrive. A body is faulted at most
`max_faults_per_body` times, so a client retrying at least that often always gets through; content
faults (prose, an out-of-range step) are not put into re-asks (bodies that already hold an assistant
reply), so one re-ask always suffices. Every decision is logged with the body's key.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

TRANSPORT_FAULTS = ("rate_limit", "server_error", "delay", "truncated", "html", "empty", "reset")
"""Faults of the HTTP exchange: retried by the client."""
CONTENT_FAULTS = ("prose", "step_out_of_range")
"""Faults of the reply's content: a 200 whose message does not validate, re-asked by the client."""
FAULTS = TRANSPORT_FAULTS + CONTENT_FAULTS


@dataclass
class FaultPlan:
    """Which faults, how often, and how they behave."""

    rate: float = 0.0
    """Chance that a request (not yet faulted `max_faults_per_body` times) meets a fault."""
    seed: int = 0
    kinds: tuple[str, ...] = FAULTS
    max_faults_per_body: int = 2
    delay_s: float = 1.5
    """How long a `delay` fault holds the reply (set it past the client's timeout)."""


@dataclass
class ProxyLog:
    """What the proxy did: per body key, how often it was seen, faulted and answered."""

    faults: list[tuple[str, str]] = field(default_factory=list)
    """(body key, fault) of every fault injected, in order."""
    delivered: Counter[str] = field(default_factory=Counter)
    """Body key -> replies delivered unharmed (what a paying client would be billed for)."""
    seen: Counter[str] = field(default_factory=Counter)

    def repaid(self) -> int:
        """Replies delivered again for a body already answered once: calls paid twice."""
        return sum(n - 1 for n in self.delivered.values() if n > 1)


class FaultyProxy:
    """Forwards to `upstream` (an OpenAI-style base URL ending in /v1), injecting faults per `plan`."""

    def __init__(self, upstream: str, plan: FaultPlan) -> None:
        parts = urlsplit(upstream)
        self.upstream_host, self.upstream_port = parts.hostname or "127.0.0.1", parts.port or 80
        self.plan = plan
        self.log = ProxyLog()
        self._lock = threading.Lock()

    def decide(self, raw: bytes, body: dict[str, Any]) -> tuple[str, str | None]:
        """(body key, the fault to inject or None) for one request."""
        # Keyed by the body's content, not its bytes: a client that orders the same keys otherwise (the SDK
        # and edtune's own body did) meets the same faults.
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:
            self.log.seen[key] += 1
            seen = self.log.seen[key]
            faulted = sum(1 for k, _ in self.log.faults if k == key)
            rng = random.Random(f"{self.plan.seed}:{key}:{seen}")
            if faulted >= self.plan.max_faults_per_body or rng.random() >= self.plan.rate:
                return key, None
            kinds = [k for k in self.plan.kinds if _applies(k, body)]
            if not kinds:
                return key, None
            fault = rng.choice(kinds)
            self.log.faults.append((key, fault))
            return key, fault

    def forward(self, raw: bytes) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            connection.request("POST", "/v1/chat/completions", body=raw, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def delivered(self, key: str) -> None:
        with self._lock:
            self.log.delivered[key] += 1


def _is_reask(body: dict[str, Any]) -> bool:
    return any(isinstance(m, dict) and m.get("role") == "assistant" for m in body.get("messages") or [])


def _schema_name(body: dict[str, Any]) -> str | None:
    fmt = body.get("response_format")
    return (fmt.get("json_schema") or {}).get("name") if isinstance(fmt, dict) else None


def _applies(fault: str, body: dict[str, Any]) -> bool:
    if fault in CONTENT_FAULTS and (_is_reask(body) or body.get("logprobs")):
        return False
    return fault != "step_out_of_range" or _schema_name(body) == "FirstWrongStep"


def _with_content(payload: bytes, fault: str) -> bytes:
    """The upstream reply with its message content spoiled by a content fault."""
    reply = json.loads(payload)
    message = reply["choices"][0]["message"]
    if fault == "prose":
        message["content"] = "Let me think about this carefully. The student seems to go wrong somewhere."
    else:
        content = json.loads(message["content"])
        content["step"] = 99
        message["content"] = json.dumps(content)
    return json.dumps(reply).encode()


def _handler(proxy: FaultyProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            key, fault = proxy.decide(raw, json.loads(raw))
            if fault == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                return
            if fault == "rate_limit":
                self._send(429, b'{"error": {"message": "slow down", "type": "rate_limit"}}', retry_after="0")
                return
            if fault == "server_error":
                self._send(500, b'{"error": {"message": "upstream broke", "type": "server_error"}}')
                return
            if fault == "html":
                self._send(200, b"<html><body>502 Bad Gateway</body></html>", content_type="text/html")
                return
            if fault == "empty":
                self._send(200, b"")
                return
            status, payload = proxy.forward(raw)
            if fault == "delay":
                time.sleep(proxy.plan.delay_s)
            elif fault == "truncated":
                payload = payload[: len(payload) // 2]
            elif fault in CONTENT_FAULTS and status == 200:
                payload = _with_content(payload, fault)
            if self._send(status, payload) and fault is None and status == 200:
                proxy.delivered(key)

        def _send(self, status: int, payload: bytes, *, content_type: str = "application/json",
                  retry_after: str | None = None) -> bool:
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.end_headers()
                self.wfile.write(payload)
                self.wfile.flush()
            except OSError:  # the client gave up (a delay past its timeout)
                self.close_connection = True
                return False
            return True

        def log_message(self, format: str, *args: Any) -> None:
            """Silent."""

    return Handler


class _Server(ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True


@contextmanager
def faulty_proxy(upstream: str, plan: FaultPlan) -> Iterator[tuple[str, FaultyProxy]]:
    """Serve the proxy on a free port of 127.0.0.1; yields (its base URL, the proxy)."""
    proxy = FaultyProxy(upstream, plan)
    server = _Server(("127.0.0.1", 0), _handler(proxy))
    thread = threading.Thread(target=server.serve_forever, name="faulty-proxy", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
