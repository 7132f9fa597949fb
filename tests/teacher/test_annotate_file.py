"""Filling in a data set's missing required skills: kept skills, placeholder replies re-asked, failures
left without skills, a resumed run that asks nothing again, and the written Sample JSONL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pydantic import ValidationError

from edtune.data import load_samples
from edtune.llm.base import ChatRequest
from edtune.llm.scripted import ScriptedClient
from edtune.records import Sample
from edtune.teacher.annotate import AnnotateOptions, SkillAnnotator
from edtune.teacher.annotate_file import AnnotationSummary, annotate_samples, annotations_path, pending
from edtune.teacher.records import RequiredSkills


def _pool() -> list[Sample]:
    plain = [Sample(id=f"q{i}", question=f"Question number {i}?", answer=str(i)) for i in range(4)]
    return [*plain, Sample(id="kept", question="Question number 9?", answer="9", required_skills=["mine"])]


def _reply(request: ChatRequest) -> str:
    number = str(request.messages[1].content).split("Question: Question number ")[1].split("?")[0]
    reasked = len(request.messages) > 2
    if number == "1" and not reasked:
        return '{"skills": ["<skill1>"]}'  # a placeholder copied from the prompt: refused and re-asked
    if number == "2":
        return '{"skills": [""]}'  # never valid: the sample fails
    return f'{{"skills": ["reading number {number}"]}}'


def _annotate(out: Path, client: ScriptedClient, seen: list[str] | None = None) -> AnnotationSummary:
    annotator = SkillAnnotator(client, AnnotateOptions(concurrency=2, images=False))
    on_result = (lambda r: seen.append(r.sample_id)) if seen is not None else None
    return asyncio.run(annotate_samples(_pool(), annotator, out, on_result=on_result))


@pytest.mark.parametrize("phrase", ["<skill1>", "", "  ", "{{skill}}", "[skill]", "..."])
def test_placeholder_and_empty_skills_are_refused(phrase: str) -> None:
    with pytest.raises(ValidationError, match=r"skill must|at least 1 character"):
        RequiredSkills(skills=[phrase])
    assert RequiredSkills(skills=["compare x > 3"]).skills == ["compare x > 3"]


def test_missing_skills_are_filled_and_written(tmp_path: Path) -> None:
    out, client, seen = tmp_path / "pool.jsonl", ScriptedClient(_reply, max_reasks=1), []
    summary = _annotate(out, client, seen)
    assert (summary.samples, summary.had_skills, summary.annotated, summary.failed) == (5, 1, 4, 1)
    assert sorted(seen) == ["q0", "q1", "q2", "q3"]
    # q1: the placeholder reply and its valid re-ask; q2: two refused replies; q0 and q3 one call each
    assert summary.calls == len(client.requests) == 6 and summary.usage.total_tokens > 0
    written = {s.id: s.required_skills for s in load_samples(out, check_images=False)}
    assert written == {"q0": ["reading number 0"], "q1": ["reading number 1"], "q2": None,
                       "q3": ["reading number 3"], "kept": ["mine"]}
    assert annotations_path(out) == tmp_path / "pool.annotations.jsonl"


def test_a_rerun_asks_nothing_again(tmp_path: Path) -> None:
    out = tmp_path / "pool.jsonl"
    _annotate(out, ScriptedClient(_reply, max_reasks=1))
    assert pending(_pool(), out) == (4, 4)
    assert pending(_pool(), out, retry_failed=True) == (4, 3)
    again = ScriptedClient(_reply)
    summary = _annotate(out, again)
    assert again.requests == [] and (summary.already_annotated, summary.annotated, summary.calls) == (4, 0, 0)
    assert summary.failed == 1


def test_an_interrupted_annotation_resumes(tmp_path: Path) -> None:
    out = tmp_path / "pool.jsonl"
    _annotate(out, ScriptedClient(_reply, max_reasks=1))
    results = annotations_path(out)
    results.write_text("".join(results.read_text().splitlines(keepends=True)[:2]))  # two answers survived
    out.unlink()
    assert pending(_pool(), out) == (4, 2)
    client = ScriptedClient(_reply, max_reasks=1)
    summary = _annotate(out, client)
    assert (summary.already_annotated, summary.annotated) == (2, 2)
    assert len(load_samples(out, check_images=False)) == 5
