"""Fixtures for the LLM client tests: a fake server, a recording sleep, a cache, a client factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from llm_fakes import REMOTE, SECRET, FakeServer, Sleeps

from edtune.llm.cache import LLMCache
from edtune.llm.openai_client import OpenAICompatibleClient


@pytest.fixture
def server() -> FakeServer:
    return FakeServer()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[LLMCache]:
    db = LLMCache(tmp_path / "llm.sqlite")
    yield db
    db.close()


@pytest.fixture
def make_client(server: FakeServer, sleeps: Sleeps, monkeypatch: pytest.MonkeyPatch
                ) -> Callable[..., OpenAICompatibleClient]:
    monkeypatch.setenv("EDTUNE_TEST_KEY", SECRET)

    def build(**kwargs: Any) -> OpenAICompatibleClient:
        options: dict[str, Any] = {"base_url": REMOTE, "api_key_env": "EDTUNE_TEST_KEY", "provider": "test",
                                   "http_client": server.transport(), "sleep": sleeps, "max_retries": 3}
        options.update(kwargs)
        return OpenAICompatibleClient("tiny-model", **options)

    return build
