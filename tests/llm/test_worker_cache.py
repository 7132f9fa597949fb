"""The cache of a worker that must not write the shared file: it reads the shared file, keeps its new rows
to itself, and the owner absorbs them; replicas of one deployment share cached replies."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from llm_fakes import REMOTE, FakeServer, completion

from edtune.llm import ChatRequest, Message
from edtune.llm.cache import LLMCache
from edtune.llm.openai_client import OpenAICompatibleClient
from edtune.llm.worker_cache import WorkerCache

Build = Callable[..., OpenAICompatibleClient]
REPLICA_A, REPLICA_B = "https://a.llm.example.com/v1", "https://b.llm.example.com/v1"


def ask(text: str) -> ChatRequest:
    return ChatRequest(messages=[Message(role="user", content=text)], template_name="t", template_hash="h",
                       stage="annotate")


def test_replicas_keyed_by_the_deployment_share_cached_replies(make_client: Build, server: FakeServer,
                                                               cache: LLMCache) -> None:
    server.replies = [completion("first"), completion("other server")]
    on_a = make_client(base_url=REPLICA_A, key_base_url=REMOTE, cache=cache)
    assert asyncio.run(on_a.chat(ask("q"))).text == "first"
    on_b = make_client(base_url=REPLICA_B, key_base_url=REMOTE, cache=cache)
    assert asyncio.run(on_b.chat(ask("q"))).cached
    assert len(server.bodies) == 1
    # Without the shared key a server at another URL is another server: its reply is not the cached one.
    elsewhere = make_client(base_url=REPLICA_B, cache=cache)
    assert asyncio.run(elsewhere.chat(ask("q"))).text == "other server"
    assert [e.base_url for e in cache.calls()] == [REPLICA_A, REPLICA_B, REPLICA_B]  # the log names who answered


def test_worker_reads_the_shared_file_and_hands_its_new_rows_to_the_owner(make_client: Build, server: FakeServer,
                                                                         tmp_path: Path) -> None:
    shared = LLMCache(tmp_path / "shared.sqlite")
    server.replies = [completion("old"), completion("new")]
    asyncio.run(make_client(cache=shared).chat(ask("asked before")))
    worker = WorkerCache(shared.path)
    client = make_client(cache=worker)
    assert asyncio.run(client.chat(ask("asked before"))).cached
    assert asyncio.run(client.chat(ask("asked now"))).text == "new"
    assert len(shared.calls()) == 1  # the worker never wrote the shared file
    rows = worker.export_rows()
    worker.close()
    assert [c.cached for c in rows.calls] == [True, False] and len(rows.responses) == 1
    shared.absorb(rows)
    assert [(c.raw_output, c.cached) for c in shared.calls()] == [("old", False), ("old", True), ("new", False)]
    assert asyncio.run(make_client(cache=shared).chat(ask("asked now"))).cached
    assert len(server.bodies) == 2
    shared.close()


def test_worker_without_the_shared_file_only_misses(make_client: Build, server: FakeServer, tmp_path: Path) -> None:
    worker = WorkerCache(tmp_path / "not-on-this-machine.sqlite")
    server.replies = [completion("paid again")]
    assert asyncio.run(make_client(cache=worker).chat(ask("q"))).text == "paid again"
    assert len(worker.export_rows().responses) == 1
    worker.close()
