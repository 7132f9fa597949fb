"""One `Student.train` call run by `accelerate launch` on several processes (DDP, FSDP, DeepSpeed).

The calling process stays the owner of what it writes (the loop's run directory, which it keeps resuming
from): it writes a job folder (samples and replay as JSONL, the adapter to keep training, `job.json`),
starts `accelerate launch --config_file <file> -m edtune.student.train_worker <job.json>`, and reads back
what the launched main process wrote there: the adapter folder, renamed into place whole, then the
`TrainStats`, written atomically last. Only a launch that exits 0 with both is read. Every step is
reported on the children's stdout as an `edtune-step` line, which drives the caller's `on_step`. The
children run in a process group of their own, ended when the caller stops (an error, Ctrl-C, SIGTERM).
A config with `num_machines` above 1 is launched on that many machines of a Ray cluster instead
(`edtune.student.launch_ray`), with the same job folder, which the machines must share.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edtune.errors import ConfigError, LaunchFailed
from edtune.jsonl import append_jsonl
from edtune.records import Record, Sample
from edtune.student.base import LoraTrainConfig, StudentConfig, TrainStats
from edtune.student.training import StepCallback

SAMPLES = "samples.jsonl"
"""File of the job with the samples to train on."""
REPLAY = "replay.jsonl"
"""File of the job with the replay samples (empty when none)."""
STEP_LINE = "edtune-step"
"""Prefix of the progress lines a launched main process prints: `edtune-step <done> <total> <loss>`."""
ADAPTER = "adapter"
"""Folder of the job where the launched main process leaves the trained adapter."""
STATS = "stats.json"
"""File of the job with the call's `TrainStats`, written after the adapter."""
LOG = "launch.log"
"""The children's stderr (shown, its end, when the launch fails)."""
_TAIL = 40
"""Lines of the children's output an error carries."""


class TrainJob(Record):
    """What the launched processes are given (`job.json`); paths are absolute."""

    checkpoint: str
    """The student's checkpoint folder, loaded by every process."""
    student: StudentConfig
    """How to load it (its `accelerate_config` cleared: the children train where they are)."""
    lora: LoraTrainConfig
    """The training call's settings."""
    seed: int
    """The call's seed."""
    image_root: str
    """Folder the samples' images are read from."""
    replay_root: str | None
    """Folder the replay images are read from; None: `image_root`."""
    adapter: str | None
    """Adapter folder to keep training; None: the children create one."""
    out: str
    """The job folder: the samples are read from it (`SAMPLES`, `REPLAY`), and the main process writes
    `ADAPTER` and `STATS` into it."""


@contextmanager
def job_folder(root: Path | None) -> Iterator[Path]:
    """A fresh job folder under `root` (None: the system's temporary folder), deleted after the block.
    Its name starts with a dot, so the loop's sweep of scratch folders also removes one left by a kill."""
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=".train-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_job(job: TrainJob, samples: Sequence[Sample], replay: Sequence[Sample]) -> Path:
    """Write the job's samples and `job.json` into its folder (`job.out`); returns the job file."""
    folder = Path(job.out)
    for name, records in ((SAMPLES, samples), (REPLAY, replay)):
        (folder / name).touch()
        append_jsonl(folder / name, records)
    path = folder / "job.json"
    path.write_text(job.model_dump_json(indent=2), encoding="utf-8")
    return path


def launch_command(accelerate_config: Path, job_file: Path, *options: str) -> list[str]:
    """`accelerate launch` of the worker module, with this interpreter (so the same environment);
    `options` are more of the launcher's options."""
    return [sys.executable, "-m", "accelerate.commands.launch", "--config_file", str(accelerate_config), *options,
            "-m", "edtune.student.train_worker", str(job_file)]


@dataclass(frozen=True)
class Machines:
    """What an accelerate config file says about the machines a launch spans."""

    count: int
    """`num_machines` (1 when absent)."""
    processes: int
    """`num_processes`, over all machines (1 when absent)."""
    ip: str | None
    """`main_process_ip`: where the machine of rank 0 is reached; None: found by the launcher."""
    port: int | None
    """`main_process_port`; None or 0: a free port is picked on the machine of rank 0."""


