"""`edtune annotate --engine ray`: the required-skills annotation of a pool as a Ray Data pipeline.

The samples that lack skills and that the results file does not answer yet are cut into shards
(`RaySettings.shard_size`). Each shard is one Ray task in which `ShardAnnotator` asks the teacher about its
samples with the same `SkillAnnotator` as the local engine, at the same concurrency, through one of the
replicas (`RaySettings.endpoints`, by shard index). The driver keeps each finished shard in
`<out stem>.shards/` and adds the shard's new cache rows to the cache file (it is the file's only writer,
see `edtune.llm.cache`), so a driver started again redoes only the shards not kept. When every shard is
done their records are appended, in shard order, to the results file in one atomic rewrite, and
`write_annotated` writes the pool as the local engine does: the same results give the same bytes.

Workers read the samples' images and the cache file at the paths the driver resolved: on a cluster of
several machines those paths must be on a shared file system (a worker that cannot see the cache file
pays again for replies cached before; one that cannot see an image fails its sample's request).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from edtune.llm.cache import CacheRows, LLMCache
from edtune.llm.concurrency import map_bounded
from edtune.llm.usage import StageUsage, UsageMeter
from edtune.llm.worker_cache import WorkerCache
from edtune.records import Record, Sample
from edtune.scale.settings import RaySettings
from edtune.scale.shards import Shard, ShardStore, plan_shards
from edtune.specs import ModelSpec, build_client
from edtune.teacher.annotate import AnnotateOptions, SkillAnnotator
from edtune.teacher.annotate_file import (
    AnnotationSummary,
    annotations_path,
    cache_path,
    unanswered,
    write_annotated,
)
from edtune.teacher.batch import repair_tail
from edtune.teacher.records import SkillAnnotation
from edtune.templates import parse_template


class ShardInput(Record):
    """One shard as its worker gets it."""

    name: str
    """The shard's name (`Shard.name`), which its output repeats."""
    endpoint: str | None
    """The replica's base URL its requests go to; None: the teacher spec's base_url."""
    samples: list[Sample]
    """The shard's samples, in work-list order."""


class ShardOutput(Record):
    """What a worker hands back for one shard."""

    name: str
    """The shard's name."""
    records: list[SkillAnnotation]
    """One record per sample, in the shard's order."""
    cache: CacheRows
    """The replies received and the calls made, for the driver's cache file."""
    usage: StageUsage
    """Calls sent and answered from the cache, and their tokens."""


class RayAnnotation(Record):
    """What `annotate_on_ray` did."""

    summary: AnnotationSummary
    """The same summary as the local engine's."""
    usage: StageUsage
    """Teacher calls sent now and answered from the cache, summed over the shards run now."""
    shards: int
    """Shards in the plan."""
    shards_done_before: int
    """Of those, how many an earlier, interrupted driver had finished (not redone)."""


@dataclass(frozen=True)
class ShardAnnotator:
    """The worker: annotates one shard with a client of its own. Holds only settings, so it pickles."""

    spec: ModelSpec
    options: AnnotateOptions
    template: bytes
    """The template file's bytes, as the driver read them (the worker compiles them; same hash)."""
    template_origin: str
    shared_cache: Path
    image_root: Path | None
    project_dir: Path | None

    def __call__(self, shard: ShardInput) -> ShardOutput:
        return asyncio.run(self._annotate(shard))

    async def _annotate(self, shard: ShardInput) -> ShardOutput:
        cache, meter = WorkerCache(self.shared_cache), UsageMeter()
        try:
            client = build_client(self.spec, cache=cache, usage=meter, replica_url=shard.endpoint,
                                  project_dir=self.project_dir)
            template = parse_template(self.template, origin=self.template_origin)
            annotator = SkillAnnotator(client, self.options, template=template, project_dir=self.project_dir,
                                       image_root=self.image_root, sampling=self.spec.params)
            try:
                records = await map_bounded(annotator.annotate, shard.samples, self.options.concurrency)
            finally:
                close = getattr(client, "close", None)
                if close is not None:
                    await close()
            return ShardOutput(name=shard.name, records=records, cache=cache.export_rows(), usage=meter.total)
        finally:
            cache.close()


