"""A persistent, content-addressed cache of LLM calls, and the call log, in one SQLite file.

The key hashes everything that decides a reply: the rendered messages (images by content hash), the
template and schema hashes, the structured mode, the model, the base URL and the sampling settings. A
re-run or a resumed run therefore pays for nothing twice, and editing one template invalidates only the
calls it rendered. Replies are cached whatever the temperature; vary `seed` to draw fresh samples.

Images are stored once, in their own table, however many requests carry them. Secrets never reach this
file: clients pass requests and responses, never headers or keys.

The schema evolves through named migrations recorded in `_migrations`, applied in order on open.

One process writes a file. Several processes opening a fresh file at once race on its migrations (seen:
"table images already exists", "database is locked"), and SQLite's locks are not to be trusted on a
network file system, so workers of a cluster never write the shared file: each keeps its new rows in
a cache of its own and hands them over (`export_rows`), and the one owner of the file `absorb`s them.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import Field

from edtune.llm.base import ChatRequest, ChatResponse, Message
from edtune.records import Record

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    """Register `fn` as the next schema migration; its name is recorded once applied. Never rename one."""
    MIGRATIONS.append((fn.__name__, fn))
    return fn


@migration
def m001_initial(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE images (hash TEXT PRIMARY KEY, data_uri TEXT NOT NULL)")
    db.execute("CREATE TABLE responses (key TEXT PRIMARY KEY, request_json TEXT NOT NULL, "
               "response_json TEXT NOT NULL, created_at TEXT NOT NULL)")
    db.execute("CREATE TABLE calls (id INTEGER PRIMARY KEY, timestamp TEXT NOT NULL, model TEXT NOT NULL, "
               "base_url TEXT NOT NULL, stage TEXT NOT NULL, template_name TEXT, template_hash TEXT, "
               "mode TEXT, schema_hash TEXT, cache_key TEXT NOT NULL, attempt INTEGER NOT NULL, "
               "latency_s REAL NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, "
               "raw_output TEXT NOT NULL, parsed_output TEXT, error TEXT, constraint_honoured INTEGER, "
               "cached INTEGER NOT NULL)")
    db.execute("CREATE INDEX calls_by_stage ON calls (stage)")


@migration
def m002_cached_tokens(db: sqlite3.Connection) -> None:
    """Cache hits record the tokens their reply was paid with; rows logged before hold them in the reply."""
    for column in ("cached_prompt_tokens", "cached_completion_tokens"):
        db.execute(f"ALTER TABLE calls ADD COLUMN {column} INTEGER NOT NULL DEFAULT 0")
    for row_id, response_json in db.execute("SELECT calls.id, responses.response_json FROM calls JOIN responses "
                                            "ON responses.key = calls.cache_key WHERE calls.cached = 1").fetchall():
        paid = json.loads(response_json).get("usage") or {}
        db.execute("UPDATE calls SET cached_prompt_tokens = ?, cached_completion_tokens = ? WHERE id = ?",
                   (int(paid.get("prompt_tokens", 0)), int(paid.get("completion_tokens", 0)), row_id))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class CallLogEntry(Record):
    """One row of the call log: one request (or cache hit) and what came of it."""

    timestamp: str = Field(default_factory=_now)
    """UTC time of the call, ISO 8601."""
    model: str
    """Model name the client asked for."""
    base_url: str
    """Endpoint the client talks to."""
    stage: str
    """Pipeline stage that made the call."""
    template_name: str | None = None
    """Prompt template that rendered the messages."""
    template_hash: str | None = None
    """Content hash of that template."""
    mode: str | None = None
    """Structured mode, None for a plain chat call."""
    schema_hash: str | None = None
    """Hash of the output schema sent, for structured calls."""
    cache_key: str
    """Key of the cached reply (joins to the responses table)."""
    attempt: int = 1
    """1 for the first ask, 2+ for re-asks after a validation failure."""
    latency_s: float
    """Wall time of the request; 0 for a cache hit."""
    prompt_tokens: int
    """Tokens sent (0 for a cache hit)."""
    completion_tokens: int
    """Tokens generated (0 for a cache hit)."""
    cached_prompt_tokens: int = 0
    """For a cache hit: the prompt tokens its reply was paid with when first asked (not paid again)."""
    cached_completion_tokens: int = 0
    """For a cache hit: the completion tokens its reply was paid with when first asked."""
    raw_output: str
    """The reply text exactly as returned."""
    parsed_output: dict[str, Any] | None = None
    """The validated output as JSON, for a structured call that validated."""
    error: str | None = None
    """The validation error, for a structured attempt that did not validate."""
    constraint_honoured: bool | None = None
    """Structured calls: whether this raw output validated (on attempt 1: whether the server honoured the
    constraint); None for plain calls."""
    cached: bool
    """True when the reply came from the cache and no request was sent."""


class CacheRows(Record):
    """The rows of a cache file, as handed from a worker's cache to the file's owner (`LLMCache.absorb`)."""

    images: list[tuple[str, str]] = Field(default_factory=list)
    """(hash, data URI) of every image the stored requests name."""
    responses: list[tuple[str, str, str, str]] = Field(default_factory=list)
    """(key, request JSON, response JSON, created_at) of every stored reply."""
    calls: list[CallLogEntry] = Field(default_factory=list)
    """The call log, in order."""


def image_hash(data_uri: str) -> str:
    """Content hash standing in for an inline image in keys and stored requests."""
    return "sha256:" + hashlib.sha256(data_uri.encode()).hexdigest()


def canonical_messages(messages: list[Message]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Messages as JSON with every data URI replaced by its hash, and the hash -> data URI map."""
    images: dict[str, str] = {}
    out = []
    for message in messages:
        dumped = message.model_dump(mode="json")
        if isinstance(message.content, list):
            for part in dumped["content"]:
                uri = part.get("image_url")
                if isinstance(uri, str) and uri.startswith("data:"):
                    part["image_url"] = image_hash(uri)
                    images[part["image_url"]] = uri
        out.append(dumped)
    return out, images


