"""Shared fixtures for the teacher task tests: one multiple-choice sample and a wrong student output."""

from __future__ import annotations

import pytest

from edtune.records import Sample, StudentOutput


@pytest.fixture
def sample() -> Sample:
    return Sample(id="s1", question="How many red circles are there?", choices=["1", "2", "3"], answer="2",
                  metadata={"scene_text": "two red circles and a blue square"})


@pytest.fixture
def student() -> StudentOutput:
    steps = ["I see a blue square.", "I see one red circle.", "So there is 1 red circle."]
    return StudentOutput(sample_id="s1", raw_text="", steps=steps, answer="1")
