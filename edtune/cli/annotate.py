"""`edtune annotate POOL --teacher SPEC --out FILE`: fill in a pool's missing `required_skills` with a teacher.

Resumable (answers go to `<out stem>.annotations.jsonl`; a rerun skips what is there), content-cached (the
teacher's replies go to `<out stem>.llm_cache.sqlite`, so a request sent before is not paid again), with a
progress bar and a usage summary at the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from edtune.cli.usage import validate_options

if TYPE_CHECKING:
    from edtune.records import Sample
    from edtune.teacher.annotate import SkillAnnotator
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
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
) -> None:
    """Ask the teacher for the skills each pool sample needs, where the pool has none, and write the pool."""
    from edtune.data.loaders import default_image_root, load_samples
    from edtune.llm.cache import LLMCache
    from edtune.llm.usage import UsageMeter
    from edtune.loop.progress import progress_bar
    from edtune.specs import build_teacher_client, load_model_spec
    from edtune.teacher.annotate import AnnotateOptions, SkillAnnotator
    from edtune.teacher.annotate_file import pending

    spec = load_model_spec(teacher, project_dir)
    options = validate_options(AnnotateOptions, {"images": images, "max_skills": max_skills,
                                                 "concurrency": concurrency or spec.concurrency,
                                                 "retry_failed": retry_failed})
    samples = load_samples(pool, image_root=image_root, check_images=images, answer_pattern=answer_pattern)
    root = image_root if image_root is not None else default_image_root(pool)
    cache, meter = LLMCache(out.with_suffix(".llm_cache.sqlite")), UsageMeter()
    try:
        client = build_teacher_client(teacher, project_dir=project_dir, cache=cache, usage=meter)
        annotator = SkillAnnotator(client, options, project_dir=project_dir, image_root=root, sampling=spec.params)
        total, done = pending(samples, out, retry_failed=retry_failed)
        with progress_bar("annotating required skills", total, enabled=progress, done=done) as advance:
            summary = asyncio.run(_annotate(samples, annotator, out, lambda: advance(1)))
    finally:
        cache.close()
    total_usage = meter.total
    typer.echo(_summary_line(summary))
    typer.echo(f"teacher usage: {total_usage.calls} call(s) sent, {total_usage.prompt_tokens:,} prompt + "
               f"{total_usage.completion_tokens:,} completion tokens paid; {total_usage.cached_calls} answered from "
               f"the cache ({total_usage.cached_tokens:,} tokens paid when first asked, not again)")
    typer.echo(f"wrote {summary.out} (annotations: {summary.annotations})")


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
