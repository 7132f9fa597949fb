"""Read one run directory for the viewer, tolerating a run that is still going, was killed, or is not a run.

Every reader returns what is on disk and records what it could not read in `RunFiles.problems` instead of
raising, so a page can say "metrics.json missing: the run is still going or was killed" rather than fail.
Iteration files are read once and cached (`iteration`), the validation set once per run (`val`), and of
the pool only the samples pages ask for (`pool_samples`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from edtune.environment import Environment, read_environments
from edtune.errors import EdtuneError
from edtune.loop.config import DataFile, RunConfig
from edtune.loop.metrics import RunMetrics
from edtune.loop.ownership import TAKEOVERS_NAME, RunOwner, read_takeovers
from edtune.loop.rundir import RunDir, RunState
from edtune.records import Sample
from edtune.view.datasets import read_samples
from edtune.view.iteration import IterationFiles

READ_ERRORS = (OSError, ValueError, ValidationError, EdtuneError)
"""What reading a run file may raise; the viewer turns each into a line in `problems`."""


class RunFiles:
    """The files of one run directory as the viewer needs them; every read is tolerant (see module doc)."""

    def __init__(self, root: Path, key: str) -> None:
        self.rundir = RunDir(root)
        self.key = key
        """Short name of the run in URLs ("r0", "r1" ...)."""
        self.problems: list[str] = []
        """What could not be read, one line each, in the order met."""
        self.image_refs: dict[tuple[str, str], object] = {}
        """Image links already worked out, by (split, path as written) (see `edtune.view.images`)."""
        self.memo: dict[str, object] = {}
        """What pages built from this run once (the BM25 index of `edtune.view.pages_hits`)."""
        self._pool: dict[str, Sample] = {}
        self._not_in_pool: set[str] = set()
        self._iterations: dict[int, tuple[tuple[tuple[str, int], ...], IterationFiles]] = {}

    @property
    def root(self) -> Path:
        return self.rundir.root

    @property
    def name(self) -> str:
        return self.root.name or str(self.root)

    def _note(self, what: str, exc: BaseException) -> None:
        line = f"{what}: {exc}".splitlines()[0][:400]
        if line not in self.problems:
            self.problems.append(line)

    @cached_property
    def config(self) -> RunConfig | None:
        """config.json, or None (with a problem noted) when missing or invalid."""
        if not self.rundir.root.is_dir():
            self.problems.append(f"{self.root} does not exist")
            return None
        try:
            return self.rundir.read_config()
        except READ_ERRORS as exc:
            self._note("config.json", exc)
            return None

    @cached_property
    def state(self) -> RunState | None:
        """state.json, or None when missing or unreadable."""
        if not self.rundir.state_path.is_file():
            return None
        try:
            return self.rundir.state()
        except READ_ERRORS as exc:
            self._note("state.json", exc)
            return None

    @cached_property
    def metrics(self) -> RunMetrics | None:
        """metrics.json, or None: a run still going or killed has none yet (noted as a problem)."""
        path = self.rundir.metrics_path
        if not path.is_file():
            self.problems.append("metrics.json missing: the run is still going or was killed before its end")
            return None
        try:
            return RunMetrics.model_validate_json(path.read_text(encoding="utf-8"))
        except READ_ERRORS as exc:
            self._note("metrics.json", exc)
            return None

    @cached_property
    def usage(self) -> dict[str, Any]:
        """usage.json as plain JSON ({} when missing or unreadable)."""
        path = self.rundir.usage_path
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except READ_ERRORS as exc:
            self._note("usage.json", exc)
            return {}
        return data if isinstance(data, dict) else {}

    @cached_property
    def environments(self) -> list[Environment]:
        """env.json entries, oldest first ([] when missing or unreadable)."""
        try:
            return read_environments(self.root)
        except READ_ERRORS as exc:
            self._note("env.json", exc)
            return []

    @cached_property
    def takeovers(self) -> list[RunOwner]:
        """takeovers.jsonl: each time a process took the run over from one that had been killed."""
        try:
            return read_takeovers(self.root)
        except READ_ERRORS as exc:
            self._note(TAKEOVERS_NAME, exc)
            return []

    @property
    def status(self) -> str:
        """finished (with why), or a sentence saying the run is partial or not a run."""
        if self.config is None:
            return "not a run (config.json missing or unreadable)"
        state = self.state
        if state is not None and state.stopped:
            return f"finished: {state.stopped}"
        return "partial: still going, or killed before its end"

    def iterations(self) -> list[int]:
        """Numbers of the iteration folders present, ascending (0 = the pretrained student)."""
        folder = self.root / "iterations"
        if not folder.is_dir():
            return []
        return sorted(int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit())

    def iteration(self, i: int) -> IterationFiles:
        """The files of iteration `i`, read again only when a file of its folder changed size."""
        folder = self.rundir.iteration(i)
        signature = tuple(sorted((p.name, p.stat().st_size) for p in folder.glob("*"))) if folder.is_dir() else ()
        cached = self._iterations.get(i)
        if cached is None or cached[0] != signature:
            cached = (signature, IterationFiles.read(self.rundir, i, self._note))
            self._iterations[i] = cached
        return cached[1]

    def data_file(self, split: str) -> DataFile | None:
        """The config's data file of `split` ("val", "pool", "test", "replay"), or None."""
        if self.config is None:
            return None
        found = getattr(self.config.data, split, None)
        return found if isinstance(found, DataFile) else None

    def _read(self, split: str, wanted: Collection[str] | None) -> dict[str, Sample]:
        data = self.data_file(split)
        if data is None:
            return {}
        return read_samples(data, wanted, lambda line: self.problems.append(f"{split} data: {line}"[:400]))

    @cached_property
    def val(self) -> dict[str, Sample]:
        """Validation samples by id (the rows that can be read; the others are noted)."""
        return self._read("val", None)

    def remember_pool(self, samples: dict[str, Sample]) -> None:
        """Keep pool samples read elsewhere (the whole pool, when it was indexed) for `pool_samples`."""
        self._pool.update(samples)

    def pool_samples(self, ids: Iterable[str]) -> dict[str, Sample]:
        """The pool samples of `ids` that the pool holds, by id. The first call reads every sample chosen
        in some iteration along with `ids`, so later pages find theirs without reading the pool again."""
        ids = list(ids)
        missing = {i for i in ids if i not in self._pool and i not in self._not_in_pool}
        if missing:
            if not self._pool and not self._not_in_pool:
                missing |= {c.sample_id for i in self.iterations() for c in self.iteration(i).selection}
            self._pool.update(self._read("pool", missing))
            self._not_in_pool |= missing - self._pool.keys()
        return {i: self._pool[i] for i in ids if i in self._pool}

