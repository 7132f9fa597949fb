"""`edtune annotate POOL --teacher SPEC --out FILE`: fill in a pool's missing `required_skills` with a teacher.

Resumable (answers go to `<out stem>.annotations.jsonl`; a rerun skips what is there), content-cached (the
teacher's replies go to `<out stem>.llm_cache.sqlite`, so a request sent before is not paid again), with a
progress bar and a usage summary at the end. `--engine ray` runs the same annotation as a Ray Data pipeline
over shards of the pool (`edtune.teacher.annotate_ray`), on a local Ray cluster or the one at `--address`,
optionally spread over several replicas of the teacher (`--endpoint`); it writes the same bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from edtune.cli.run import BarsFlag, OldBarsFlag, bars_flag
from edtune.cli.usage import validate_options
from edtune.scale.settings import Engine

if TYPE_CHECKING:
    from edtune.llm.usage import StageUsage
    from edtune.records import Sample
    from edtune.specs import ModelSpec
    from edtune.teacher.annotate import AnnotateOptions, SkillAnnotator
    from edtune.teacher.annotate_file import AnnotationSummary


def annotate_command(
    pool: Annotated[Path, typer.Argument(help="The pool (Sample JSONL, LLaVA JSON, or a file `datasets` reads).")],
    teacher: Annotated[str, typer.Option("--teacher", help="Teacher: a spec string (provider/model@url), a spec "
                                         "file, or a spec name in judges/.")],
    out: Annotated[Path, typer.Option("--out", help="Where the annotated pool goes, as Sample JSONL.")],
    images: Annotated[bool, typer.Option("--images/--no-images", help="Send each sample's images (off for a "
                                         "text-only teacher).")] = True,
    max_skills: Annotated[int, typer.Option("--max-skills", help="At most this many skill phrases per "
                                            "sample.")] = 5,
    concurrency: Annotated[int | None, typer.Option("--concurrency", help="Samples annotated at the same time; "
                                                    "default: the teacher spec's concurrency.")] = None,
    image_root: Annotated[Path | None, typer.Option("--image-root", help="Folder the pool's image paths are "
                                                    "relative to; default: the pool file's folder.")] = None,
    answer_pattern: Annotated[str | None, typer.Option("--answer-pattern", help="LLaVA JSON: regular expression "
                                                       "with a group (?P<answer>...) finding the answer line.")] = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Ask again about samples an earlier "
                                               "annotation could not annotate.")] = False,
    project_dir: Annotated[Path | None, typer.Option("--project-dir", help="Folder with prompts/ and judges/.")]
    = None,
    bars: BarsFlag = True,
    progress: OldBarsFlag = None,
    engine: Annotated[Engine, typer.Option("--engine", help="local: one process; ray: a Ray Data pipeline over "
                                           "shards of the pool (needs the ray extra).")] = "local",
    address: Annotated[str | None, typer.Option("--address", help="--engine ray: the Ray cluster to join "
                                                "(e.g. auto, ray://head:10001); default: a local one.")] = None,
    endpoint: Annotated[list[str] | None, typer.Option("--endpoint", help="--engine ray: base URL of a replica "
                                                       "serving the teacher's model (repeat it); shards go to "
                                                       "them in turn. Default: the spec's base_url.")] = None,
    shard_size: Annotated[int, typer.Option("--shard-size", help="--engine ray: samples per shard (one Ray "
                                            "task, one resumable file).")] = 256,
) -> None:
    """Ask the teacher for the skills each pool sample needs, where the pool has none, and write the pool."""
    from edtune.data.loaders import default_image_root, load_samples
    from edtune.loop.bars import progress_bar
    from edtune.specs import load_model_spec
    from edtune.teacher.annotate import AnnotateOptions
    from edtune.teacher.annotate_file import pending

    if engine == "local" and (address is not None or endpoint):
        raise typer.BadParameter("--address and --endpoint go with --engine ray", param_hint="--engine")
    spec = load_model_spec(teacher, project_dir)
    options = validate_options(AnnotateOptions, {"images": images, "max_skills": max_skills,
                                                 "concurrency": concurrency or spec.concurrency,
                                                 "retry_failed": retry_failed})
    ray_fields: dict[str, object] = {"address": address, "endpoints": endpoint or [], "shard_size": shard_size}
    samples = load_samples(pool, image_root=image_root, check_images=images, answer_pattern=answer_pattern)
    root = image_root if image_root is not None else default_image_root(pool)
    total, done = pending(samples, out, retry_failed=retry_failed)
    with progress_bar("annotating required skills", total, enabled=bars_flag(bars, progress), done=done) as advance:
        if engine == "ray":
            summary, usage = _on_ray(samples, spec, options, out, root, project_dir, ray_fields, advance)
        else:
            summary, usage = _locally(samples, spec, teacher, options, out, root, project_dir, advance)
    typer.echo(_summary_line(summary))
    typer.echo(f"teacher usage: {usage.calls} call(s) sent, {usage.prompt_tokens:,} prompt + "
               f"{usage.completion_tokens:,} completion tokens paid; {usage.cached_calls} answered from "
               f"the cache ({usage.cached_tokens:,} tokens paid when first asked, not again)")
    typer.echo(f"wrote {summary.out} (annotations: {summary.annotations})")


def _locally(samples: list[Sample], spec: ModelSpec, teacher: str, options: AnnotateOptions, out: Path,
             root: Path, project_dir: Path | None, advance: Callable[[int], None]
             ) -> tuple[AnnotationSummary, StageUsage]:
    """The local engine: one process, one async client."""
    from edtune.llm.cache import LLMCache
    from edtune.llm.usage import UsageMeter
    from edtune.specs import build_teacher_client
    from edtune.teacher.annotate import SkillAnnotator
    from edtune.teacher.annotate_file import cache_path

    cache, meter = LLMCache(cache_path(out)), UsageMeter()
    try:
        client = build_teacher_client(teacher, project_dir=project_dir, cache=cache, usage=meter)
        annotator = SkillAnnotator(client, options, project_dir=project_dir, image_root=root, sampling=spec.params)
        summary = asyncio.run(_annotate(samples, annotator, out, lambda: advance(1)))
    finally:
        cache.close()
    return summary, meter.total


def _on_ray(samples: list[Sample], spec: ModelSpec, options: AnnotateOptions, out: Path, root: Path,
            project_dir: Path | None, ray_fields: dict[str, object], advance: Callable[[int], None]
            ) -> tuple[AnnotationSummary, StageUsage]:
    """The ray engine; says how many shards an earlier driver had finished."""
    from edtune.scale.settings import RaySettings
    from edtune.teacher.annotate_ray import annotate_on_ray

    settings = validate_options(RaySettings, ray_fields, options={"endpoints": "--endpoint"})
    result = annotate_on_ray(samples, spec, options, out=out, settings=settings, image_root=root,
                             project_dir=project_dir, on_done=advance)
    typer.echo(f"ray: {result.shards} shard(s), {result.shards_done_before} kept from an earlier run, "
               f"{result.shards - result.shards_done_before} run now")
    return result.summary, result.usage


async def _annotate(samples: list[Sample], annotator: SkillAnnotator, out: Path,
                    advance: Callable[[], None]) -> AnnotationSummary:
    """Annotate, then close the teacher's HTTP connections on the same event loop."""
    from edtune.teacher.annotate_file import annotate_samples

    try:
        return await annotate_samples(samples, annotator, out, on_result=lambda _: advance())
    finally:
        close = getattr(annotator.client, "close", None)
        if close is not None:
            await close()


def _summary_line(summary: AnnotationSummary) -> str:
    return (f"annotate: {summary.samples} samples; {summary.had_skills} already had skills, "
            f"{summary.already_annotated} answered by an earlier annotation, {summary.annotated} annotated now; "
            f"{summary.failed} left without skills (no valid teacher reply)")


def register(app: typer.Typer) -> None:
    """Attach `annotate` to the main app."""
    app.command("annotate")(annotate_command)
