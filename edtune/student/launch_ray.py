"""One training call on several machines: `accelerate launch` started on each of them through Ray.

Used by `edtune.student.launch.run_launch` when the accelerate config says `num_machines` N > 1. The caller
joins the Ray cluster (`StudentConfig.ray_address`) and reserves one bundle per machine in a placement
group with the STRICT_SPREAD strategy, so N distinct nodes, and places one `_Launcher` actor in each. Every
actor first checks that its node sees the job file with the bytes the caller wrote (the job folder must be
on a file system all machines share); the actor of rank 0 gives its node's IP and a free port there
(unless the config sets `main_process_ip` / `main_process_port`). Then each actor starts `accelerate launch
--num_machines N --machine_rank R --main_process_ip IP --main_process_port P` with the same job, in a
process group of its own. Rank 0's main process writes the adapter and the stats into the job folder as on
one machine and prints the step lines; the caller polls the actors for those lines and the exit statuses.

When the caller stops (a rank that failed, an error, Ctrl-C, SIGTERM), every actor ends its process group
(TERM, then KILL), then the actors and the placement group are removed. Ray is imported when a launch
starts; without it, MissingDependency before anything is started.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from edtune.errors import ConfigError, LaunchFailed, MissingDependency
from edtune.student.launch import Machines, TrainJob, launch_command, report_step, stop_group
from edtune.student.training import StepCallback

READY_S = 120.0
"""How long the cluster may take to reserve the machines before the launch is refused."""
POLL_S = 0.5
"""Pause between two polls of the machines' output."""
STOP_S = 60.0
"""How long the machines may take to end their launches once told to stop (each: TERM, 20 s, KILL)."""
_TAIL = 40
"""Lines of a machine's output an error carries."""


def run_on_machines(config: Path, machines: Machines, job_file: Path, on_step: StepCallback | None) -> list[str]:
    """Run the launch on `machines.count` machines to its end; returns the command of rank 0. LaunchFailed
    when a machine's launch exits with an error or its actor is lost; ConfigError when the cluster cannot
    be joined, lacks the machines, or a machine does not see the job folder."""
    ray = _import_ray()
    job = TrainJob.model_validate_json(job_file.read_text(encoding="utf-8"))
    shared = job_file.parent / f"accelerate{config.suffix}"  # the machines read it from the shared folder
    shutil.copyfile(config, shared)
    gpus = machines.processes // machines.count if job.student.device == "cuda" else 0
    with _joined(ray, job.student.ray_address), _reserved(ray, machines.count, gpus) as group:
        launchers = [_place(ray, group, rank, gpus) for rank in range(machines.count)]
        try:
            ip, port = _meet(ray, launchers, job_file, machines)
            commands = ray.get([launcher.start.remote(launch_command(shared, job_file, *machine_options(
                machines.count, rank, ip, port))) for rank, launcher in enumerate(launchers)])
            _follow(ray, launchers, commands, on_step)
        finally:
            _stop(ray, launchers)
    return list(commands[0])


def machine_options(count: int, rank: int, ip: str, port: int) -> list[str]:
    """The `accelerate launch` options of the machine of `rank` (they override the config file's)."""
    return ["--num_machines", str(count), "--machine_rank", str(rank), "--main_process_ip", ip,
            "--main_process_port", str(port)]


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise MissingDependency("ray", extra="ray",
                                purpose="training on several machines (num_machines > 1 in the accelerate config)"
                                ) from exc
    return ray


@contextmanager
def _joined(ray: Any, address: str | None) -> Iterator[None]:
    """This process in the Ray cluster: one already joined is used as it is; otherwise `address` (None:
    "auto") is joined for the call and left afterwards. A local cluster is never started: it has one node."""
    if ray.is_initialized():
        yield
        return
    try:
        ray.init(address=address or "auto", include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING)
    except ConnectionError as exc:
        raise ConfigError(f"StudentConfig.ray_address: no Ray cluster to join at {address or 'auto'} ({exc}); "
                          "start one (`ray start --head` on one machine, `ray start --address HEAD:6379` on "
                          "the others) or name it") from exc
    try:
        yield
    finally:
        ray.shutdown()


@contextmanager
def _reserved(ray: Any, count: int, gpus: int) -> Iterator[Any]:
    """A placement group of `count` bundles on distinct nodes, each 1 CPU (and `gpus` GPUs), removed after."""
    from ray.util.placement_group import placement_group, remove_placement_group

    bundle = {"CPU": 1.0, **({"GPU": float(gpus)} if gpus else {})}
    group = placement_group([bundle] * count, strategy="STRICT_SPREAD")
    try:
        if not group.wait(timeout_seconds=READY_S):
            alive = sum(1 for node in ray.nodes() if node.get("Alive"))
            raise ConfigError(f"the accelerate config asks for {count} machines, each with {bundle} free; the "
                              f"Ray cluster ({alive} live nodes) could not reserve them in {READY_S:.0f} s")
        yield group
    finally:
        remove_placement_group(group)