def shards_path(out: Path) -> Path:
    """The folder of finished shards kept beside `out` until they are merged (`pool.jsonl` -> `pool.shards`)."""
    return out.with_suffix(".shards")


def annotate_on_ray(samples: Sequence[Sample], spec: ModelSpec, options: AnnotateOptions, *, out: Path,
                    settings: RaySettings, image_root: Path | None, project_dir: Path | None = None,
                    on_done: Callable[[int], None] | None = None) -> RayAnnotation:
    """Annotate the samples lacking `required_skills` on Ray, then write all samples to `out` as Sample JSONL
    (see the module docstring). `on_done(n)` is called when a shard of n samples is kept."""
    left = unanswered(samples, out, retry_failed=options.retry_failed)
    already = sum(1 for s in samples if not s.required_skills) - len(left)
    plan = plan_shards([s.id for s in left], settings.shard_size)
    store = ShardStore(shards_path(out))
    todo = [shard for shard in plan if not store.done(shard)]
    spent: list[SkillAnnotation] = []
    usage = StageUsage()
    cache = LLMCache(cache_path(out))  # created (and migrated) before any worker opens it read-only
    try:
        if todo:
            worker = _worker(spec, options, cache.path, image_root, project_dir)
            inputs = _inputs(todo, left, settings.endpoints)
            usage = _run(worker, inputs, settings, cache, store, {s.name: s for s in todo}, spent, on_done)
    finally:
        cache.close()
    if plan:
        repair_tail(annotations_path(out), SkillAnnotation)
        store.append_to(annotations_path(out), plan)
    summary = write_annotated(samples, out, already_annotated=already + sum(len(s.ids) for s in plan) - len(spent),
                              spent=spent)
    store.clear()
    return RayAnnotation(summary=summary, usage=usage, shards=len(plan), shards_done_before=len(plan) - len(todo))


def _worker(spec: ModelSpec, options: AnnotateOptions, cache: Path, image_root: Path | None,
            project_dir: Path | None) -> ShardAnnotator:
    """The worker, with every path made absolute here (a worker process may start in another folder)."""
    from edtune.settings import project_paths
    from edtune.templates import load_template

    root = project_paths(project_dir).root
    template = load_template(options.template, root)
    origin = str(template.path) if template.path is not None else options.template
    data = template.path.read_bytes() if template.path is not None else b""
    return ShardAnnotator(spec=spec, options=options, template=data, template_origin=origin,
                          shared_cache=cache.resolve(), image_root=image_root.resolve() if image_root else None,
                          project_dir=root)


def _inputs(todo: Sequence[Shard], left: Sequence[Sample], endpoints: Sequence[str]) -> list[ShardInput]:
    by_id = {s.id: s for s in left}
    return [ShardInput(name=shard.name, endpoint=endpoints[shard.index % len(endpoints)] if endpoints else None,
                       samples=[by_id[i] for i in shard.ids]) for shard in todo]


def _run(worker: ShardAnnotator, inputs: list[ShardInput], settings: RaySettings, cache: LLMCache,
         store: ShardStore, shards: dict[str, Shard], spent: list[SkillAnnotation],
         on_done: Callable[[int], None] | None) -> StageUsage:
    """Run the shards; keep each as it ends (its cache rows first: a driver killed in between then finds
    the shard's replies cached when it redoes it). Returns the teacher usage summed over the shards."""
    from edtune.scale.ray_engine import ray_session, run_on_ray

    usage = StageUsage()
    with ray_session(settings):
        for output in run_on_ray(worker, inputs, settings):
            cache.absorb(output.cache)
            store.write(shards[output.name], "".join(f"{r.model_dump_json()}\n" for r in output.records).encode())
            spent.extend(output.records)
            usage = usage + output.usage  # every field, the cached replies' tokens too
            if on_done is not None:
                on_done(len(output.records))
    return usage

