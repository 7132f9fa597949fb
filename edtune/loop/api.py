"""`edtune.adapt`: adapt a student to a new task from its errors, in one call.

    result = edtune.adapt("path/to/hf-checkpoint", "val.jsonl", "pool.jsonl",
                          teacher="vllm/Qwen/Qwen2.5-VL-7B-Instruct@http://127.0.0.1:8000/v1",
                          judge="exact", test="test.jsonl", budget=500, iterations=3, run_dir="runs/a")
    result.test_accuracy, result.adapter            # final score, and the LoRA adapter folder

Everything the run does lands in `run_dir` (see `edtune.loop.rundir`). Calling `adapt` again with the
same arguments, or `resume(run_dir)`, continues a run that was interrupted. One process at a time owns a
run directory (`edtune.loop.ownership`): a second call on it while the first runs raises RunDirBusy, and
a run continues only in a directory that passes `edtune.loop.consistency.check_run_dir`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

from edtune.environment import record_environment
from edtune.errors import ConfigError
from edtune.judging.base import Judge
from edtune.llm.base import LLMClient
from edtune.loop.config import DataFile, RunConfig, TrainingSettings, validate_config
from edtune.loop.consistency import check_run_dir
from edtune.loop.context import RunContext
from edtune.loop.loop import final_adapter, run_loop
from edtune.loop.memory_data import InMemoryData, as_in_memory, memory_data_file, write_in_memory
from edtune.loop.metrics import RunMetrics
from edtune.loop.ownership import own_run_dir
from edtune.loop.preflight import preflight
from edtune.loop.rundir import RunDir
from edtune.methods import needs_teacher
from edtune.records import Record
from edtune.student.base import Student
from edtune.student.devices import require_device

if TYPE_CHECKING:
    import datasets

DataLike: TypeAlias = "str | Path | DataFile | InMemoryData | datasets.Dataset | datasets.DatasetDict"
"""A data file path (image root: its folder), a DataFile with explicit settings (image root, format, split,
column map ...), or an in-memory Hugging Face dataset: a Dataset, a DatasetDict with one split, or
`InMemoryData` (a split, a column map ...), written into the run directory (`edtune.loop.memory_data`)."""
OBJECT_PREFIX = "object:"
"""Recorded as the student path when a Student object was passed: it cannot be rebuilt from the config."""


class AdaptResult(Record):
    """What `adapt` returns: where the run is, how it ended, and the numbers a user looks at first."""

    run_dir: Path
    """The run directory (config, outputs, selections, adapters, metrics)."""
    method: str
    """The selection method used."""
    stopped: str
    """Why the loop ended: iterations, budget, no_errors or nothing_selected."""
    adapter: Path | None
    """The LoRA adapter folder the run keeps (`RunConfig.keep`); None when nothing was trained or the
    pretrained student scored best on validation."""
    pretrained_accuracy: float | None
    """Test accuracy before tuning (None without a test set)."""
    test_accuracy: float | None
    """Test accuracy with the kept adapter, over every test question (None without a test set)."""
    test_unscored_share: float | None = None
    """Share of those test questions the judge failed on, counted as not correct (None without a test set)."""
    samples_used: int
    """Pool samples selected in all (also those only adapters the run did not keep trained on)."""
    pool_fraction: float
    """`samples_used` / pool size."""
    metrics: RunMetrics
    """Every iteration's metrics (also in run_dir/metrics.json)."""


def _data_file(value: str | Path | DataFile) -> dict[str, Any]:
    if isinstance(value, DataFile):
        return value.model_dump(mode="json")
    return {"path": str(Path(value).resolve())}


def _files(given: dict[str, Any], memory: dict[str, InMemoryData],
           root: Path) -> dict[str, str | Path | DataFile | None]:
    """The data file of each split: as given, or where its in-memory dataset is written in the run."""
    files: dict[str, str | Path | DataFile | None] = {}
    for split, value in given.items():
        if split in memory:
            files[split] = memory_data_file(memory[split], root, split)
        elif value is None or isinstance(value, str | Path | DataFile):
            files[split] = value
        else:
            raise ConfigError(f"{split}: expected a data file path, a DataFile, InMemoryData or a datasets.Dataset, "
                              f"got {type(value).__name__}")
    return files


