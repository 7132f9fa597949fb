"""Benchmark: latency per call and throughput of an OpenAI-compatible server at several concurrencies.

    .venv/bin/python benchmarks/bench_llm_servers.py                       # starts xllamacpp itself
    .venv/bin/python benchmarks/bench_llm_servers.py --base-url http://127.0.0.1:8000/v1 --model NAME

Calls go through edtune's own `OpenAICompatibleClient` (no cache), so the numbers include the SDK and
validation overhead a teacher sees. For each mode (plain chat, and json_schema structured output into a
small Pydantic model) and each concurrency level, it sends `--requests` distinct prompts with at most
`concurrency` in flight and reports mean / p50 / p95 latency per call, requests per second, generated
tokens per second, and how many structured calls never validated. A structured call's latency includes
its re-asks, if any, and its tokens count too. Without --base-url it serves the test GGUF
(scripts/fetch_test_model.py) with xllamacpp on 127.0.0.1, with `--slots` parallel slots and `--threads`
CPU threads.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field

from edtune.errors import UnexpectedModelBehavior
from edtune.llm.base import ChatRequest, ChatResponse, Message
from edtune.llm.concurrency import map_bounded
from edtune.llm.openai_client import OpenAICompatibleClient
from edtune.records import Record
from edtune.servers.llamacpp import LlamaCppConfig, llamacpp_server

DEFAULT_GGUF = Path(__file__).resolve().parents[1] / ".cache" / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"
SHAPES = ["triangle", "square", "pentagon", "hexagon", "circle", "star", "octagon", "rectangle"]


class ShapeFact(Record):
    """The structured output the json_schema mode asks for."""

    shape: str
    """The shape named."""
    sides: int = Field(ge=0, le=12)
    """Its number of sides."""


@dataclass(frozen=True)
class Row:
    mode: str
    concurrency: int
    requests: int
    wall_s: float
    latencies: list[float]
    completion_tokens: int
    failed: int

    def cells(self) -> list[str]:
        lat = sorted(self.latencies)
        p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
        return [self.mode, str(self.concurrency), str(self.requests), f"{self.wall_s:.2f}",
                f"{statistics.mean(lat):.2f}", f"{statistics.median(lat):.2f}", f"{p95:.2f}",
                f"{self.requests / self.wall_s:.2f}", f"{self.completion_tokens / self.wall_s:.1f}", str(self.failed)]


def _request(i: int, mode: str, max_tokens: int) -> ChatRequest:
    shape = SHAPES[i % len(SHAPES)]
    text = (f"Request {i}: describe a {shape} as JSON with fields shape and sides." if mode == "json_schema"
            else f"Request {i}: describe a {shape} in one sentence.")
    return ChatRequest(messages=[Message(role="user", content=text)], max_tokens=max_tokens, stage=mode)


async def _one(client: OpenAICompatibleClient, request: ChatRequest, mode: str) -> tuple[float, ChatResponse | None]:
    """(seconds, response) of one call; a structured call that never validates gives None (counted as failed)."""
    start = time.perf_counter()
    if mode != "json_schema":
        plain = await client.chat(request)
        return time.perf_counter() - start, plain
    try:
        response: ChatResponse | None = (await client.structured(request, ShapeFact)).response
    except UnexpectedModelBehavior:
        response = None
    return time.perf_counter() - start, response


async def _level(client: OpenAICompatibleClient, mode: str, concurrency: int, n: int, max_tokens: int) -> Row:
    requests = [_request(concurrency * 1000 + i, mode, max_tokens) for i in range(n)]
    before = client.usage.stage(mode).completion_tokens
    start = time.perf_counter()
    results = await map_bounded(lambda r: _one(client, r, mode), requests, concurrency)
    wall = time.perf_counter() - start
    failed = sum(resp is None for _, resp in results)
    return Row(mode, concurrency, n, wall, [lat for lat, _ in results],
               client.usage.stage(mode).completion_tokens - before, failed)


async def _run(base_url: str, model: str, args: argparse.Namespace) -> list[Row]:
    client = OpenAICompatibleClient(model, base_url, provider="bench", api_key_env=args.api_key_env,
                                    timeout_s=600)
    try:
        await _one(client, _request(-1, "plain", args.max_tokens), "plain")  # warm-up, not timed
        limits = {"plain": args.max_tokens, "json_schema": args.json_max_tokens}
        return [await _level(client, mode, c, args.requests, limits[mode])
                for mode in args.modes for c in args.concurrency]
    finally:
        await client.close()


@contextmanager
def _server(args: argparse.Namespace) -> Iterator[tuple[str, str, str]]:
    """(base URL, model name, description) of the server to measure, started here when none is given."""
    if args.base_url:
        yield args.base_url, args.model, f"{args.base_url} ({args.model})"
        return
    config = LlamaCppConfig(model_path=args.gguf, alias=args.model, n_parallel=args.slots, threads=args.threads,
                            n_ctx=1024 * args.slots)
    with llamacpp_server(config) as server:
        yield server.base_url, server.model, (f"xllamacpp {args.gguf.name}, {args.slots} slots, "
                                              f"{args.threads} thread(s)")


def _print_table(title: str, rows: list[Row]) -> None:
    head = ["mode", "conc", "reqs", "wall s", "mean lat s", "p50 s", "p95 s", "req/s", "gen tok/s", "failed"]
    body = [r.cells() for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    print(title)
    for line in [head, ["-" * w for w in widths], *body]:
        print("  ".join(cell.rjust(w) for cell, w in zip(line, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", help="measure this server instead of starting xllamacpp")
    parser.add_argument("--model", default="smollm2-135m", help="model name to send (the alias when started here)")
    parser.add_argument("--api-key-env", default="EDTUNE_BENCH_API_KEY", help="variable holding the API key")
    parser.add_argument("--gguf", type=Path, default=DEFAULT_GGUF, help="GGUF to serve when starting xllamacpp")
    parser.add_argument("--slots", type=int, default=8, help="parallel slots of the started server")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of the started server")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--requests", type=int, default=16, help="requests per concurrency level and mode")
    parser.add_argument("--max-tokens", type=int, default=48, help="max_tokens of plain calls")
    parser.add_argument("--json-max-tokens", type=int, default=64, help="max_tokens of json_schema calls")
    parser.add_argument("--modes", nargs="+", choices=["plain", "json_schema"], default=["plain", "json_schema"])
    args = parser.parse_args()
    with _server(args) as (base_url, model, what):
        rows = asyncio.run(_run(base_url, model, args))
    _print_table(f"Server: {what}; {args.requests} requests per row; max_tokens {args.max_tokens} (plain), "
                 f"{args.json_max_tokens} (json_schema)", rows)


if __name__ == "__main__":
    main()
