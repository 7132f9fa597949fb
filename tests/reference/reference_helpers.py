"""Student-like wrong rationales and a client runner for the reference-teacher tests.

Wrong rationales are gold rationales corrupted at a known step (one word swapped for a plausible
neighbour), so the ground truth of every teacher task is known in advance.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from edtune.llm.openai_client import OpenAICompatibleClient
from edtune.records import Sample, StudentOutput

REPO_ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

_SWAPS = {"red": "blue", "blue": "green", "green": "yellow", "yellow": "red", "small": "large",
          "large": "small", "left": "right", "right": "left", "top": "bottom", "bottom": "top",
          "same": "different", "different": "same", "circle": "square", "square": "triangle",
          "triangle": "circle", "no": "a", "a": "no", "above": "below", "below": "above"}
_WORD = re.compile(r"[a-z]+|\d+")


def corrupt_text(text: str) -> str:
    """The text with its last swappable word (or number) changed: a plausible misreading."""
    matches = [m for m in _WORD.finditer(text) if m.group() in _SWAPS or m.group().isdigit()]
    if not matches:
        return text + " twice"
    m = matches[-1]
    new = str(int(m.group()) + 1) if m.group().isdigit() else _SWAPS[m.group()]
    return text[: m.start()] + new + text[m.end():]


def wrong_answer(sample: Sample) -> str:
    """A wrong answer: another option, or a changed open answer."""
    if sample.choices:
        return next(c for c in sample.choices if c != sample.answer)
    return corrupt_text(sample.answer) if corrupt_text(sample.answer) != sample.answer else sample.answer + "x"


def corrupted(sample: Sample, step: int) -> StudentOutput:
    """The gold rationale with step `step` (1-based) misread and a wrong final answer."""
    steps = [s.text for s in sample.rationale or []]
    steps[step - 1] = corrupt_text(steps[step - 1])
    return StudentOutput(sample_id=sample.id, raw_text="", steps=steps, answer=wrong_answer(sample))


def client_for(base_url: str, model: str) -> OpenAICompatibleClient:
    return OpenAICompatibleClient(model, base_url, provider="reference", api_key_env="EDTUNE_REFERENCE_TEST_KEY",
                                  max_retries=0, timeout_s=30)


def run_with_client(base_url: str, model: str, job: Callable[[OpenAICompatibleClient], Awaitable[T]]) -> T:
    """Run `job(client)` on a fresh event loop with a client that is closed afterwards."""

    async def main() -> T:
        client = client_for(base_url, model)
        try:
            return await job(client)
        finally:
            await client.close()

    return asyncio.run(main())