def merged_config(config: RunConfig | None, overrides: dict[str, Any],
                  data: dict[str, str | Path | DataFile | None]) -> RunConfig:
    """`config` (RunConfig's defaults when None) with the fields named in `overrides` and the data sets in
    `data` replaced; a None value leaves the config's field as it is. A data set given replaces the
    config's whole entry for it (path, image root, format and family field)."""
    # Every field is dumped, None included: dropping None would reset fields whose None means something
    # (no gradient clipping, all CPU threads) to their defaults.
    base = config.model_dump(mode="json") if config is not None else {}
    base["data"] = {**base.get("data", {}), **{k: _data_file(v) for k, v in data.items() if v is not None}}
    base.update({k: v for k, v in overrides.items() if v is not None})
    return validate_config(base, "adapt() arguments")


def _spec(value: LLMClient | Judge | str | None) -> str | None:
    """The config value of a teacher or judge argument: a spec string as given, an object's name."""
    return value if isinstance(value, str) or value is None else value.name


def adapt(student: Student | str | Path, val: DataLike, pool: DataLike, *,
          teacher: LLMClient | str | None = None, judge: Judge | str | None = None, test: DataLike | None = None,
          budget: int | None = None, iterations: int | None = None, run_dir: str | Path,
          config: RunConfig | None = None, method: str | None = None, replay: DataLike | None = None,
          training: TrainingSettings | None = None, show_bars: bool = True,
          teacher_images: bool | None = None, teacher_logprobs: bool | None = None,
          teacher_preflight: bool | None = None, progress: bool | None = None) -> AdaptResult:
    """Run (or continue) an adaptation; see the module docstring.

    `student` is a checkpoint folder, "bundled", or a `Student` object; `teacher` and `judge` are spec
    strings (their calls are cached in the run directory) or objects. An argument given here replaces the
    same field of `config`; an argument left out (None) keeps `config`'s value, or RunConfig's default
    without a config (judge "exact", no teacher, method "error_driven"). `student` always replaces
    `config.student.path` and keeps its other settings. `teacher_images` and `teacher_logprobs` set
    `RunConfig.teacher_images` and `localise.teacher_logprobs`: False for a text-only teacher, or one whose
    server returns no logprobs (left out, a teacher spec file's `images` / `logprobs` decide).

    `val`, `pool`, `test` and `replay` are data files or in-memory datasets (see `DataLike`). `training`
    replaces `config.training` (left out: the config's, or `TrainingSettings`' defaults: a floor of
    optimiser steps per call, and `replay`'s samples mixed in at `replay_ratio`).
    `teacher_preflight` sets `RunConfig.teacher_preflight`: False skips the run-start check of the teacher
    (an offline or replayed run). `show_bars` draws progress bars on stderr (`edtune.loop.bars`);
    `progress` is its old name, still taken with a DeprecationWarning.
    """
    show_bars = _bars(show_bars, progress)
    student_obj = student if not isinstance(student, str | Path) else None
    student_path = OBJECT_PREFIX + type(student).__name__ if student_obj is not None else str(student)
    settings = (config.student.model_dump(mode="json") if config is not None else {}) | {"path": student_path}
    overrides = {"student": settings, "budget": budget, "iterations": iterations, "method": method,
                 "teacher": _spec(teacher), "judge": _spec(judge), "teacher_images": teacher_images,
                 "teacher_preflight": teacher_preflight,
                 "training": training.model_dump(mode="json") if training is not None else None}
    if teacher_logprobs is not None:
        localise = config.localise.model_dump(mode="json") if config is not None else {}
        overrides["localise"] = localise | {"teacher_logprobs": teacher_logprobs}
    run = RunDir(run_dir)
    given = {"val": val, "pool": pool, "test": test, "replay": replay}
    memory = {split: found for split, value in given.items() if (found := as_in_memory(value)) is not None}
    cfg = merged_config(config, overrides, _files(given, memory, run.root))
    with own_run_dir(run.root):
        started = run.exists()
        for split, data in memory.items():
            write_in_memory(data, memory_data_file(data, run.root, split), split, run_started=started)
        run.write_config(cfg)
        return _run(cfg, run, show_bars=show_bars, student=student_obj, teacher=None if isinstance(teacher, str)
                    else teacher, judge=None if isinstance(judge, str) else judge)


