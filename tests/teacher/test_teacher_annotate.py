"""Required-skills annotation: streaming, bounded concurrency, resume, crash repair, failures."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from edtune.errors import DataError, ProviderError
from edtune.llm.base import ChatRequest
from edtune.llm.scripted import ScriptedClient
from edtune.records import Sample
from edtune.teacher.annotate import AnnotateOptions, SkillAnnotator
from edtune.teacher.batch import iter_results, run_resumable
from edtune.teacher.records import SkillAnnotation


def _pool(n: int) -> list[Sample]:
    return [Sample(id=f"q{i}", question=f"Question number {i}?", answer=str(i)) for i in range(n)]


def _reply(request: ChatRequest) -> str:
    text = str(request.messages[1].content)  # the rendered prompt, also on a re-ask
    number = text.split("Question: Question number ")[1].split("?")[0]
    return "not json" if number == "3" else f'{{"skills": ["skill {number}"]}}'


def _run(samples: list[Sample], out: Path, client: ScriptedClient, **options: object) -> object:
    annotator = SkillAnnotator(client, AnnotateOptions(concurrency=2, **options))  # type: ignore[arg-type]
    return asyncio.run(annotator.annotate_pool(iter(samples), out))


def _ids(out: Path) -> list[str]:
    return [r.sample_id for r in iter_results(out, SkillAnnotation)]


def test_pool_is_annotated_once_and_a_rerun_skips_everything(tmp_path: Path) -> None:
    out = tmp_path / "ann" / "skills.jsonl"
    report = _run(_pool(5), out, ScriptedClient(_reply, max_reasks=0))
    assert (report.processed, report.failed, report.already_done) == (5, 1, 0)  # type: ignore[attr-defined]
    records = {r.sample_id: r for r in iter_results(out, SkillAnnotation)}
    assert records["q1"].required_skills == ["skill 1"] and records["q1"].template == "required_skills"
    assert records["q3"].outcome == "failed" and records["q3"].failure is not None
    again = ScriptedClient(_reply)
    report = _run(_pool(5), out, again)
    assert (report.processed, report.already_done) == (0, 5) and again.requests == []  # type: ignore[attr-defined]


def test_retry_failed_redoes_only_failures(tmp_path: Path) -> None:
    out = tmp_path / "skills.jsonl"
    _run(_pool(5), out, ScriptedClient(_reply, max_reasks=0))
    fixed = ScriptedClient(lambda r: '{"skills": ["fixed"]}')
    report = _run(_pool(5), out, fixed, retry_failed=True)
    assert report.processed == 1 and len(fixed.requests) == 1  # type: ignore[attr-defined]
    latest = {r.sample_id: r for r in iter_results(out, SkillAnnotation)}
    assert latest["q3"].required_skills == ["fixed"] and len(_ids(out)) == 6


def test_crash_mid_line_is_repaired_and_the_item_redone(tmp_path: Path) -> None:
    out = tmp_path / "skills.jsonl"
    _run(_pool(3), out, ScriptedClient(_reply))
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:2]) + lines[2][:25])  # the process died while writing line 3
    client = ScriptedClient(_reply)
    report = _run(_pool(5), out, client)
    assert report.repaired_tail and (report.already_done, report.processed) == (2, 3)  # type: ignore[attr-defined]
    assert sorted(_ids(out)) == ["q0", "q1", "q2", "q3", "q4"]
    assert out.read_bytes().endswith(b"\n")


def test_complete_last_record_without_newline_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "skills.jsonl"
    _run(_pool(2), out, ScriptedClient(_reply))
    out.write_bytes(out.read_bytes().rstrip(b"\n"))
    report = _run(_pool(3), out, ScriptedClient(_reply))
    assert (report.already_done, report.processed) == (2, 1)  # type: ignore[attr-defined]
    assert sorted(_ids(out)) == ["q0", "q1", "q2"]


def test_bad_line_inside_the_file_is_a_data_error(tmp_path: Path) -> None:
    out = tmp_path / "skills.jsonl"
    _run(_pool(2), out, ScriptedClient(_reply))
    lines = out.read_text().splitlines()
    out.write_text(f"{lines[0]}\n{{broken\n{lines[1]}\n")
    with pytest.raises(DataError) as info:
        _run(_pool(2), out, ScriptedClient(_reply))
    assert info.value.row == 2 and info.value.file == str(out)


def test_provider_error_stops_the_run_keeping_finished_results(tmp_path: Path) -> None:
    def flaky(request: ChatRequest) -> str:
        if "number 2?" in str(request.messages[-1].content):
            raise ProviderError("server down", status=503, tries=5)
        return '{"skills": ["ok"]}'

    out = tmp_path / "skills.jsonl"
    annotator = SkillAnnotator(ScriptedClient(flaky), AnnotateOptions(concurrency=1))
    with pytest.raises(ProviderError):
        asyncio.run(annotator.annotate_pool(_pool(5), out))
    assert _ids(out) == ["q0", "q1"]


def test_items_are_pulled_lazily(tmp_path: Path) -> None:
    pulled = 0
    in_flight_max = 0
    finished = 0

    def stream() -> Iterator[Sample]:
        nonlocal pulled, in_flight_max
        for sample in _pool(20):
            pulled += 1
            in_flight_max = max(in_flight_max, pulled - finished)
            yield sample

    def count(result: SkillAnnotation) -> None:
        nonlocal finished
        finished += 1

    annotator = SkillAnnotator(ScriptedClient(lambda r: '{"skills": ["x"]}'), AnnotateOptions(concurrency=3))
    report = asyncio.run(annotator.annotate_pool(stream(), tmp_path / "a.jsonl", on_result=count))
    assert report.processed == 20 and in_flight_max <= 4


def test_failure_with_items_in_flight_cancels_them_and_keeps_the_file_valid(tmp_path: Path) -> None:
    started: list[str] = []
    cancelled: list[str] = []

    async def work(sample: Sample) -> SkillAnnotation:
        started.append(sample.id)
        if sample.id == "q1":
            raise ProviderError("server down", status=503)
        try:
            await asyncio.sleep(0 if sample.id == "q0" else 60)
        except asyncio.CancelledError:
            cancelled.append(sample.id)
            raise
        return SkillAnnotation(sample_id=sample.id, teacher="t", template="x", template_hash="h",
                               required_skills=["s"], outcome="found")

    out = tmp_path / "a.jsonl"
    with pytest.raises(ProviderError):
        asyncio.run(run_resumable(_pool(6), work, out=out, key=lambda s: s.id, result_type=SkillAnnotation,
                                  concurrency=3))
    assert started == ["q0", "q1", "q2"] and cancelled == ["q2"]
    assert _ids(out) == ["q0"]
