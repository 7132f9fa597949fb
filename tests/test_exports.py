"""What `edtune` exports at the top level, and that importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import edtune
from edtune.judging.base import Judge
from edtune.llm.base import LLMClient
from edtune.loop.api import adapt, resume
from edtune.loop.config import RunConfig
from edtune.methods.base import Method
from edtune.retrieval.base import Retriever
from edtune.student.base import Student


def test_the_parts_a_user_swaps_are_exported() -> None:
    exported = {"Student": Student, "LLMClient": LLMClient, "Judge": Judge, "Retriever": Retriever,
                "Method": Method, "RunConfig": RunConfig, "adapt": adapt, "resume": resume}
    for name, obj in exported.items():
        assert getattr(edtune, name) is obj
        assert name in edtune.__all__
    assert all(hasattr(edtune, name) for name in edtune.__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Teacher'"):
        edtune.Teacher  # noqa: B018


def test_import_edtune_does_not_load_torch_or_the_loop() -> None:
    code = ("import sys, edtune\n"
            "print(sorted(m for m in ('torch', 'transformers', 'edtune.loop', 'edtune.judging') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