def run_config(config: RunConfig, run_dir: str | Path, *, show_bars: bool = True,
               progress: bool | None = None) -> AdaptResult:
    """Start (or continue) a run from a complete config, as `edtune run CONFIG` does (`show_bars`, and its
    deprecated name `progress`, as for `adapt`)."""
    show_bars = _bars(show_bars, progress)
    run = RunDir(run_dir)
    with own_run_dir(run.root):
        run.write_config(config)
        return _run(config, run, show_bars=show_bars)


def resume(run_dir: str | Path, *, student: Student | None = None, teacher: LLMClient | None = None,
           judge: Judge | None = None, show_bars: bool = True, progress: bool | None = None) -> AdaptResult:
    """Continue the run in `run_dir` from its config snapshot. A run started with objects (a Student, a
    client, a judge) needs the same objects again; spec strings and checkpoint paths are rebuilt.
    `show_bars` (and its deprecated name `progress`) as for `adapt`."""
    show_bars = _bars(show_bars, progress)
    run = RunDir(run_dir)
    config = run.read_config()
    with own_run_dir(run.root):
        return _run(config, run, show_bars=show_bars, student=student, teacher=teacher, judge=judge)


def _bars(show_bars: bool, progress: bool | None) -> bool:
    """`show_bars`, or the value given by its old name `progress` (with a DeprecationWarning)."""
    if progress is None:
        return show_bars
    warnings.warn("the `progress` argument is now `show_bars` (`progress` will be removed in the next release)",
                  DeprecationWarning, stacklevel=3)
    return progress


def _run(config: RunConfig, run: RunDir, *, show_bars: bool, student: Student | None = None,
         teacher: LLMClient | None = None, judge: Judge | None = None) -> AdaptResult:
    if student is None and config.student.path.startswith(OBJECT_PREFIX):
        raise ConfigError(f"the run in {run.root} was started with a {config.student.path[len(OBJECT_PREFIX):]} "
                          "object as student; resume it from Python: edtune.loop.resume(run_dir, student=...)")
    _check_devices(config, student_given=student is not None)
    record_environment(run.root)
    ctx = RunContext(config, run, show_bars=show_bars, student_obj=student, teacher_obj=teacher, judge_obj=judge)
    try:
        check_run_dir(run)
        if needs_teacher(config.method) and config.teacher is not None:
            ctx.capabilities()  # a teacher asked for what its spec says it lacks is refused before model work
        ctx.validate_data()
        preflight(ctx)  # seconds: the teacher can do what the run needs, before the student's first answer
        metrics = run_loop(ctx)
    finally:
        ctx.close()
    return _result(run, metrics)


def _check_devices(config: RunConfig, *, student_given: bool) -> None:
    """Refuse a device this machine lacks now, not after hours of pool features or a long model load."""
    if not student_given:
        require_device(config.student.generation.device, "student.generation.device")
    if config.method == "progress" and config.progress.encoder == "hf":
        require_device(config.progress.encoder_device, "progress.encoder_device")


def _result(run: RunDir, metrics: RunMetrics) -> AdaptResult:
    final = final_adapter(metrics)
    first, spent = metrics.iterations[0], metrics.iterations[-1]
    kept = next(it for it in metrics.iterations if it.iteration == final)
    return AdaptResult(run_dir=run.root, method=metrics.method, stopped=metrics.stopped or "running",
                       adapter=run.adapter(final) if final else None,
                       pretrained_accuracy=first.test.accuracy if first.test else None,
                       test_accuracy=kept.test.accuracy if kept.test else None,
                       test_unscored_share=kept.test.unscored_share if kept.test else None,
                       samples_used=spent.samples_used, pool_fraction=spent.pool_fraction, metrics=metrics)
