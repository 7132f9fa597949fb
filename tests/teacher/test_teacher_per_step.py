"""Per-step baseline: asks step by step and stops at the first incorrect one."""

from __future__ import annotations

import asyncio

from edtune.llm.scripted import ScriptedClient
from edtune.records import Sample, StudentOutput
from edtune.teacher.per_step import PerStepLocator, PerStepOptions
from edtune.teacher.records import PerStepEvidence

OK = '{"correct": true, "reason": "fine"}'
BAD = '{"correct": false, "reason": "miscounted"}'


def test_first_incorrect_step_is_the_error(sample: Sample, student: StudentOutput) -> None:
    client = ScriptedClient([OK, BAD])
    location = asyncio.run(PerStepLocator(client).locate(sample, student))
    assert (location.step, location.outcome, location.method, location.calls) == (2, "found", "per_step", 2)
    assert location.reason == "miscounted"
    assert isinstance(location.evidence, PerStepEvidence)
    assert [(v.step, v.correct) for v in location.evidence.verdicts] == [(1, True), (2, False)]
    first, second = ("\n".join(str(m.content) for m in r.messages) for r in client.requests)
    assert "so far" not in first and "Step to judge:\nStep 1: I see a blue square." in first
    assert "Step 1: I see a blue square.\n\nStep to judge:\nStep 2: I see one red circle." in second
    assert all(r.template_name == "step_check" and r.template_hash == location.template_hash for r in client.requests)


def test_all_correct_uses_the_fallback(sample: Sample, student: StudentOutput) -> None:
    last = asyncio.run(PerStepLocator(ScriptedClient([OK] * 3)).locate(sample, student))
    assert (last.step, last.outcome, last.calls) == (3, "fallback", 3)
    locator = PerStepLocator(ScriptedClient([OK] * 3), PerStepOptions(fallback="none"))
    none = asyncio.run(locator.locate(sample, student))
    assert (none.step, none.outcome) == (None, "fallback")


def test_unusable_reply_fails_keeping_the_verdicts_so_far(sample: Sample, student: StudentOutput) -> None:
    client = ScriptedClient([OK, "yes", "yes"], max_reasks=1)
    location = asyncio.run(PerStepLocator(client).locate(sample, student))
    assert location.outcome == "failed" and location.step is None and location.calls == 3
    assert location.failure is not None and [a.raw for a in location.failure.attempts] == ["yes", "yes"]
    assert isinstance(location.evidence, PerStepEvidence) and len(location.evidence.verdicts) == 1
