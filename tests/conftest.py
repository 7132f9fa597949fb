"""Fixtures shared by every test folder."""

from __future__ import annotations

import pytest
from tiny_encoders import SaveEncoders, save_tiny_encoders


@pytest.fixture(scope="session", name="save_tiny_encoders")
def save_tiny_encoders_fixture() -> SaveEncoders:
    """`(out, texts) -> (image_dir, text_dir)`: tiny DINOv2 and BERT checkpoints saved under `out`."""
    return save_tiny_encoders
