"""Benchmark: required-skills annotation of a pool, local engine against the ray engine (samples/s).

    .venv/bin/python benchmarks/bench_ray_annotate.py                      # 480 samples, teacher at 0 ms
    .venv/bin/python benchmarks/bench_ray_annotate.py --delay-ms 200 --replicas 2

The reference teacher serves a shapes world's pool from its own process (so that its work does not share
the engines' interpreter), answering each request after `--delay-ms` (a stand-in for a model's generation
time; 0 measures edtune's own overhead). `--replicas` teacher processes are started; the local engine
talks to the first, the ray engine spreads its shards over all of them. Both engines run the same pool
with the same per-process concurrency into fresh output folders, and must write the same bytes (checked).
Timed: the annotation call itself. The local Ray cluster's start (`ray.init`) is timed apart and reported,
since a long-lived cluster pays it once. Prints samples/s per engine and the ray/local ratio.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from edtune.bench.shapes import ShapesConfig, generate_world, write_world
from edtune.data import load_samples, write_samples
from edtune.records import Sample
from edtune.specs import ModelSpec


def _serve(world: str, delay_s: float, ready: Any, stop: Any) -> None:
    """A teacher process: the reference teacher for `world`, each answer held `delay_s`."""
    from edtune.bench.reference import reference_teacher

    with reference_teacher(world) as server:
        answer = server.teacher.answer

        def slow(body: dict[str, Any]) -> Any:
            time.sleep(delay_s)
            return answer(body)

        server.teacher.answer = slow  # type: ignore[method-assign]
        ready.put((server.base_url, server.model))
        stop.wait()


@contextmanager
def _teacher(world: Path, delay_s: float) -> Iterator[tuple[str, str]]:
    """(base URL, model) of a teacher process that lives for the block."""
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    process = ctx.Process(target=_serve, args=(str(world), delay_s, ready, stop), daemon=True)
    process.start()
    try:
        yield ready.get(timeout=120)
    finally:
        stop.set()
        process.join(10)


def _pool(root: Path, size: int) -> tuple[Path, list[Sample]]:
    world = root / "shapes"
    config = ShapesConfig(seed=0, pool_size=size, val_size=4, test_size=4, base_size=4, tasks=["counting"])
    write_world(generate_world(config), world)
    samples = [s.model_copy(update={"required_skills": None}) for s in load_samples(world / "pool.jsonl")]
    write_samples(samples, world / "pool_plain.jsonl")
    return world, samples


def _local(samples: list[Sample], spec: ModelSpec, concurrency: int, world: Path, out: Path) -> float:
    import asyncio

    from edtune.llm.cache import LLMCache
    from edtune.specs import build_client
    from edtune.teacher.annotate import AnnotateOptions, SkillAnnotator
    from edtune.teacher.annotate_file import annotate_samples, cache_path

    cache = LLMCache(cache_path(out))
    client = build_client(spec, cache=cache)
    annotator = SkillAnnotator(client, AnnotateOptions(concurrency=concurrency), image_root=world,
                               sampling=spec.params)
    start = time.perf_counter()
    asyncio.run(annotate_samples(samples, annotator, out))
    seconds = time.perf_counter() - start
    cache.close()
    return seconds


def _ray(samples: list[Sample], spec: ModelSpec, concurrency: int, world: Path, out: Path,
         endpoints: list[str], shard_size: int, cpus_per_shard: float) -> float:
    from edtune.scale.settings import RaySettings
    from edtune.teacher.annotate import AnnotateOptions
    from edtune.teacher.annotate_ray import annotate_on_ray

    settings = RaySettings(endpoints=endpoints, shard_size=shard_size, cpus_per_shard=cpus_per_shard)
    start = time.perf_counter()
    annotate_on_ray(samples, spec, AnnotateOptions(concurrency=concurrency), out=out, settings=settings,
                    image_root=world)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool", type=int, default=480, help="pool samples to annotate")
    parser.add_argument("--delay-ms", type=float, default=0.0, help="teacher time per answer")
    parser.add_argument("--replicas", type=int, default=1, help="teacher processes (ray spreads shards over them)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight per engine process")
    parser.add_argument("--shard-size", type=int, default=60)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray cluster")
    parser.add_argument("--cpus-per-shard", type=float, default=1.0, help="RaySettings.cpus_per_shard")
    args = parser.parse_args()
    import ray

    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        root = Path(tmp)
        world, samples = _pool(root, args.pool)
        teachers = [stack.enter_context(_teacher(world, args.delay_ms / 1000)) for _ in range(args.replicas)]
        spec = ModelSpec(provider="openai-compatible", model=teachers[0][1], base_url=teachers[0][0])
        print(f"pool {len(samples)}, teacher delay {args.delay_ms:g} ms, {args.replicas} replica(s), "
              f"concurrency {args.concurrency} per process, shards of {args.shard_size}, Ray CPUs {args.cpus} "
              f"({args.cpus_per_shard:g} per shard); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        local_s = _local(samples, spec, args.concurrency, world, root / "local" / "out.jsonl")
        start = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
        init_s = time.perf_counter() - start
        try:
            ray_s = _ray(samples, spec, args.concurrency, world, root / "ray" / "out.jsonl",
                         [url for url, _ in teachers], args.shard_size, args.cpus_per_shard)
        finally:
            ray.shutdown()
        same = (root / "local" / "out.jsonl").read_bytes() == (root / "ray" / "out.jsonl").read_bytes()
    n = len(samples)
    print(f"{'engine':<8} {'seconds':>8} {'samples/s':>10}")
    print(f"{'local':<8} {local_s:>8.2f} {n / local_s:>10.1f}")
    print(f"{'ray':<8} {ray_s:>8.2f} {n / ray_s:>10.1f}   (+ {init_s:.1f} s to start the local cluster)")
    print(f"ray / local samples/s: {local_s / ray_s:.2f}x; with the cluster start: {local_s / (ray_s + init_s):.2f}x; "
          f"outputs byte-identical: {same}")


if __name__ == "__main__":
    main()
