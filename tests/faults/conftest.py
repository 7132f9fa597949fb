"""Fixtures of the fault-injection suite: a tiny counting world, the reference teacher serving it, and a
teacher spec file pointing at a faulty proxy in front of it."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from loop.fakes import tiny_world

from edtune.bench.reference import RunningServer, reference_teacher


@pytest.fixture(scope="session")
def fault_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_world(tmp_path_factory.mktemp("faults") / "shapes")


@pytest.fixture(scope="module")
def teacher_server(fault_world: Path) -> Iterator[RunningServer]:
    with reference_teacher(fault_world) as server:
        yield server


@pytest.fixture(autouse=True)
def _quiet_tiny_corpus() -> None:
    from edtune.retrieval.base import TinyCorpusWarning

    warnings.simplefilter("ignore", TinyCorpusWarning)


SpecFile = Callable[..., Path]


@pytest.fixture
def teacher_spec(tmp_path: Path, teacher_server: RunningServer) -> SpecFile:
    """`(base_url, **settings) -> path` of a teacher spec file for the reference teacher's model at `base_url`."""

    def write(base_url: str, *, timeout_s: float = 2.0, max_retries: int = 6, concurrency: int = 4) -> Path:
        path = tmp_path / "teacher.toml"
        path.write_text(f'provider = "openai-compatible"\nmodel = "{teacher_server.model}"\nbase_url = "{base_url}"\n'
                        f"timeout_s = {timeout_s}\nmax_retries = {max_retries}\nconcurrency = {concurrency}\n")
        return path

    return write
