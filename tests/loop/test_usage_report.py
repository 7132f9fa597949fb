"""usage.json: every stage counted, from the call log where a client writes one and from the teacher result
records otherwise; paid tokens and the replies answered from the cache apart."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from edtune.llm.base import Usage
from edtune.llm.cache import CallLogEntry, LLMCache
from edtune.llm.usage import StageUsage
from edtune.loop.context import RunContext
from edtune.loop.metrics import IterationMetrics, usage_report
from edtune.loop.rundir import RunDir


def _entry(stage: str, *, cached: bool, tokens: int) -> CallLogEntry:
    usage = Usage(prompt_tokens=tokens, completion_tokens=1)
    return CallLogEntry(model="judge", base_url="http://127.0.0.1:1/v1", stage=stage, cache_key="k", latency_s=0.0,
                        raw_output="x", cached=cached, **(usage.as_cached() if cached else usage).model_dump())


def _context(cache: LLMCache | None, root: Path) -> RunContext:
    fake: Any = SimpleNamespace(call_log=cache is not None, cache=lambda: cache, run=RunDir(root))
    return cast(RunContext, fake)


def test_an_object_teacher_beside_a_logged_judge_keeps_its_stages(tmp_path: Path) -> None:
    cache = LLMCache(tmp_path / "llm_cache.sqlite")
    cache.log(_entry("judge", cached=False, tokens=10))
    cache.log(_entry("judge", cached=True, tokens=10))
    teacher = {"teacher.localise": StageUsage(calls=3, cached_calls=1, prompt_tokens=30, cached_prompt_tokens=10)}
    iterations = [IterationMetrics(iteration=1, teacher=teacher), IterationMetrics(iteration=2, teacher=teacher)]
    stages = usage_report(_context(cache, tmp_path), iterations).stages
    assert stages["teacher.localise"] == StageUsage(calls=6, cached_calls=2, prompt_tokens=60, cached_prompt_tokens=20)
    assert stages["judge"] == StageUsage(calls=1, cached_calls=1, prompt_tokens=10, completion_tokens=1,
                                         cached_prompt_tokens=10, cached_completion_tokens=1)
    cache.close()


def test_the_call_log_wins_for_the_stages_it_holds(tmp_path: Path) -> None:
    cache = LLMCache(tmp_path / "llm_cache.sqlite")
    cache.log(_entry("teacher.localise", cached=False, tokens=7))
    from_results = {"teacher.localise": StageUsage(calls=9, prompt_tokens=99)}
    stages = usage_report(_context(cache, tmp_path), [IterationMetrics(iteration=1, teacher=from_results)]).stages
    assert stages == {"teacher.localise": StageUsage(calls=1, prompt_tokens=7, completion_tokens=1)}
    alone = usage_report(_context(None, tmp_path), [IterationMetrics(iteration=1, teacher=from_results)])
    assert alone.stages == from_results
    cache.close()
