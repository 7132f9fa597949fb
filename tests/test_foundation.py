"""The shared foundation: records, errors, registry, project dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from edtune.errors import DataError, UserError
from edtune.records import Sample
from edtune.registry import Registry
from edtune.settings import ENV_VAR, project_paths


def test_sample_refuses_unknown_fields_and_blank_answers() -> None:
    Sample(id="a", question="q?", answer="x")
    with pytest.raises(ValidationError):
        Sample(id="a", question="q?", answer="x", anwser="typo")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Sample(id="a", question="q?", answer="  ")


def test_data_error_names_file_row_field() -> None:
    err = DataError("missing", file="x.jsonl", row=3, field="answer")
    assert str(err) == "missing (file=x.jsonl, row=3, field=answer)"
    assert isinstance(err, UserError)


def test_registry_creates_by_name_and_lists_known_names() -> None:
    reg: Registry[int] = Registry("thing")
    reg.register("one")(lambda: 1)
    assert reg.create("one") == 1
    with pytest.raises(UserError, match="known: one"):
        reg.create("two")
    with pytest.raises(UserError, match="already registered"):
        reg.register("one")(lambda: 2)


def test_project_dir_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "prompts").mkdir()
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert project_paths().prompts == tmp_path.resolve() / "prompts"
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "nope"))
    with pytest.raises(UserError, match="does not exist"):
        project_paths()
