"""The software and machine a run executed on: env.json in the run directory, and a field of results.json.

Training results depend on the installed versions (and, through float rounding, on the CPU's kernels), so a
number without its environment cannot be checked. A run records one `Environment` when it starts and one
more each time it is resumed on a different one; readers compare them to say when a run mixed environments.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from pathlib import Path

from pydantic import Field, TypeAdapter

from edtune.jsonl import atomic_write_json
from edtune.records import Record

PACKAGES = ("edtune", "torch", "transformers", "peft", "tokenizers", "accelerate", "numpy", "pillow")
"""Distributions whose versions are recorded: those that change what a training or an answer computes."""
ENV_FILE = "env.json"
"""File name of the environment list in a run directory."""


class Environment(Record):
    """Versions and machine of one process that ran (part of) a run."""

    python: str
    """Python version, e.g. "3.11.7"."""
    platform: str
    """`platform.platform()`: operating system, kernel and architecture."""
    packages: dict[str, str | None]
    """Installed version of each distribution in `PACKAGES`; None when it is not installed."""
    torch_cpu_capability: str | None = None
    """The CPU kernel set torch dispatches to (e.g. "AVX512", "AVX2"): float rounding differs between them."""
    cuda: str | None = None
    """CUDA version torch was built with; None for a CPU build or without torch."""
    devices: list[str] = Field(default_factory=list)
    """Names of the CUDA devices torch sees."""


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def current() -> Environment:
    """The environment of this process (imports torch when it is installed)."""
    packages = {name: _version(name) for name in PACKAGES}
    capability = cuda = None
    devices: list[str] = []
    if packages["torch"] is not None:
        import torch

        capability = str(torch.backends.cpu.get_cpu_capability())
        cuda = torch.version.cuda
        if torch.cuda.is_available():
            devices = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return Environment(python=platform.python_version(), platform=platform.platform(), packages=packages,
                       torch_cpu_capability=capability, cuda=cuda, devices=devices)


_LIST = TypeAdapter(list[Environment])


def read_environments(run_root: Path) -> list[Environment]:
    """The environments recorded in a run directory, oldest first ([] for runs older than env.json)."""
    path = run_root / ENV_FILE
    if not path.is_file():
        return []
    return _LIST.validate_json(path.read_bytes())


def record_environment(run_root: Path, env: Environment | None = None) -> list[Environment]:
    """Append this process's environment to the run's env.json unless it equals the last one recorded;
    returns the list as written."""
    seen = read_environments(run_root)
    env = env if env is not None else current()
    if not seen or seen[-1] != env:
        seen.append(env)
        atomic_write_json(run_root / ENV_FILE, _LIST.dump_python(seen, mode="json"))
    return seen


if __name__ == "__main__":
    sys.stdout.write(current().model_dump_json(indent=2) + "\n")
