"""Progress bars of the loop: the training stage's per-step bar (through `Student.train`'s `on_step`), the
spinner fallback for students without it, bars staying off when `show_bars` is off, and the switch's old name
`progress`."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import pytest

from edtune.loop import RunConfig, adapt
from edtune.loop.bars import step_bar
from edtune.loop.config import validate_config
from edtune.records import Sample
from edtune.student.base import LoraTrainConfig, TrainStats
from loop.fakes import FamilyStudent, scripted_teacher


class SteppingStudent(FamilyStudent):
    """The family student, reporting three optimiser steps per `train` call when asked to."""

    def __init__(self) -> None:
        super().__init__()
        self.reporters: list[object] = []

    def train(self, samples: Sequence[Sample], image_root: Path, config: LoraTrainConfig, *, seed: int,
              replay: Sequence[Sample] = (), replay_root: Path | None = None,
              on_step: Any = None) -> TrainStats:
        self.reporters.append(on_step)
        for done in (1, 2, 3):
            if on_step is not None:
                on_step(done, 3, 1.0 / done)
        return super().train(samples, image_root, config, seed=seed, replay=replay, replay_root=replay_root)


def progress_config(world: Path) -> RunConfig:
    """PROGRESS with 4 tracking and 8 warm-up clusters; budget 24 is a warm-up of 6, then rounds of 8, 8, 2."""
    data = {"val": {"path": str(world / "counting_val.jsonl")}, "pool": {"path": str(world / "pool.jsonl")}}
    settings = {"k_tracking": 4, "k_warmup": 8, "round_size": 8, "warmup_fraction": 0.25, "eval_per_cluster": 5}
    return validate_config({"method": "progress", "data": data, "progress": settings}, "test")


def run(world: Path, run_dir: Path, student: FamilyStudent, *, show_bars: bool) -> None:
    adapt(student, world / "counting_val.jsonl", world / "pool.jsonl", teacher=scripted_teacher(), budget=8,
          iterations=2, run_dir=run_dir, show_bars=show_bars)


def test_training_reports_steps_only_with_progress_on(world: Path, tmp_path: Path) -> None:
    shown = SteppingStudent()
    run(world, tmp_path / "on", shown, show_bars=True)
    assert len(shown.reporters) == 2 and all(callable(r) for r in shown.reporters)
    quiet = SteppingStudent()
    run(world, tmp_path / "off", quiet, show_bars=False)
    assert quiet.reporters == [None, None]


def test_the_old_name_of_the_switch_still_works_with_a_warning(world: Path, tmp_path: Path) -> None:
    quiet = SteppingStudent()
    with pytest.warns(DeprecationWarning, match="`progress` argument is now `show_bars`"):
        adapt(quiet, world / "counting_val.jsonl", world / "pool.jsonl", teacher=scripted_teacher(), budget=8,
              iterations=2, run_dir=tmp_path / "run", progress=False)
    assert quiet.reporters == [None, None]


def test_a_student_without_on_step_still_trains_with_progress_on(world: Path, tmp_path: Path) -> None:
    student = FamilyStudent()  # its train() predates on_step: the loop must not pass it
    run(world, tmp_path / "run", student, show_bars=True)
    assert len(student.trained) == 2


def test_step_bar_learns_the_total_and_shows_the_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.progress import Progress

    updates: list[dict[str, Any]] = []
    original = Progress.update
    monkeypatch.setattr(Progress, "update", lambda self, task, **kw: (updates.append(kw), original(self, task, **kw)))
    with step_bar("training", enabled=True) as report:
        report(1, 4, 2.5)
        report(2, 4, 1.25)
    assert updates == [{"completed": 1, "total": 4, "loss": "2.5000"}, {"completed": 2, "total": 4, "loss": "1.2500"}]
    updates.clear()
    with step_bar("training", enabled=False) as report:
        report(1, 4, 2.5)
    assert updates == []


def test_progress_method_shows_bars_for_features_kmeans_and_evaluation(world: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from edtune.loop import rundir
    from edtune.methods.progress import pool

    shown: dict[str, int | None] = {}
    advanced: dict[str, int] = {}

    def record_bar(description: str, total: int, *, enabled: bool, done: int = 0) -> Any:
        assert enabled
        shown[description], advanced[description] = total, 0

        @contextmanager
        def bar() -> Iterator[Callable[[int], None]]:
            yield lambda n: advanced.__setitem__(description, advanced[description] + n)

        return bar()

    def record_spinner(description: str, *, enabled: bool) -> Any:
        assert enabled
        shown[description] = None
        return nullcontext()

    monkeypatch.setattr(pool, "progress_bar", record_bar)
    monkeypatch.setattr(pool, "working", record_spinner)
    monkeypatch.setattr(rundir, "progress_bar", record_bar)  # results files fill through append_missing
    adapt(FamilyStudent(), world / "counting_val.jsonl", world / "pool.jsonl", teacher=None, budget=24,
          run_dir=tmp_path / "run", config=progress_config(world), show_bars=True)
    assert shown["PROGRESS: embedding the pool"] == advanced["PROGRESS: embedding the pool"] == 80
    assert shown["PROGRESS: tracking k-means, k=4 over 80 samples"] is None
    assert shown["PROGRESS: warmup k-means, k=8 over 80 samples"] is None
    for which in ("previous", "current"):
        answered = f"iteration 2: PROGRESS evaluation ({which}), answering"
        judged = f"iteration 2: PROGRESS evaluation ({which}), judging"
        assert shown[answered] == shown[judged] == advanced[judged] > 0
