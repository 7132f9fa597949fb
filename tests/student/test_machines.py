"""Training on several machines (accelerate config with `num_machines` > 1), launched through Ray on a local
cluster of 2 nodes (two raylets on this host, 1 CPU each), one gloo process per "machine"."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psutil
import pytest

from edtune.bench.shapes.render import render_images
from edtune.bench.shapes.world import ShapesConfig, generate_samples
from edtune.errors import ConfigError, MissingDependency
from edtune.records import Sample
from edtune.student import StudentConfig
from edtune.student.bundled import bundled_student
from edtune.student.launch import Machines, read_machines

from .test_accelerate import CURVE, SAME_ADAPTER, adapter_weights, largest_difference

TWO_MACHINES = """compute_environment: LOCAL_MACHINE
distributed_type: MULTI_GPU
num_processes: 2
num_machines: 2
mixed_precision: 'no'
"""


class Crash(Exception):
    """The caller stops while the machines train."""


@pytest.fixture(scope="module")
def counting(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Sample], Path]:
    samples = generate_samples({"counting": 1.0}, 10, split="accelerate", config=ShapesConfig())
    root = tmp_path_factory.mktemp("images")
    render_images(samples, root)
    return samples, root


@pytest.fixture
def two_machines(tmp_path: Path) -> Path:
    path = tmp_path / "two_machines.yaml"
    path.write_text(TWO_MACHINES)
    return path


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two Ray nodes of 1 CPU on this host, joined by this process. Their workers inherit this process's
    environment (PYTHONPATH included), so they import the edtune under test."""
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    if ray.is_initialized():  # a fixture of another folder (tests/scale's, session-wide) may still hold one
        ray.shutdown()
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False,
                                                          "object_store_memory": 80 * 2**20})
    nodes.add_node(num_cpus=1, object_store_memory=80 * 2**20)
    ray.init(address=nodes.address, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield ray
    ray.shutdown()
    nodes.shutdown()


def test_the_machine_settings_are_read_from_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "a.yaml"
    yaml_file.write_text(TWO_MACHINES + "main_process_ip: 10.0.0.1\nmain_process_port: 0\n")
    assert read_machines(yaml_file) == Machines(count=2, processes=2, ip="10.0.0.1", port=None)
    json_file = tmp_path / "a.json"
    json_file.write_text('{"num_machines": 3, "num_processes": 6, "main_process_port": 29501}')
    assert read_machines(json_file) == Machines(count=3, processes=6, ip=None, port=29501)
    bad = tmp_path / "bad.yaml"
    bad.write_text("num_machines: two\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: num_machines must be a whole number, got 'two'"):
        read_machines(bad)


def test_several_machines_without_ray_is_refused_before_training(
        counting: tuple[list[Sample], Path], two_machines: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    samples, root = counting
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    student = bundled_student(StudentConfig(accelerate_config=str(two_machines)), work_dir=tmp_path / "work")
    with pytest.raises(MissingDependency, match=r"num_machines > 1.*edtune\[ray\]"):
        student.train(samples, root, CURVE, seed=0)
    assert not student.has_adapter and not list((tmp_path / "work").iterdir())


class _Here:
    """An actor handle whose calls run in this process (`handle.method.remote(...)` returns the result)."""

    def __init__(self, actor: object) -> None:
        self.actor = actor

    def __getattr__(self, name: str) -> SimpleNamespace:
        return SimpleNamespace(remote=getattr(self.actor, name))


def test_a_machine_that_does_not_see_the_job_folder_is_named(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    from edtune.student import launch_ray

    class Elsewhere(launch_ray._Launcher):
        """A machine where the job's path holds another folder (not the shared one)."""

        def meet(self, job_file: str, digest: str) -> tuple[str, bool]:
            return super().meet(str(tmp_path / "elsewhere" / Path(job_file).name), digest)

    job = tmp_path / "job" / "job.json"
    job.parent.mkdir()
    job.write_text("{}")
    direct = SimpleNamespace(get=lambda value: value)
    machines = Machines(count=2, processes=2, ip=None, port=None)
    ip, port = launch_ray._meet(direct, [_Here(launch_ray._Launcher())] * 2, job, machines)
    assert ip and port > 0
    with pytest.raises(ConfigError, match=rf"job folder {job.parent} is not seen .* rank 1 .*share"):
        launch_ray._meet(direct, [_Here(launch_ray._Launcher()), _Here(Elsewhere())], job, machines)


@pytest.mark.slow
def test_two_machines_train_the_adapter_of_one_process_accumulating_two(
        cluster: Any, counting: tuple[list[Sample], Path], two_machines: Path, tmp_path: Path) -> None:
    samples, root = counting
    one = bundled_student()
    one.train(samples, root, CURVE.model_copy(update={"schedule_start": 0}), seed=1)
    one.save_adapter(tmp_path / "start")
    stats_one = one.train(samples, root, CURVE.model_copy(update={"gradient_accumulation_steps": 2}), seed=2)

    two = bundled_student(StudentConfig(accelerate_config=str(two_machines)), work_dir=tmp_path / "work")
    two.load_adapter(tmp_path / "start")
    steps: list[tuple[int, int, float]] = []
    stats_two = two.train(samples, root, CURVE, seed=2, on_step=lambda *step: steps.append(step))

    assert largest_difference(adapter_weights(one, tmp_path / "a"), adapter_weights(two, tmp_path / "b")) \
        <= SAME_ADAPTER
    assert stats_two.epoch_losses == pytest.approx(stats_one.epoch_losses, rel=1e-5)
    assert [s[:2] for s in steps] == [(1, 3), (2, 3), (3, 3)]
    assert not list((tmp_path / "work").iterdir()), "the job folder is removed"
    assert released(cluster)


@pytest.mark.slow
def test_a_caller_that_stops_ends_the_launches_on_every_machine(
        cluster: Any, counting: tuple[list[Sample], Path], two_machines: Path, tmp_path: Path) -> None:
    samples, root = counting
    student = bundled_student(StudentConfig(accelerate_config=str(two_machines)), work_dir=tmp_path / "work")
    seen: list[int] = []

    def stop_at_first_step(done: int, total: int, loss: float) -> None:
        seen.extend(p.pid for p in launched(tmp_path))
        raise Crash("the loop process stops while the machines train")

    with pytest.raises(Crash):
        student.train(samples, root, CURVE, seed=0, on_step=stop_at_first_step)
    assert len(seen) >= 4, "a launcher and a training process on each machine were running"
    assert not launched(tmp_path), "no launched process is left on any machine"
    assert not student.has_adapter and not list((tmp_path / "work").iterdir())
    assert released(cluster)


def launched(tmp_path: Path) -> list[psutil.Process]:
    """The processes whose command line names a job under `tmp_path` (launchers and training processes)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(str(tmp_path) in part for part in process.info["cmdline"] or ()):
            found.append(process)
    return found


def released(ray: Any) -> bool:
    """Whether the launch gave back what it held (placement group, actors): both nodes' CPUs free again."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        groups = [g for g in ray.util.placement_group_table().values() if g["state"] != "REMOVED"]
        if not groups and ray.available_resources().get("CPU") == 2:
            return True
        time.sleep(0.5)
    return False