def _place(ray: Any, group: Any, rank: int, gpus: int) -> Any:
    """The launcher actor of `rank`, in its bundle (Ray gives it the bundle's GPUs as CUDA_VISIBLE_DEVICES)."""
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    strategy = PlacementGroupSchedulingStrategy(group, placement_group_bundle_index=rank)
    return ray.remote(_Launcher).options(num_cpus=1, num_gpus=gpus, scheduling_strategy=strategy,
                                         max_restarts=0).remote()


def _meet(ray: Any, launchers: Sequence[Any], job_file: Path, machines: Machines) -> tuple[str, int]:
    """The address of rank 0 (the config's, or its node's IP and a free port there), once every machine
    was found to see the job file as written here; ConfigError naming the folder and the machines that do not."""
    digest = _digest(job_file)
    met = ray.get([launcher.meet.remote(str(job_file), digest) for launcher in launchers])
    blind = [f"rank {rank} ({ip})" for rank, (ip, seen) in enumerate(met) if not seen]
    if blind:
        raise ConfigError(f"the job folder {job_file.parent} is not seen as written here by the machine(s) "
                          f"{', '.join(blind)}: training on several machines needs it on a file system all of "
                          "them share (the loop keeps it in the run directory's adapters folder)")
    port = machines.port or ray.get(launchers[0].free_port.remote())
    return machines.ip or met[0][0], port


def _follow(ray: Any, launchers: Sequence[Any], commands: Sequence[list[str]], on_step: StepCallback | None) -> None:
    """Poll the machines until every launch exited 0: step lines go to `on_step`; LaunchFailed (with that
    machine's command, status and output) as soon as one exits with an error or its actor is lost."""
    from ray.exceptions import RayActorError

    tails: list[deque[str]] = [deque(maxlen=_TAIL) for _ in launchers]
    statuses: list[int | None] = [None] * len(launchers)
    while None in statuses:
        for rank, launcher in enumerate(launchers):
            try:
                lines, statuses[rank] = ray.get(launcher.poll.remote())
            except RayActorError as exc:
                raise LaunchFailed(f"the machine of rank {rank} was lost during training", command=commands[rank],
                                   status=-1, output=str(exc)) from exc
            tails[rank].extend(line.rstrip("\n") for line in lines if not report_step(line, on_step) and line.strip())
            status = statuses[rank]
            if status is not None and status != 0:
                raise LaunchFailed(f"training under accelerate launch failed on the machine of rank {rank}",
                                   command=commands[rank], status=status, output="\n".join(tails[rank]))
        if None in statuses:
            time.sleep(POLL_S)


def _stop(ray: Any, launchers: Sequence[Any]) -> None:
    """End every machine's launch (its process group), then the actors. A lost actor has nothing to end."""
    stops = [launcher.stop.remote() for launcher in launchers]
    ray.wait(stops, num_returns=len(stops), timeout=STOP_S)
    for launcher in launchers:
        ray.kill(launcher)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""


class _Launcher:
    """One machine's `accelerate launch`, run by a Ray actor on that machine."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[str] | None = None
        self._lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._reader: threading.Thread | None = None

    def meet(self, job_file: str, digest: str) -> tuple[str, bool]:
        """This node's IP, and whether the job file here holds the bytes the caller wrote."""
        from ray.util import get_node_ip_address

        return get_node_ip_address(), _digest(Path(job_file)) == digest

    def free_port(self) -> int:
        """A port free on this node now, for rank 0's rendezvous."""
        with socket.socket() as probe:
            probe.bind(("", 0))
            return int(probe.getsockname()[1])

    def start(self, command: list[str]) -> list[str]:
        """Start `command` with this node's interpreter, in a process group of its own; returns what ran."""
        command = [sys.executable, *command[1:]]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                         start_new_session=True)
        self._reader = threading.Thread(target=self._read, args=(self._process,), daemon=True)
        self._reader.start()
        return command

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self._lines.put(line)

    def poll(self) -> tuple[list[str], int | None]:
        """The lines printed since the last poll, and the exit status once the launch ended and all its
        output was read (None before)."""
        ended = self._reader is not None and not self._reader.is_alive()
        lines = []
        while not self._lines.empty():
            lines.append(self._lines.get())
        status = self._process.wait() if ended and self._process is not None else None
        return lines, status

    def stop(self) -> None:
        """End the launch's process group if it still runs."""
        if self._process is not None:
            stop_group(self._process)
