"""`adapt(config=...)`: an argument left out keeps the config's field; an argument given replaces it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import edtune.loop.api as api
from edtune.judging.numeric import NumericJudge
from edtune.loop import RunConfig, adapt
from edtune.loop.config import DataFile, TrainingSettings, validate_config
from edtune.loop.rundir import RunDir
from edtune.student.base import LoraTrainConfig
from loop.fakes import FamilyStudent


class Stop(Exception):
    """Raised instead of running the loop: these tests only look at the config adapt() settles on."""


def _stop(*args: object, **kwargs: object) -> None:
    raise Stop


def user_config(tmp_path: Path) -> RunConfig:
    """A config differing from RunConfig's defaults in every field adapt() has an argument for, and in a
    few whose None means something (no gradient clipping, torch's own thread count)."""
    data = {name: {"path": str(tmp_path / f"config_{name}.jsonl"), "image_root": str(tmp_path / "images")}
            for name in ("val", "pool", "test", "replay")}
    return validate_config({
        "method": "ablation_step_text", "seed": 5, "budget": 40, "iterations": 4, "judge": "choice",
        "teacher": "openai/config-teacher@http://127.0.0.1:9/v1", "data": data,
        "student": {"path": "bundled", "batch_size": 8, "generation": {"num_threads": None}},
        "training": {"lora": {"max_grad_norm": None}}, "localise": {"method": "per_step"},
    }, "test")


def settled(run_dir: Path, config: RunConfig, monkeypatch: pytest.MonkeyPatch, **given: Any) -> RunConfig:
    """The config adapt() writes to `run_dir` for these arguments (val and pool: the config's own, unless
    given)."""
    monkeypatch.setattr(api, "_run", _stop)
    arguments: dict[str, Any] = {"val": config.data.val.model_copy(), "pool": config.data.pool.model_copy(), **given}
    with pytest.raises(Stop):
        adapt("bundled", run_dir=run_dir, config=config, show_bars=False, **arguments)
    return RunDir(run_dir).read_config()


def test_no_argument_given_keeps_the_whole_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = user_config(tmp_path)
    assert settled(tmp_path / "run", config, monkeypatch) == config


FIELDS: list[tuple[str, Any, Any, Any]] = [
    # argument, value given, how to read it from the settled config, the value read
    ("judge", "numeric", lambda c: c.judge, "numeric"),
    ("judge", NumericJudge(), lambda c: c.judge, "numeric"),
    ("teacher", "openai/given-teacher@http://127.0.0.1:9/v1", lambda c: c.teacher,
     "openai/given-teacher@http://127.0.0.1:9/v1"),
    ("budget", 7, lambda c: c.budget, 7),
    ("iterations", 2, lambda c: c.iterations, 2),
    ("method", "ablation_random_step", lambda c: c.method, "ablation_random_step"),
    ("test", "given_test.jsonl", lambda c: c.data.test.path.name, "given_test.jsonl"),
    ("replay", "given_replay.jsonl", lambda c: c.data.replay.path.name, "given_replay.jsonl"),
    ("training", TrainingSettings(replay_ratio=0.25, lora=LoraTrainConfig(min_steps=7)),
     lambda c: (c.training.replay_ratio, c.training.lora.min_steps), (0.25, 7)),
]


@pytest.mark.parametrize(("argument", "value", "read", "expected"), FIELDS, ids=lambda v: str(v)[:20])
def test_each_argument_survives_when_left_out_and_replaces_when_given(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argument: str, value: Any, read: Any, expected: Any) -> None:
    config = user_config(tmp_path)
    kept = settled(tmp_path / "left_out", config, monkeypatch)
    assert read(kept) == read(config) != expected
    if argument in ("test", "replay"):
        value = tmp_path / value
    replaced = settled(tmp_path / "given", config, monkeypatch, **{argument: value})
    assert read(replaced) == expected
    assert _without(replaced, argument) == _without(config, argument)


def _without(config: RunConfig, argument: str) -> dict[str, Any]:
    """The config's fields but the one `argument` sets."""
    fields = config.model_dump()
    (fields["data"] if argument in ("test", "replay") else fields).pop(argument)
    return fields


def test_val_pool_and_student_arguments_replace_only_their_fields(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    config = user_config(tmp_path)
    val = DataFile(path=tmp_path / "given_val.jsonl", format="jsonl")
    out = settled(tmp_path / "run", config, monkeypatch, val=val, pool=tmp_path / "given_pool.jsonl")
    assert out.data.val == val and out.data.pool == DataFile(path=(tmp_path / "given_pool.jsonl").resolve())
    assert out.data.test == config.data.test and out.data.replay == config.data.replay
    assert out.student.batch_size == 8 and out.student.generation.num_threads is None
    assert out.training.lora.max_grad_norm is None and out.localise.method == "per_step"


def test_without_a_config_the_defaults_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api, "_run", _stop)
    with pytest.raises(Stop):
        adapt(FamilyStudent(), tmp_path / "v.jsonl", tmp_path / "p.jsonl", method="random", run_dir=tmp_path / "r",
              show_bars=False)
    out = RunDir(tmp_path / "r").read_config()
    assert out.judge == "exact" and out.teacher is None and out.budget == RunConfig.model_fields["budget"].default
