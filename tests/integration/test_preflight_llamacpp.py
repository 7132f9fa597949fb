"""The run-start preflight against real servers (SmolLM2-135M, text-only, served by llama.cpp; vLLM when
the CI stage provides it): a text-only model's refusal of images is recognised at once, without retries."""

from __future__ import annotations

import pytest

from edtune.llm.openai_client import OpenAICompatibleClient
from edtune.teacher.preflight import run_checks

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


async def test_a_text_only_model_fails_the_images_check_at_once(llm: OpenAICompatibleClient) -> None:
    results = await run_checks(llm, ["images", "logprobs"])
    by_check = {r.check: r for r in results}
    assert by_check["reachable"].passed, by_check["reachable"].detail
    images = by_check["images"]
    assert not images.passed and images.failure == "unsupported_input" and images.tries == 1, images
    assert by_check["logprobs"].passed, by_check["logprobs"].detail  # both servers return top_logprobs
