"""The method registry is the one list: built-in packages, entry points loaded lazily, the config's method
field and teacher check derived from it; a third-party method added in one folder runs through `adapt`."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest
from loop.fakes import FamilyStudent, tiny_world

from edtune.errors import ConfigError, UserError
from edtune.jsonl import read_jsonl
from edtune.loop import adapt
from edtune.loop.config import validate_config
from edtune.loop.rundir import RunDir
from edtune.loop.stages_select import read_selection
from edtune.methods import methods, needs_teacher
from edtune.records import Sample

BUILT_IN = ["ablation_random_samples", "ablation_random_step", "ablation_step_text", "el2n", "error_driven",
            "full", "perplexity", "progress", "random", "skill_progress"]
PLUGINS = Path(__file__).parent / "plugins"
DATA = {"val": {"path": "val.jsonl"}, "pool": {"path": "pool.jsonl"}}


@pytest.fixture
def plugin_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first_n package installed (on sys.path with its dist-info); the registry restored afterwards."""
    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.setattr(methods, "_factories", dict(methods._factories))
    monkeypatch.delitem(sys.modules, "edtune_first_n", raising=False)
    methods.discover()


def test_every_built_in_package_registers_its_methods() -> None:
    assert set(BUILT_IN) <= set(methods.names())
    for name in BUILT_IN:
        assert methods.create(name).name == name


def test_the_teacher_check_is_each_methods_own_declaration() -> None:
    without = {name for name in BUILT_IN if not needs_teacher(name)}
    assert without == {"random", "full", "progress", "el2n", "perplexity"}
    with pytest.raises(ConfigError, match="method 'skill_progress' needs a teacher spec"):
        validate_config({"method": "skill_progress", "data": DATA}, "run.toml")
    assert validate_config({"method": "el2n", "data": DATA}, "run.toml").teacher is None


def test_an_unknown_method_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config({"method": "erro_driven", "data": DATA}, "run.toml")
    message = str(caught.value)
    assert message.startswith("run.toml: invalid run config: field 'method': unknown selection method 'erro_driven'")
    assert "known: " + ", ".join(methods.names()) in message


def test_an_entry_point_method_is_listed_without_being_imported(plugin_on_path: None) -> None:
    assert "first_n" in methods.names()
    assert "edtune_first_n" not in sys.modules  # listed from the metadata; imported when a run builds it
    assert not needs_teacher("first_n")
    assert "edtune_first_n" in sys.modules


def test_a_method_in_one_folder_runs_end_to_end(plugin_on_path: None, tmp_path: Path) -> None:
    world = tiny_world(tmp_path / "world")
    student = FamilyStudent()
    result = adapt(student, world / "counting_val.jsonl", world / "pool.jsonl", method="first_n", budget=10,
                   iterations=2, test=world / "counting_test.jsonl", run_dir=tmp_path / "run", show_bars=False)
    pool = [s.id for s in read_jsonl(world / "pool.jsonl", Sample)]
    run = RunDir(tmp_path / "run")
    assert [c.sample_id for c in read_selection(run, 1)] == pool[:5]
    assert [c.sample_id for c in read_selection(run, 2)] == pool[5:10]
    assert student.trained == [pool[:5], pool[:10]]  # cumulative training, as for every method
    assert result.method == "first_n" and result.samples_used == 10 and result.stopped == "iterations"


def test_a_broken_entry_point_is_a_clear_error(plugin_on_path: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    broken = importlib.metadata.EntryPoint("broken", "edtune_no_such_module:factory", "edtune.methods")
    monkeypatch.setattr("edtune.methods.registry.entry_points", lambda group: [broken])
    methods.discover()
    with pytest.raises(UserError, match=r"selection method 'broken' .*cannot be imported: ModuleNotFoundError"):
        methods.create("broken")


def test_progress_settings_the_loop_ignores_are_dropped_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match=r"progress.budget_fraction and progress.seed did nothing"):
        config = validate_config({"method": "progress", "data": DATA,
                                  "progress": {"budget_fraction": 0.5, "seed": 7}}, "run.toml")
    assert "budget_fraction" not in config.progress.model_dump() and "seed" not in config.progress.model_dump()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the old defaults, as every config snapshot of an older run holds them
        validate_config({"method": "progress", "data": DATA,
                         "progress": {"budget_fraction": 0.2, "seed": 1234}}, "run.toml")
