"""env.json: the versions and machine a run executed on."""

from __future__ import annotations

from pathlib import Path

from edtune.environment import ENV_FILE, current, read_environments, record_environment


def test_current_names_the_packages_that_change_results() -> None:
    env = current()
    assert env.packages["torch"] is not None
    assert env.packages["transformers"] is not None
    assert env.torch_cpu_capability  # e.g. AVX2 / AVX512: float rounding differs between them


def test_same_environment_is_recorded_once(tmp_path: Path) -> None:
    record_environment(tmp_path)
    record_environment(tmp_path)
    assert len(read_environments(tmp_path)) == 1
    assert (tmp_path / ENV_FILE).is_file()


def test_a_resume_on_other_versions_is_appended(tmp_path: Path) -> None:
    first = record_environment(tmp_path)[0]
    other = first.model_copy(update={"packages": {**first.packages, "transformers": "0.0.0"}})
    written = record_environment(tmp_path, other)
    assert [e.packages["transformers"] for e in written] == [first.packages["transformers"], "0.0.0"]
    assert read_environments(tmp_path) == written


def test_run_without_env_file_reads_empty(tmp_path: Path) -> None:
    assert read_environments(tmp_path) == []
