"""`edtune annotate --engine ray` on a local 2-CPU Ray cluster against the reference teacher: the local
engine's bytes over two replicas, the content cache read by the workers, a worker killed mid-run, an
edtune error raised on the driver as itself, and a driver killed and started again."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ray_helpers import POOL_SIZE, annotate_args, requests, run_cli, same_records

from edtune.bench.reference import RunningServer, reference_teacher
from edtune.data import load_samples
from edtune.errors import ProviderError
from edtune.scale.settings import RaySettings
from edtune.specs import ModelSpec
from edtune.teacher.annotate import AnnotateOptions
from edtune.teacher.annotate_ray import annotate_on_ray

pytestmark = [pytest.mark.usefixtures("ray_cluster"),
              # Ray Data's context warns about its own deprecated settings when it is first read.
              pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")]


def _usage(output: str) -> tuple[int, int]:
    """(calls sent, calls answered from the cache) from the command's usage line."""
    found = re.search(r"teacher usage: (\d+) call\(s\) sent, .*?; (\d+) answered from the cache", output)
    assert found is not None, output
    return int(found[1]), int(found[2])


def test_ray_over_two_replicas_writes_the_local_bytes_and_reads_the_cache(
        world: Path, teacher: RunningServer, local_out: Path, tmp_path: Path) -> None:
    out = tmp_path / "ray" / "annotated.jsonl"
    before = requests(teacher)
    with reference_teacher(world) as replica:
        output = run_cli(annotate_args(world, teacher, out, "--engine", "ray", "--shard-size", "5",
                                       "--endpoint", teacher.base_url, "--endpoint", replica.base_url))
        on_replica = requests(replica)
    assert "ray: 5 shard(s), 0 kept from an earlier run, 5 run now" in output
    assert out.read_bytes() == local_out.read_bytes()
    assert same_records(out.with_suffix(".annotations.jsonl"), local_out.with_suffix(".annotations.jsonl"))
    on_first = requests(teacher) - before
    assert on_first + on_replica == POOL_SIZE and on_first > 0 and on_replica > 0  # shards 0, 2, 4 / 1, 3
    assert not out.with_suffix(".shards").exists()  # merged, then removed

    # A fresh output whose cache holds the local run's replies: the workers read it and send nothing.
    cached = tmp_path / "cached" / "annotated.jsonl"
    cached.parent.mkdir()
    shutil.copy(local_out.with_suffix(".llm_cache.sqlite"), cached.with_suffix(".llm_cache.sqlite"))
    before = requests(teacher)
    output = run_cli(annotate_args(world, teacher, cached, "--engine", "ray", "--shard-size", "5"))
    assert requests(teacher) == before and _usage(output) == (0, POOL_SIZE)
    assert cached.read_bytes() == local_out.read_bytes()
    # the replies read from the cache keep the tokens they were paid with (the shards' usage used to drop them)
    paid_before = re.search(r"\(([\d,]+) tokens paid when first asked", output)
    assert paid_before is not None and int(paid_before[1].replace(",", "")) > 0, output


def _kill_a_worker_once(server: RunningServer, monkeypatch: pytest.MonkeyPatch, *, at: int) -> list[Any]:
    """Make the teacher kill (SIGKILL) the worker process sending its `at`-th request, once; returns the
    list the killed process is put in."""
    import psutil

    port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
    original, lock, killed, seen = server.teacher.answer, threading.Lock(), [], [0]

    def answer(body: dict[str, Any]) -> Any:
        with lock:
            seen[0] += 1
            if not killed and seen[0] >= at:
                senders = sorted({c.pid for c in psutil.net_connections("tcp") if c.raddr and c.raddr.port == port
                                  and c.pid is not None and c.pid != os.getpid()})
                if senders:
                    victim = psutil.Process(senders[0])
                    killed.append((victim.pid, victim.name()))
                    victim.kill()
        return original(body)

    monkeypatch.setattr(server.teacher, "answer", answer)
    return killed


def test_a_worker_killed_mid_run_is_retried_and_the_bytes_are_the_same(
        world: Path, teacher: RunningServer, local_out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    killed = _kill_a_worker_once(teacher, monkeypatch, at=3)
    out = tmp_path / "annotated.jsonl"
    before = requests(teacher)
    run_cli(annotate_args(world, teacher, out, "--engine", "ray", "--shard-size", "4"))
    assert len(killed) == 1 and killed[0][1].startswith("ray::")  # a Ray worker, not the driver
    assert requests(teacher) - before > POOL_SIZE  # the killed worker's shard was asked again
    assert out.read_bytes() == local_out.read_bytes()
    assert same_records(out.with_suffix(".annotations.jsonl"), local_out.with_suffix(".annotations.jsonl"))


def test_an_unreachable_teacher_fails_on_the_driver_as_a_provider_error(world: Path, tmp_path: Path) -> None:
    spec = ModelSpec(provider="openai-compatible", model="m", base_url="http://127.0.0.1:9/v1", max_retries=0,
                     timeout_s=2)
    samples = load_samples(world / "pool_plain.jsonl", image_root=world)[:2]
    with pytest.raises(ProviderError):
        annotate_on_ray(samples, spec, AnnotateOptions(concurrency=1), out=tmp_path / "out.jsonl",
                        settings=RaySettings(shard_size=1), image_root=world)
    assert not (tmp_path / "out.jsonl").exists()


def _slowed(server: RunningServer, monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    original: Callable[[dict[str, Any]], Any] = server.teacher.answer

    def answer(body: dict[str, Any]) -> Any:
        time.sleep(seconds)
        return original(body)

    monkeypatch.setattr(server.teacher, "answer", answer)


@pytest.mark.slow
def test_a_driver_killed_and_started_again_redoes_only_the_unfinished_shards(
        world: Path, teacher: RunningServer, local_out: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import psutil

    out = tmp_path / "annotated.jsonl"
    args = annotate_args(world, teacher, out, "--engine", "ray", "--shard-size", "4", "--concurrency", "1")
    with monkeypatch.context() as slow:
        _slowed(teacher, slow, 0.2)  # ~0.8 s a shard, so the driver can be killed between shards
        driver = subprocess.Popen([sys.executable, "-m", "edtune", *args], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        shards, started = out.with_suffix(".shards"), []
        try:
            while driver.poll() is None and not any(shards.glob("*.jsonl")):
                time.sleep(0.05)
            started = psutil.Process(driver.pid).children(recursive=True) if driver.poll() is None else []
            os.kill(driver.pid, signal.SIGKILL)
            driver.wait()
            kept = len(list(shards.glob("*.jsonl")))
            assert 0 < kept < POOL_SIZE // 4, kept
        finally:
            for process in started:  # the Ray processes the killed driver had started
                with contextlib.suppress(psutil.NoSuchProcess):
                    process.kill()
    before = requests(teacher)
    output = run_cli(args)  # this process is the new driver
    assert f"ray: 6 shard(s), {kept} kept from an earlier run, {6 - kept} run now" in output
    sent, cached = _usage(output)
    assert sent + cached == 4 * (6 - kept)  # each sample of an unfinished shard asked once, no other
    # The killed driver's Ray workers may still land a request or two of their shard after `before` was read
    # (seen once in CI: 21 against 20); what the new driver sends is exactly `sent`.
    assert sent <= requests(teacher) - before <= sent + 4
    assert out.read_bytes() == local_out.read_bytes()
