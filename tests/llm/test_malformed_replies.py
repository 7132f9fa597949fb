"""Malformed replies (truncated, empty, non-JSON, wrong content type, dropped mid-reply) are retried like
a 5xx and, once retries are spent, raise MalformedReply with the body as evidence; permanent 4xx are not
retried; a reply is cached the moment it arrives."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx2
import pytest
from llm_fakes import FakeServer, Sleeps, completion, error

from edtune.errors import MalformedReply, ProviderError, RequestRejected
from edtune.llm import ChatRequest, Message
from edtune.llm.cache import LLMCache
from edtune.llm.openai_client import OpenAICompatibleClient

Build = Callable[..., OpenAICompatibleClient]
JSON = {"content-type": "application/json"}


def request() -> ChatRequest:
    return ChatRequest(messages=[Message(role="user", content="hi")])


def truncated(req: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, headers=JSON, content=b'{"id": "x", "choices": [{"ind')


def empty(req: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, headers=JSON, content=b"")


def html(req: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, headers={"content-type": "text/html"}, content=b"<html>busy</html>")


def no_choices(req: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json={"id": "x", "object": "chat.completion"})


def reset(req: httpx2.Request) -> httpx2.Response:
    raise httpx2.ReadError("connection reset by peer", request=req)


def closed(req: httpx2.Request) -> httpx2.Response:
    raise httpx2.RemoteProtocolError("server disconnected without sending a response", request=req)


MALFORMED = [truncated, empty, html, no_choices, reset, closed]


@pytest.mark.parametrize("fault", MALFORMED, ids=lambda f: f.__name__)
def test_a_malformed_reply_is_retried(fault: Callable[[httpx2.Request], httpx2.Response], make_client: Build,
                                      server: FakeServer, sleeps: Sleeps) -> None:
    server.replies = [fault, completion("ok")]
    assert asyncio.run(make_client().chat(request())).text == "ok"
    assert len(server.bodies) == 2 and len(sleeps.waits) == 1


@pytest.mark.parametrize("fault", MALFORMED, ids=lambda f: f.__name__)
def test_retries_spent_on_malformed_replies_raise_malformed_reply(
        fault: Callable[[httpx2.Request], httpx2.Response], make_client: Build, server: FakeServer) -> None:
    server.replies = [fault] * 3
    with pytest.raises(MalformedReply) as info:
        asyncio.run(make_client(max_retries=2).chat(request()))
    assert info.value.tries == 3 and len(server.bodies) == 3
    assert "malformed reply" in str(info.value) and "after 3 tries" in str(info.value)


def test_the_malformed_body_is_kept_as_evidence(make_client: Build, server: FakeServer) -> None:
    server.replies = [truncated] * 2
    with pytest.raises(MalformedReply) as info:
        asyncio.run(make_client(max_retries=1).chat(request()))
    assert info.value.body == '{"id": "x", "choices": [{"ind' and info.value.status == 200


def test_a_refused_connection_is_not_a_malformed_reply(make_client: Build, server: FakeServer) -> None:
    def refused(req: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused", request=req)

    server.replies = [refused] * 2
    with pytest.raises(ProviderError) as info:
        asyncio.run(make_client(max_retries=1).chat(request()))
    assert not isinstance(info.value, MalformedReply) and info.value.tries == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_permanent_4xx_are_not_retried(status: int, make_client: Build, server: FakeServer, sleeps: Sleeps) -> None:
    server.replies = [error(status)]
    with pytest.raises(ProviderError) as info:
        asyncio.run(make_client().chat(request()))
    assert info.value.tries == 1 and sleeps.waits == [] and not isinstance(info.value, MalformedReply)
    assert isinstance(info.value, RequestRejected) == (status in (400, 422))


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_408_429_and_5xx_are_retried(status: int, make_client: Build, server: FakeServer) -> None:
    server.replies = [error(status), completion("ok")]
    assert asyncio.run(make_client().chat(request())).text == "ok"


def test_a_reply_is_cached_before_the_caller_uses_it(make_client: Build, server: FakeServer,
                                                       cache: LLMCache) -> None:
    """A crash after the reply arrived (here: in the code that consumes it) does not make it paid twice."""
    server.replies = [completion("paid once")]
    client = make_client(cache=cache)

    async def crash_after_reply() -> None:
        await client.chat(request())
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(crash_after_reply())
    again = asyncio.run(make_client(cache=cache).chat(request()))
    assert again.text == "paid once" and again.cached and len(server.bodies) == 1