def cache_key(request: ChatRequest, *, model: str, base_url: str, mode: str | None,
              schema_hash: str | None) -> str:
    """The content hash identifying a call (see the module docstring for what it covers)."""
    messages, _ = canonical_messages(request.messages)
    payload = {"messages": messages, "model": model, "base_url": base_url.rstrip("/"),
               "template_hash": request.template_hash, "mode": mode, "schema_hash": schema_hash,
               "sampling": request.model_dump(include={"temperature", "max_tokens", "seed", "logprobs",
                                                       "top_logprobs"})}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def cache_hit(response_json: str) -> ChatResponse:
    """A stored reply as a cache hit: marked cached, with zero latency and its tokens counted as cached
    (`Usage.as_cached`)."""
    stored = ChatResponse.model_validate_json(response_json)
    return stored.model_copy(update={"cached": True, "latency_s": 0.0, "usage": stored.usage.as_cached()})


def _column(entry: CallLogEntry, name: str) -> Any:
    """One call-log field as stored (the parsed output as JSON text)."""
    value = getattr(entry, name)
    return json.dumps(value) if name == "parsed_output" and value is not None else value


class LLMCache:
    """The SQLite file behind the cache and the call log. Safe to share between threads and tasks."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._migrate()

    def __repr__(self) -> str:
        return f"LLMCache({str(self.path)!r})"

    def _migrate(self) -> None:
        with self._lock:
            self._db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT)")
            done = {row[0] for row in self._db.execute("SELECT name FROM _migrations")}
            for name, fn in MIGRATIONS:
                if name in done:
                    continue
                with self._db:
                    self._db.execute("BEGIN")
                    fn(self._db)
                    self._db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, _now()))

    def applied_migrations(self) -> list[str]:
        """Names of the migrations applied to this file, in order."""
        with self._lock:
            return [row[0] for row in self._db.execute("SELECT name FROM _migrations ORDER BY rowid")]

    def get(self, key: str) -> ChatResponse | None:
        """The cached reply for `key`, marked cached, with zero latency and its tokens counted as cached
        (`Usage.as_cached`), or None."""
        with self._lock:
            row = self._db.execute("SELECT response_json FROM responses WHERE key = ?", (key,)).fetchone()
        return None if row is None else cache_hit(row[0])

    def put(self, key: str, request: ChatRequest, response: ChatResponse) -> None:
        """Store `response` under `key`, with the request (images by hash; each image kept once)."""
        messages, images = canonical_messages(request.messages)
        stored_request = request.model_dump(mode="json") | {"messages": messages}
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO images VALUES (?, ?)", sorted(images.items()))
            self._db.execute("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)",
                             (key, json.dumps(stored_request), response.model_dump_json(), _now()))

    def log(self, entry: CallLogEntry) -> None:
        """Append one row to the call log."""
        names = list(CallLogEntry.model_fields)
        with self._lock:
            self._db.execute(f"INSERT INTO calls ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                             [_column(entry, name) for name in names])

    def calls(self, stage: str | None = None) -> list[CallLogEntry]:
        """The call log in order, optionally for one stage."""
        names = list(CallLogEntry.model_fields)
        where, args = ("WHERE stage = ?", (stage,)) if stage is not None else ("", ())
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(names)} FROM calls {where} ORDER BY id", args).fetchall()
        entries = []
        for row in rows:
            data = dict(zip(names, row, strict=True))
            if data["parsed_output"] is not None:
                data["parsed_output"] = json.loads(data["parsed_output"])
            entries.append(CallLogEntry.model_validate(data))
        return entries

    def export_rows(self) -> CacheRows:
        """Every row of the file: what a worker's cache hands to the owner of the shared one."""
        with self._lock:
            images = self._db.execute("SELECT hash, data_uri FROM images ORDER BY hash").fetchall()
            responses = self._db.execute("SELECT key, request_json, response_json, created_at FROM responses "
                                         "ORDER BY rowid").fetchall()
        return CacheRows(images=images, responses=responses, calls=self.calls())

    def absorb(self, rows: CacheRows) -> None:
        """Add another cache's rows in one transaction: its replies (a key held already is overwritten with
        the same content-addressed reply) and its calls, appended to the log in their order."""
        names = list(CallLogEntry.model_fields)
        calls = [[_column(entry, name) for name in names] for entry in rows.calls]
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO images VALUES (?, ?)", rows.images)
            self._db.executemany("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)", rows.responses)
            self._db.executemany(f"INSERT INTO calls ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                                 calls)

    def image_count(self) -> int:
        """How many distinct images the file holds."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM images").fetchone()[0])

    def close(self) -> None:
        """Close the file; the object is unusable afterwards."""
        with self._lock:
            self._db.close()
