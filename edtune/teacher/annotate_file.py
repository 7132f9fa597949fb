"""Fill in the missing `required_skills` of a data set with the teacher (what `edtune annotate` runs).

Samples that already have `required_skills` keep them and cost no call. The others go through
`SkillAnnotator.annotate_pool`, whose results file (`annotations_path(out)`) makes the work resumable: a
rerun skips every sample already answered there (a failed one too, unless `retry_failed`). The written
data set is Sample JSONL with the skills filled in; a sample the teacher could not annotate keeps no
skills, so retrieval never picks it, and is counted as failed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from edtune.data.loaders import write_samples
from edtune.llm.base import Usage
from edtune.records import Record, Sample
from edtune.teacher.annotate import SkillAnnotator
from edtune.teacher.batch import iter_results
from edtune.teacher.records import SkillAnnotation


class AnnotationSummary(Record):
    """What one annotation of a data set did."""

    samples: int
    """Samples in the data set."""
    had_skills: int
    """Samples that already had `required_skills` (kept as they were, no call)."""
    already_annotated: int
    """Samples answered by an earlier, interrupted or finished, annotation (skipped)."""
    annotated: int
    """Samples the teacher was asked about now."""
    failed: int
    """Samples left without skills because no teacher reply validated (now or earlier)."""
    calls: int
    """Teacher calls made now, re-asks included (cached replies count as calls of the record they gave)."""
    usage: Usage
    """Tokens of the calls made now."""
    out: str
    """The data set written, as Sample JSONL."""
    annotations: str
    """The resumable results file, one SkillAnnotation per line."""


def annotations_path(out: Path) -> Path:
    """The results file kept beside `out` (`pool.jsonl` -> `pool.annotations.jsonl`)."""
    return out.with_suffix(".annotations.jsonl")


def cache_path(out: Path) -> Path:
    """The teacher's content cache and call log kept beside `out` (`pool.jsonl` -> `pool.llm_cache.sqlite`)."""
    return out.with_suffix(".llm_cache.sqlite")


def latest_annotations(path: Path) -> dict[str, SkillAnnotation]:
    """The latest record per sample id in a results file (none when it does not exist)."""
    return {record.sample_id: record for record in iter_results(path, SkillAnnotation)}


def unanswered(samples: Sequence[Sample], out: Path, *, retry_failed: bool = False) -> list[Sample]:
    """The samples without skills that the results file does not answer yet (with `retry_failed`, a
    sample whose latest record is a failure counts as unanswered), in data-set order."""
    latest = latest_annotations(annotations_path(out))
    return [s for s in samples if not s.required_skills
            and (s.id not in latest or (retry_failed and latest[s.id].outcome == "failed"))]


def pending(samples: Sequence[Sample], out: Path, *, retry_failed: bool = False) -> tuple[int, int]:
    """(samples without skills, of those how many an earlier annotation already answered): a progress
    bar's total and its starting point."""
    todo = sum(1 for s in samples if not s.required_skills)
    return todo, todo - len(unanswered(samples, out, retry_failed=retry_failed))


async def annotate_samples(samples: Sequence[Sample], annotator: SkillAnnotator, out: Path, *,
                           on_result: Callable[[SkillAnnotation], None] | None = None) -> AnnotationSummary:
    """Annotate the samples that lack `required_skills`, then write all samples to `out` as Sample JSONL.
    `on_result` is called after each new annotation is written (e.g. to advance a progress bar)."""
    results = annotations_path(out)
    spent: list[SkillAnnotation] = []

    def record(result: SkillAnnotation) -> None:
        spent.append(result)
        if on_result is not None:
            on_result(result)

    todo = [s for s in samples if not s.required_skills]
    report = await annotator.annotate_pool(todo, results, on_result=record)
    return write_annotated(samples, out, already_annotated=report.already_done, spent=spent)


def write_annotated(samples: Sequence[Sample], out: Path, *, already_annotated: int,
                    spent: Sequence[SkillAnnotation]) -> AnnotationSummary:
    """Write `samples` to `out` with the skills of the latest record per sample in the results file filled
    in, and sum up: `spent` are the records made now, `already_annotated` the samples answered before.
    Every engine ends here, so the same results give the same bytes."""
    results = annotations_path(out)
    latest = latest_annotations(results)
    filled = [_filled(s, latest.get(s.id)) for s in samples]
    write_samples(filled, out)
    usage = Usage()
    for result in spent:
        usage += result.usage
    todo = [s for s in samples if not s.required_skills]
    return AnnotationSummary(samples=len(samples), had_skills=len(samples) - len(todo),
                             already_annotated=already_annotated, annotated=len(spent),
                             failed=sum(1 for s in todo if not filled_skills(latest.get(s.id))),
                             calls=sum(r.calls for r in spent), usage=usage, out=str(out), annotations=str(results))


def filled_skills(annotation: SkillAnnotation | None) -> list[str]:
    """The skills an annotation found; empty for a failed or missing one."""
    return list(annotation.required_skills) if annotation is not None and annotation.outcome == "found" else []


def fill_skills(samples: Sequence[Sample], annotations: Path) -> list[Sample]:
    """`samples`, each without `required_skills` given those its latest record in the results file
    `annotations` found (a sample without a found record keeps none)."""
    latest = latest_annotations(annotations)
    return [_filled(s, latest.get(s.id)) for s in samples]


def _filled(sample: Sample, annotation: SkillAnnotation | None) -> Sample:
    if sample.required_skills:
        return sample
    skills = filled_skills(annotation)
    return sample.model_copy(update={"required_skills": skills or None})
