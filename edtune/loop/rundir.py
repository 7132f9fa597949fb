"""The run directory: one folder holding everything a run did, enough to resume it or report on it.

    config.json                   the RunConfig snapshot (absolute paths), written once at the start
    env.json                      versions and machine of each process that ran it (edtune.environment)
    state.json                    finished stages ("003/locate" ...) and why the run stopped
    llm_cache.sqlite              teacher and judge replies + call log (spec-string clients only)
    usage.json                    tokens and calls per stage, summed from the records (see metrics)
    run.log                       what the run decided or ran into, in words, a line each (`edtune.loop.runlog`)
    preflight.jsonl               PreflightRecord per run-start check of the teacher (`edtune.loop.preflight`)
    localisation.json             which localisation the run uses and why (`LocalisationChoice`)
    pool_annotations.jsonl        SkillAnnotation per pool sample the teacher annotated (`retrieval.annotate`)
    metrics.json                  RunMetrics: one IterationMetrics per iteration, the report's source
    iterations/000/               the pretrained student, before any tuning (test set only)
    iterations/NNN/               iteration NNN (1-based):
        val_outputs.jsonl         StudentOutput per validation sample
        val_judgments.jsonl       Judgment per validation sample
        locations.jsonl           StepLocation per error (teacher localisation)
        random_steps.jsonl        RandomStep per error (ablation_random_step instead of locations)
        skills.jsonl              SkillAnalysis per located error
        quotas.jsonl              SkillQuota per missing skill: errors naming it, quota, samples it got
        selection.jsonl           ChosenSample per selected pool sample (matched skill, score, rank)
        test_outputs.jsonl        StudentOutput per test sample, with this iteration's adapter
        test_judgments.jsonl      Judgment per test sample
        metrics.json              IterationMetrics of this iteration
    adapters/NNN/                 the LoRA adapter after iteration NNN, with train.json (TrainRecord)
    adapters/.NNN.*               scratch folder of a save in progress; removed when a run (re)starts
    data/                         in-memory datasets given to `adapt`, as Sample JSONL + their images
                                  (`edtune.loop.memory_data`); absent when every data set is a file
    run.lock, owner.json          held by the one process running in the folder (`edtune.loop.ownership`)
    takeovers.jsonl               each takeover from a process that was killed holding the folder

Every whole file is written atomically and durably (`edtune.atomic`), every JSONL is append-only and
crash-safe (`edtune.jsonl`).
A stage is marked finished in state.json only after its outputs are complete; an adapter folder appears
by one rename, so its presence is the proof that its training step finished.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path

from pydantic import Field, ValidationError

from edtune.atomic import atomic_folder, atomic_write_json, atomic_write_text
from edtune.errors import ConfigError, DataError
from edtune.jsonl import append_jsonl, read_jsonl
from edtune.loop.bars import progress_bar
from edtune.loop.config import RunConfig, config_error
from edtune.loop.ownership import OWNERSHIP_FILES
from edtune.records import Record, Sample
from edtune.student.base import LoraTrainConfig, TrainStats

FORMAT_VERSION = 1
DATA_DIR = "data"
"""Folder holding the in-memory datasets written for the run (see `edtune.loop.memory_data`)."""


class RunState(Record):
    """state.json: the stages a run has finished."""

    format_version: int = FORMAT_VERSION
    """Run-directory layout version; a reader refuses versions it does not know."""
    done: list[str] = Field(default_factory=list)
    """Finished stage keys "<iteration:03d>/<stage>", in the order they finished."""
    stopped: str | None = None
    """Why the loop ended (iterations, budget, no_errors, nothing_selected, pool_exhausted); None while running."""


class RandomStep(Record):
    """ablation_random_step: the step drawn at random for one error instead of asking the teacher."""

    sample_id: str
    """The validation sample the error is on."""
    n_steps: int
    """Steps in the student's rationale."""
    step: int | None
    """The 1-based step drawn uniformly from 1..n_steps; None when the rationale has no steps."""


class TrainRecord(Record):
    """train.json inside an adapter folder: what that training call used and did."""

    iteration: int
    """The iteration the adapter belongs to."""
    train_ids: list[str]
    """Pool sample ids trained on, in the order given to the student."""
    replay_ids: list[str]
    """Replay sample ids mixed in."""
    seed: int
    """The seed passed to `Student.train` (derived from the run seed and the iteration)."""
    stats: TrainStats
    """What the student reported."""
    lora: LoraTrainConfig | None = None
    """The LoRA settings the call was given: the run's, or under `training.schedule = "run"` with the
    call's stretch of the run's LR curve. None in adapters saved before it was recorded."""


