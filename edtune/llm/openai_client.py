"""`OpenAICompatibleClient`: the one LLMClient for every server speaking OpenAI chat completions.

Hosted APIs, vLLM and llama.cpp servers all go through the official `openai` SDK. Around each request:
the persistent cache (a hit sends nothing), the token meter (a budget is checked before sending),
tenacity retries of transient failures (a malformed reply counts as one), and the call log. A reply is
stored in the cache the moment it arrives, before anything validates it against an output model.
Structured calls share their ask / validate / re-ask logic with every other client
(`edtune.llm.structured`).

The API key is read from the environment and handed only to the SDK. It is never part of the client's
repr, the cache, the call log or an error message (provider messages are scrubbed of it).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import random
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

import httpx2
import openai
from openai._constants import RAW_RESPONSE_HEADER
from openai.types.chat import ChatCompletion

from edtune.errors import ConfigError, ProviderError, UserError
from edtune.llm.base import (
    ChatRequest,
    ChatResponse,
    M,
    Message,
    Structured,
    StructuredMode,
    TokenLogprob,
    Usage,
)
from edtune.llm.cache import CallLogEntry, LLMCache, cache_key
from edtune.llm.reply_check import RawReply, checked_completion
from edtune.llm.retry import RetryPolicy, Sleep, with_retries
from edtune.llm.structured import PLAIN, AttemptOutcome, OutputShape, StructuredSettings, structured_call
from edtune.llm.usage import UsageMeter

LOCAL_PLACEHOLDER_KEY = "no-key-needed"
"""Sent to local servers when the key variable is unset (the SDK insists on some key; they ignore it)."""


class _Secret:
    """Holds the API key so that printing, logging or repr-ing its holder cannot show it."""

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "<secret>"

    def reveal(self) -> str:
        return self._value

    def redact(self, text: str) -> str:
        return text.replace(self._value, "<secret>") if len(self._value) >= 4 else text


def _is_local(base_url: str) -> bool:
    host = urlparse(base_url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private or address.is_unspecified


def _api_key(env_var: str, base_url: str | None) -> str:
    key = os.environ.get(env_var)
    if key:
        return key
    if base_url is not None and _is_local(base_url):
        return LOCAL_PLACEHOLDER_KEY
    raise ConfigError(f"no API key: set the environment variable {env_var} (the server is "
                      f"{base_url or 'the OpenAI API'}, which is not local)")


def _wire_message(message: Message) -> dict[str, Any]:
    """A Message in the chat-completions wire format."""
    if isinstance(message.content, str):
        return {"role": message.role, "content": message.content}
    parts: list[dict[str, Any]] = []
    for part in message.content:
        if part.type == "text":
            parts.append({"type": "text", "text": part.text or ""})
        elif part.image_url is None:
            raise UserError("a ContentPart of type image_url has no image_url")
        else:
            parts.append({"type": "image_url", "image_url": {"url": part.image_url}})
    return {"role": message.role, "content": parts}


def _logprobs(completion: ChatCompletion) -> list[TokenLogprob] | None:
    choice_logprobs = completion.choices[0].logprobs
    if choice_logprobs is None or choice_logprobs.content is None:
        return None
    records = []
    for item in choice_logprobs.content:
        top = {alt.token: alt.logprob for alt in item.top_logprobs or []}
        top.setdefault(item.token, item.logprob)
        records.append(TokenLogprob(token=item.token, logprob=item.logprob, top=top))
    return records


def _to_response(completion: ChatCompletion, latency_s: float, model: str) -> ChatResponse:
    if not completion.choices:
        raise ProviderError(f"the server returned no choices for model {model}")
    choice = completion.choices[0]
    text = choice.message.content if choice.message.content is not None else (choice.message.refusal or "")
    usage = Usage(prompt_tokens=completion.usage.prompt_tokens if completion.usage else 0,
                  completion_tokens=completion.usage.completion_tokens if completion.usage else 0)
    return ChatResponse(text=text, model=completion.model or model, usage=usage, logprobs=_logprobs(completion),
                        finish_reason=choice.finish_reason, latency_s=latency_s)


class OpenAICompatibleClient:
    """An LLMClient over the OpenAI chat-completions protocol (see the module docstring).

    `provider` only labels the client (`name` is "provider/model"). `key_base_url` is the URL cache keys
    name as the server (default: `base_url`): a replica of a deployment passes the deployment's URL, so
    that every replica answers from, and adds to, the same cached replies. `http_client` replaces the SDK's
    transport (tests pass one over `httpx2.MockTransport`). `sleep` and `jitter_seed` control retry
    waits; `project_dir` is where the re-ask template `prompts/reask.jinja` is looked up (default: the
    project dir found by `edtune.settings.project_paths`).
    """

    def __init__(self, model: str, base_url: str | None = None, *, api_key_env: str = "OPENAI_API_KEY",
                 provider: str = "openai", default_mode: StructuredMode = "json_schema", max_reasks: int = 2,
                 max_retries: int = 5, timeout_s: float = 120, cache: LLMCache | None = None,
                 usage: UsageMeter | None = None, http_client: httpx2.AsyncClient | None = None,
                 sleep: Sleep = asyncio.sleep, jitter_seed: int = 0, project_dir: str | Path | None = None,
                 key_base_url: str | None = None) -> None:
        self.model = model
        self.provider = provider
        self.default_mode: StructuredMode = default_mode
        self.max_reasks = max_reasks
        self.cache = cache
        self.usage = usage if usage is not None else UsageMeter()
        self.project_dir = project_dir
        self._secret = _Secret(_api_key(api_key_env, base_url))
        self._sdk = openai.AsyncOpenAI(api_key=self._secret.reveal(), base_url=base_url, max_retries=0,
                                       timeout=timeout_s, http_client=http_client)
        self.base_url = str(self._sdk.base_url).rstrip("/")
        self.key_base_url = key_base_url.rstrip("/") if key_base_url is not None else self.base_url
        self._retry = RetryPolicy(max_retries=max_retries, rng=random.Random(jitter_seed), sleep=sleep)
        hosted_openai = urlparse(self.base_url).hostname == "api.openai.com"
        self._max_tokens_field = "max_completion_tokens" if hosted_openai else "max_tokens"

    @property
    def name(self) -> str:
        return f"{self.provider}/{self.model}"

    def __repr__(self) -> str:
        return f"OpenAICompatibleClient(name={self.name!r}, base_url={self.base_url!r})"

    async def chat(self, request: ChatRequest) -> ChatResponse:
        response = await self._send(request, PLAIN)
        self._log(AttemptOutcome(request, PLAIN, response, 1, None, None))
        return response

    async def structured(self, request: ChatRequest, output: type[M], *, mode: StructuredMode | None = None,
                         context: Mapping[str, Any] | None = None) -> Structured[M]:
        settings = StructuredSettings(mode=mode or self.default_mode, max_reasks=self.max_reasks,
                                      model_name=self.name, project_dir=self.project_dir, on_attempt=self._log)
        return await structured_call(self._send, request, output, settings, context)

    async def close(self) -> None:
        """Close the HTTP connections (the cache is the caller's to close)."""
        await self._sdk.close()

    def _key(self, request: ChatRequest, shape: OutputShape) -> str:
        return cache_key(request, model=self.model, base_url=self.key_base_url, mode=shape.mode,
                         schema_hash=shape.schema_hash)

    async def _send(self, request: ChatRequest, shape: OutputShape) -> ChatResponse:
        """One reply for `request`: from the cache, else from the server within the token budget."""
        key = self._key(request, shape) if self.cache is not None else ""
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            self.usage.count_cached(request.stage, hit.usage)
            return hit
        reservation = self.usage.reserve(request)
        try:
            response = await self._request(request, shape)
        except BaseException:
            self.usage.settle(reservation, None)
            raise
        self.usage.settle(reservation, response.usage)
        if self.cache is not None:
            self.cache.put(key, request, response)
        return response

    async def _request(self, request: ChatRequest, shape: OutputShape) -> ChatResponse:
        body = self._body(request, shape)
        latency = 0.0

        async def attempt() -> ChatCompletion:
            nonlocal latency
            start = time.perf_counter()
            # The SDK's `create` first walks the whole body against its TypedDicts (a third of this client's
            # CPU time per request, benchmarks/bench_client_overhead.py); the body is built here from
            # plain dicts already, so it is posted as is, with the raw reply kept as `create` would.
            # (typed as the parsed completion; the raw-response header makes it the SDK's raw wrapper)
            raw = cast(RawReply, await self._sdk.post("/chat/completions", body=body, cast_to=ChatCompletion,
                                                      options={"headers": {RAW_RESPONSE_HEADER: "true"}}))
            completion = checked_completion(raw)
            latency = time.perf_counter() - start
            return completion

        completion = await with_retries(attempt, self._retry, label=f"{self.name} at {self.base_url}",
                                        redact=self._secret.redact)
        return _to_response(completion, latency, self.model)

    def _body(self, request: ChatRequest, shape: OutputShape) -> dict[str, Any]:
        """The JSON body of a chat-completions request; unset options are left out, and a mode's extra keys
        (`OutputShape.extra_body`) are merged in at the top level, as the SDK's `extra_body` would."""
        body: dict[str, Any] = {"model": self.model, "messages": [_wire_message(m) for m in request.messages],
                                "temperature": request.temperature}
        optional = {self._max_tokens_field: request.max_tokens, "seed": request.seed,
                    "top_logprobs": request.top_logprobs, "response_format": shape.response_format}
        body.update({k: v for k, v in optional.items() if v is not None})
        if request.logprobs or request.top_logprobs is not None:
            body["logprobs"] = True
        return body | (shape.extra_body or {})

    def _log(self, outcome: AttemptOutcome) -> None:
        if self.cache is None:
            return
        request, response = outcome.request, outcome.response
        self.cache.log(CallLogEntry(
            model=self.model, base_url=self.base_url, stage=request.stage, template_name=request.template_name,
            template_hash=request.template_hash, mode=outcome.shape.mode, schema_hash=outcome.shape.schema_hash,
            cache_key=self._key(request, outcome.shape), attempt=outcome.number, latency_s=response.latency_s,
            **response.usage.model_dump(), raw_output=response.text, parsed_output=outcome.parsed, error=outcome.error,
            constraint_honoured=None if outcome.shape.mode is None else outcome.error is None,
            cached=response.cached))
