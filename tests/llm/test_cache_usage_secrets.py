"""The persistent cache, the call log, token usage and budgets, and keeping the API key out of everything."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from llm_fakes import REMOTE, SECRET, FakeServer, completion, error
from pydantic import BaseModel

from edtune.errors import BudgetExceeded, ConfigError, ProviderError, UnexpectedModelBehavior
from edtune.llm import ChatRequest, ContentPart, Message
from edtune.llm.cache import LLMCache
from edtune.llm.openai_client import LOCAL_PLACEHOLDER_KEY, OpenAICompatibleClient
from edtune.llm.usage import UsageMeter

Build = Callable[..., OpenAICompatibleClient]


class Skill(BaseModel):
    skill: str


def ask(text: str = "Which skill?", template_hash: str = "t1", stage: str = "skills",
        max_tokens: int | None = 20) -> ChatRequest:
    return ChatRequest(messages=[Message(role="user", content=text)], template_name="skill.j2",
                       template_hash=template_hash, stage=stage, max_tokens=max_tokens)


def test_second_identical_call_is_served_from_cache(make_client: Build, server: FakeServer,
                                                    cache: LLMCache) -> None:
    server.replies = [completion('{"skill": "counting"}')]
    first = asyncio.run(make_client(cache=cache).structured(ask(), Skill))
    # A fresh client on the same file: what a re-run or a resumed run does.
    meter = UsageMeter()
    second = asyncio.run(make_client(cache=cache, usage=meter).structured(ask(), Skill))
    assert len(server.bodies) == 1
    assert second.value == first.value and second.response.cached and not first.response.cached
    assert meter.stage("skills").cached_calls == 1 and meter.stage("skills").total_tokens == 0
    # The hit is not paid again, but keeps the tokens its reply was paid with, flagged as cached.
    assert second.cached_attempts == 1 and first.cached_attempts == 0
    assert second.usage.total_tokens == 0 and second.usage.cached_tokens == first.usage.total_tokens > 0
    assert meter.stage("skills").cached_tokens == first.usage.total_tokens
    log = cache.calls()
    assert [entry.cached for entry in log] == [False, True]
    assert (log[1].prompt_tokens, log[1].cached_prompt_tokens) == (0, log[0].prompt_tokens)
    assert log[1].cached_completion_tokens == log[0].completion_tokens
    assert log[0].template_name == "skill.j2" and log[0].template_hash == "t1" and log[0].stage == "skills"
    assert log[0].parsed_output == {"skill": "counting"} and log[0].raw_output == '{"skill": "counting"}'
    assert log[0].constraint_honoured is True and log[0].prompt_tokens == 11 and log[0].mode == "json_schema"


def test_template_edit_schema_change_or_mode_change_miss_the_cache(make_client: Build, server: FakeServer,
                                                                    cache: LLMCache) -> None:
    class Other(BaseModel):
        skill: str
        confidence: float

    server.replies = [completion('{"skill": "a", "confidence": 1}')] * 4
    client = make_client(cache=cache)
    asyncio.run(client.structured(ask(template_hash="t1"), Other))
    asyncio.run(client.structured(ask(template_hash="t2"), Other))
    asyncio.run(client.structured(ask(template_hash="t1"), Skill))
    asyncio.run(client.structured(ask(template_hash="t1"), Other, mode="structured_outputs"))
    assert len(server.bodies) == 4 and len({e.cache_key for e in cache.calls()}) == 4


def test_failed_structured_run_replays_from_cache(make_client: Build, server: FakeServer, cache: LLMCache) -> None:
    server.replies = [completion("nope"), completion("still nope")]
    for _ in range(2):
        with pytest.raises(UnexpectedModelBehavior) as info:
            asyncio.run(make_client(cache=cache, max_reasks=1).structured(ask(), Skill))
        assert [a.raw for a in info.value.attempts] == ["nope", "still nope"]
    assert len(server.bodies) == 2
    assert [(e.attempt, e.constraint_honoured, e.cached) for e in cache.calls()] == [
        (1, False, False), (2, False, False), (1, False, True), (2, False, True)]


def test_images_keyed_by_hash_and_stored_once(make_client: Build, server: FakeServer, cache: LLMCache) -> None:
    image = "data:image/png;base64," + "A" * 4000
    server.replies = [completion("x"), completion("y")]
    client = make_client(cache=cache)
    for question in ("first?", "second?"):
        parts = [ContentPart(type="text", text=question), ContentPart(type="image_url", image_url=image)]
        asyncio.run(client.chat(ChatRequest(messages=[Message(role="user", content=parts)])))
    assert cache.image_count() == 1
    with sqlite3.connect(cache.path) as db:
        stored = " ".join(row[0] for row in db.execute("SELECT request_json FROM responses"))
    assert "A" * 4000 not in stored and stored.count("sha256:") == 2


def test_api_key_never_reaches_cache_log_repr_or_errors(make_client: Build, server: FakeServer,
                                                        cache: LLMCache) -> None:
    client = make_client(cache=cache)
    server.replies = [completion('{"skill": "x"}'), error(401, f"Incorrect API key provided: {SECRET}")]
    asyncio.run(client.structured(ask(), Skill))
    with pytest.raises(ProviderError) as info:
        asyncio.run(client.chat(ask("another")))
    assert server.headers[0]["authorization"] == f"Bearer {SECRET}"  # it is used on the wire ...
    assert "<secret>" in (info.value.body or "")  # the server echoed it; it was scrubbed
    shown = [repr(client), str(vars(client)), str(info.value), info.value.body or "", repr(cache.calls())]
    assert not any(SECRET in text for text in shown)  # ... and nowhere else
    cache.close()
    for path in Path(cache.path).parent.iterdir():
        assert SECRET.encode() not in path.read_bytes(), path


def test_usage_counted_per_stage(make_client: Build, server: FakeServer) -> None:
    meter = UsageMeter()
    server.replies = [completion("a", prompt_tokens=10, completion_tokens=2),
                      completion("b", prompt_tokens=20, completion_tokens=3),
                      completion("c", prompt_tokens=5, completion_tokens=1)]
    client = make_client(usage=meter)
    asyncio.run(client.chat(ask(stage="judge")))
    asyncio.run(client.chat(ask("x", stage="judge")))
    asyncio.run(client.chat(ask(stage="skills")))
    judge = meter.stage("judge")
    assert (judge.calls, judge.prompt_tokens, judge.completion_tokens) == (2, 30, 5)
    assert meter.stage("skills").total_tokens == 6 and meter.total.total_tokens == 41
    assert meter.report().stages["judge"].calls == 2


def test_token_budget_stops_the_call_before_it_is_sent(make_client: Build, server: FakeServer) -> None:
    meter = UsageMeter(budget_tokens=60)
    server.replies = [completion("a", prompt_tokens=30, completion_tokens=10)]
    client = make_client(usage=meter)
    asyncio.run(client.chat(ask(max_tokens=20)))  # reserves 3 + 20 <= 60; really uses 40
    with pytest.raises(BudgetExceeded) as info:
        asyncio.run(client.chat(ask(max_tokens=20)))  # 40 used + 23 reserved > 60
    assert info.value.used == 40 and info.value.limit == 60 and len(server.bodies) == 1


def test_stage_budget_is_separate(make_client: Build, server: FakeServer) -> None:
    meter = UsageMeter(stage_budgets={"judge": 10})
    server.replies = [completion("a")]
    client = make_client(usage=meter)
    with pytest.raises(BudgetExceeded):
        asyncio.run(client.chat(ask(stage="judge", max_tokens=20)))
    asyncio.run(client.chat(ask(stage="skills", max_tokens=20)))
    assert len(server.bodies) == 1


def test_local_server_needs_no_key_but_remote_does(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    local = OpenAICompatibleClient("m", "http://127.0.0.1:8000/v1", api_key_env="NO_SUCH_KEY_VAR",
                                   provider="vllm", http_client=server.transport())
    server.replies = [completion("hi")]
    asyncio.run(local.chat(ask()))
    assert server.headers[0]["authorization"] == f"Bearer {LOCAL_PLACEHOLDER_KEY}"
    with pytest.raises(ConfigError, match="NO_SUCH_KEY_VAR"):
        OpenAICompatibleClient("m", REMOTE, api_key_env="NO_SUCH_KEY_VAR")


def test_migrations_recorded_once(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    LLMCache(path).close()
    reopened = LLMCache(path)
    assert reopened.applied_migrations() == ["m001_initial", "m002_cached_tokens"]
    reopened.close()


def test_cache_hits_logged_before_the_cached_token_columns_get_their_tokens(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from edtune.llm import cache as cache_module
    from edtune.llm.base import ChatResponse, Usage

    path = tmp_path / "c.sqlite"
    with monkeypatch.context() as patch:  # a file written by an edtune that knew only the first migration
        patch.setattr(cache_module, "MIGRATIONS", cache_module.MIGRATIONS[:1])
        old = LLMCache(path)
        old.put("k", ask(), ChatResponse(text="x", model="m", usage=Usage(prompt_tokens=30, completion_tokens=4)))
        columns = "timestamp, model, base_url, stage, cache_key, attempt, latency_s, prompt_tokens, " \
                  "completion_tokens, raw_output, cached"
        for cached in (0, 1):
            old._db.execute(f"INSERT INTO calls ({columns}) VALUES ('t', 'm', 'u', 's', 'k', 1, 0, ?, ?, 'x', ?)",
                            (0 if cached else 30, 0 if cached else 4, cached))
        old.close()
    upgraded = LLMCache(path)
    paid, hit = upgraded.calls()
    assert (paid.prompt_tokens, paid.cached_prompt_tokens) == (30, 0)
    assert (hit.prompt_tokens, hit.cached_prompt_tokens, hit.cached_completion_tokens) == (0, 30, 4)
    upgraded.close()