def read_machines(config: Path) -> Machines:
    """The machine settings of an accelerate config file (JSON by its suffix, as accelerate reads it, else
    YAML); only these fields are read, accelerate checks the rest. ConfigError naming the file and field."""
    import yaml

    text = config.read_text(encoding="utf-8")
    try:
        values: Any = json.loads(text) if config.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"{config}: not a readable accelerate config file ({exc})") from exc
    values = values if isinstance(values, dict) else {}
    fields: dict[str, int | None] = {}
    for name in ("num_machines", "num_processes", "main_process_port"):
        value = values.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ConfigError(f"{config}: {name} must be a whole number, got {value!r}")
        fields[name] = value
    ip = values.get("main_process_ip")
    return Machines(count=fields["num_machines"] or 1, processes=fields["num_processes"] or 1,
                    ip=str(ip) if ip else None, port=fields["main_process_port"] or None)


def run_launch(accelerate_config: str, job_file: Path, on_step: StepCallback | None) -> TrainStats:
    """Run the launch to its end and return the stats the main process wrote; LaunchFailed otherwise.
    With `num_machines` above 1 the launch runs on the machines of the Ray cluster the job's
    `student.ray_address` names; MissingDependency before anything starts when Ray is not installed."""
    config = Path(accelerate_config).expanduser()
    if not config.is_file():
        raise ConfigError(f"StudentConfig.accelerate_config: no accelerate config file at {config}")
    folder = job_file.parent
    machines = read_machines(config)
    if machines.count > 1:
        from edtune.student.launch_ray import run_on_machines

        command = run_on_machines(config.resolve(), machines, job_file, on_step)
        status, output = 0, list[str]()
    else:
        command, status, output = _run_here(config.resolve(), job_file, on_step)
    stats = folder / STATS
    if status != 0 or not stats.is_file() or not (folder / ADAPTER).is_dir():
        tail = [*_tail(folder / LOG), *output]
        message = "training under accelerate launch left no adapter"
        if machines.count > 1:
            message += f" in {folder} as this machine sees it: the job folder must be on a file system all " \
                       "machines share"
        raise LaunchFailed(message, command=command, status=status, output="\n".join(tail[-_TAIL:]))
    return TrainStats.model_validate_json(stats.read_text(encoding="utf-8"))


def _run_here(config: Path, job_file: Path, on_step: StepCallback | None) -> tuple[list[str], int, list[str]]:
    """The launch on this machine: its command, exit status and the end of its stdout."""
    command = launch_command(config, job_file)
    output: deque[str] = deque(maxlen=_TAIL)
    with (job_file.parent / LOG).open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
        try:
            _follow(process, output, on_step)
            status = process.wait()
        finally:
            stop_group(process)
    return command, status, list(output)


def _follow(process: subprocess.Popen[str], output: deque[str], on_step: StepCallback | None) -> None:
    """Turn the children's step lines into `on_step` calls; keep the end of their other stdout."""
    assert process.stdout is not None
    for line in process.stdout:
        if not report_step(line, on_step) and line.strip():
            output.append(line.rstrip("\n"))


def report_step(line: str, on_step: StepCallback | None) -> bool:
    """Whether `line` is a step line (`STEP_LINE`); if so, it is passed to `on_step`."""
    fields = line.split()
    if len(fields) != 4 or fields[0] != STEP_LINE:
        return False
    if on_step is not None:
        on_step(int(fields[1]), int(fields[2]), float(fields[3]))
    return True


def stop_group(process: subprocess.Popen[str]) -> None:
    """End the launch's process group if it still runs (the caller stopped early): TERM, then KILL."""
    if process.poll() is not None:
        return
    for sig, wait_s in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(path: Path) -> list[str]:
    if not path.is_file():
        return []
    return path.read_text(encoding="utf-8", errors="replace").splitlines()[-_TAIL:]
