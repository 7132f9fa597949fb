"""Permanent provider errors fail at once, with their evidence; "try later" statuses are retried.

Driven through the real `openai` SDK over `httpx2.MockTransport` (the fake server of `llm_fakes`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx2
import pytest
from llm_fakes import FakeServer, Sleeps, completion, error

from edtune.errors import SAMPLE_PROVIDER_ERRORS, ProviderError, RequestRejected, UnsupportedInput
from edtune.llm import ChatRequest, ContentPart, Message
from edtune.llm.openai_client import OpenAICompatibleClient

Build = Callable[..., OpenAICompatibleClient]
LLAMACPP_NO_IMAGES = "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj"


def image_request() -> ChatRequest:
    parts = [ContentPart(type="image_url", image_url="data:image/png;base64,AAAA"),
             ContentPart(type="text", text="What colour is it?")]
    return ChatRequest(messages=[Message(role="user", content=parts)])


def llamacpp_500(message: str) -> httpx2.Response:
    """llama.cpp's error body: {"error": {"code": 500, "message": ..., "type": "server_error"}}."""
    return httpx2.Response(500, json={"error": {"code": 500, "message": message, "type": "server_error"}})


def test_a_500_saying_images_are_unsupported_fails_at_once_with_its_evidence(make_client: Build, server: FakeServer,
                                                                           sleeps: Sleeps) -> None:
    server.replies = [llamacpp_500(LLAMACPP_NO_IMAGES)]
    with pytest.raises(UnsupportedInput) as info:
        asyncio.run(make_client(max_retries=5).chat(image_request()))
    assert len(server.bodies) == 1 and sleeps.waits == []
    assert info.value.status == 500 and info.value.tries == 1
    assert "image input is not supported" in (info.value.body or "")
    assert "HTTP 500 after 1 tries" in str(info.value)
    # It concerns every request with an image, so a batch stage must not swallow it as one sample's failure.
    assert not isinstance(info.value, SAMPLE_PROVIDER_ERRORS)


@pytest.mark.parametrize("message", ["Invalid content type. image_url is only supported by certain models.",
                                     "This model does not support images", "Qwen2 is not a multimodal model",
                                     "At most 0 image(s) may be provided in one prompt."])
def test_other_unsupported_input_wordings_are_permanent_at_any_status(make_client: Build, server: FakeServer,
                                                                      message: str) -> None:
    server.replies = [error(400, message)]
    with pytest.raises(UnsupportedInput) as info:
        asyncio.run(make_client().chat(image_request()))
    assert info.value.status == 400 and info.value.tries == 1 and len(server.bodies) == 1


def test_one_image_too_many_concerns_only_that_request(make_client: Build, server: FakeServer) -> None:
    server.replies = [error(400, "At most 1 image(s) may be provided in one prompt.")]
    with pytest.raises(RequestRejected) as info:
        asyncio.run(make_client().chat(image_request()))
    assert not isinstance(info.value, UnsupportedInput) and info.value.tries == 1


def test_an_ordinary_500_is_still_retried(make_client: Build, server: FakeServer, sleeps: Sleeps) -> None:
    server.replies = [llamacpp_500("CUDA error: out of memory"), llamacpp_500("unsupported image format"),
                      completion("fine")]
    assert asyncio.run(make_client().chat(image_request())).text == "fine"
    assert len(server.bodies) == 3 and len(sleeps.waits) == 2


@pytest.mark.parametrize("status", [401, 403, 404, 400, 422])
def test_permanent_4xx_are_tried_once(make_client: Build, server: FakeServer, sleeps: Sleeps, status: int) -> None:
    server.replies = [error(status, "no such model: tiny-model")]
    with pytest.raises(ProviderError) as info:
        asyncio.run(make_client(max_retries=5).chat(image_request()))
    assert (info.value.status, info.value.tries, sleeps.waits) == (status, 1, [])
    assert "no such model" in (info.value.body or "")
    assert isinstance(info.value, RequestRejected) == (status in (400, 422))


@pytest.mark.parametrize("status", [408, 409, 429])
def test_try_later_4xx_are_retried(make_client: Build, server: FakeServer, sleeps: Sleeps, status: int) -> None:
    server.replies = [error(status, "busy"), completion("done")]
    assert asyncio.run(make_client().chat(image_request())).text == "done"
    assert len(server.bodies) == 2 and len(sleeps.waits) == 1