class RunDir:
    """Paths and state of one run directory (see the module docstring for the layout)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    @property
    def config_path(self) -> Path:
        return self.root / "config.json"

    @property
    def state_path(self) -> Path:
        return self.root / "state.json"

    @property
    def cache_path(self) -> Path:
        return self.root / "llm_cache.sqlite"

    @property
    def metrics_path(self) -> Path:
        return self.root / "metrics.json"

    @property
    def usage_path(self) -> Path:
        return self.root / "usage.json"

    def iteration(self, i: int) -> Path:
        """Folder of iteration `i` (0 = the pretrained student)."""
        return self.root / "iterations" / f"{i:03d}"

    def file(self, i: int, name: str) -> Path:
        """A file of iteration `i`, e.g. file(2, "selection.jsonl")."""
        return self.iteration(i) / name

    def adapter(self, i: int) -> Path:
        """The adapter folder of iteration `i`; it exists only once its training finished."""
        return self.root / "adapters" / f"{i:03d}"

    # ---- config snapshot ------------------------------------------------------------------------

    def exists(self) -> bool:
        """Whether a run was started here (its config snapshot exists)."""
        return self.config_path.is_file()

    @property
    def annotations_path(self) -> Path:
        return self.root / "pool_annotations.jsonl"

    def started(self) -> bool:
        """Whether the run got past its start checks: a stage finished, an iteration folder or the pool's
        annotations exist. A run refused at start (bad data, a failed teacher preflight) has not."""
        return bool(self.state().done) or (self.root / "iterations").exists() or self.annotations_path.exists()

    def write_config(self, config: RunConfig) -> None:
        """Snapshot the config; refuses a folder holding another run or other files. A run that never got
        past its start checks takes the new config, so the setting a start error named can be changed."""
        if self.exists():
            if self.read_config() != config and not self.started():
                (self.root / "localisation.json").unlink(missing_ok=True)  # stated for the old config
                atomic_write_json(self.config_path, config)
            elif self.read_config() != config:
                raise ConfigError(f"{self.root} holds a run with a different config; resume it with "
                                  f"`edtune resume {self.root}` or choose a new run directory")
            return
        # data/ may be there already: in-memory datasets are written (and so checked) before the config
        if self.root.exists() and any(p.name not in {*OWNERSHIP_FILES, DATA_DIR} for p in self.root.iterdir()):
            raise ConfigError(f"{self.root} is not empty and holds no run; choose a new run directory")
        atomic_write_json(self.config_path, config)
        atomic_write_json(self.state_path, RunState())

    def read_config(self) -> RunConfig:
        """The snapshot; ConfigError naming the file when missing or invalid."""
        if not self.exists():
            raise ConfigError(f"no run in {self.root} (config.json missing)")
        try:
            return RunConfig.model_validate_json(self.config_path.read_text(encoding="utf-8"), strict=True)
        except ValidationError as exc:
            raise config_error(str(self.config_path), exc) from None

    # ---- stage state ----------------------------------------------------------------------------

    def state(self) -> RunState:
        """state.json as it is on disk."""
        try:
            state = RunState.model_validate_json(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise DataError(f"unreadable run state: {exc}", file=str(self.state_path)) from exc
        if state.format_version != FORMAT_VERSION:
            raise DataError(f"unknown run format_version {state.format_version}", file=str(self.state_path),
                            field="format_version")
        return state

    def is_done(self, key: str) -> bool:
        return key in self.state().done

    def mark_done(self, key: str) -> None:
        """Record that stage `key` finished (atomic rewrite of state.json)."""
        state = self.state()
        if key not in state.done:
            state.done.append(key)
            atomic_write_json(self.state_path, state)

    def mark_stopped(self, reason: str) -> None:
        state = self.state()
        state.stopped = reason
        atomic_write_json(self.state_path, state)

    # ---- adapters -------------------------------------------------------------------------------

    def new_adapter(self, i: int) -> AbstractContextManager[Path]:
        """A scratch folder to save iteration `i`'s adapter into; renamed into place only when the block
        ends without error, so a crash never leaves a half-written adapter at `adapter(i)`."""
        return atomic_folder(self.adapter(i))

    def train_record(self, i: int) -> TrainRecord | None:
        """train.json of iteration `i`'s adapter, or None when that training has not finished."""
        path = self.adapter(i) / "train.json"
        if not path.is_file():
            return None
        return TrainRecord.model_validate_json(path.read_text(encoding="utf-8"))

    def sweep_scratch(self) -> None:
        """Delete scratch adapter folders left by a killed process."""
        for stale in (self.root / "adapters").glob(".*"):
            shutil.rmtree(stale, ignore_errors=True)


def repair_tail(path: Path, model: type[Record]) -> None:
    """Before appending to a JSONL file a killed process was writing: drop a torn last line (atomically
    rewriting the complete records), so the next append does not glue onto half a record."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    with path.open("rb") as handle:
        handle.seek(-1, os.SEEK_END)
        if handle.read(1) == b"\n":
            return
    records = read_jsonl(path, model)
    atomic_write_text(path, "".join(r.model_dump_json() + "\n" for r in records))


def read_ids(path: Path) -> list[str]:
    """The `sample_id` of every complete line of a JSONL results file, in file order."""
    return [r.sample_id for r in read_jsonl(path, _Keyed)]


Produce = Callable[[Sequence[Sample]], Sequence[Record]]
"""Makes the result records of one chunk of samples (student outputs, judgments, scores)."""


def append_missing(path: Path, model: type[Record], samples: Sequence[Sample], chunk_size: int,
                   start: Callable[[], Produce], *, description: str, show_bars: bool) -> None:
    """Append the records of every sample of `samples` that has none in the JSONL results file `path` yet,
    `chunk_size` samples at a time, with a progress bar. `start` is called once, and only when something is
    missing, so a student adapter is attached or earlier outputs are read only when needed. A process
    killed half-way resumes at the first sample without a record and repeats no finished chunk."""
    repair_tail(path, model)
    done = set(read_ids(path))
    todo = [s for s in samples if s.id not in done]
    if not todo:
        return
    produce = start()
    with progress_bar(description, len(samples), enabled=show_bars, done=len(samples) - len(todo)) as advance:
        for begin in range(0, len(todo), chunk_size):
            chunk = todo[begin:begin + chunk_size]
            append_jsonl(path, produce(chunk))
            advance(len(chunk))


class _Keyed(Record, extra="ignore"):
    sample_id: str
