"""Finding and reading run directories for a report: only files the loop wrote (metrics.json,
usage.json, config.json), so a report can be built anywhere the run folders were copied to."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from edtune.environment import Environment, read_environments
from edtune.errors import DataError
from edtune.llm.usage import UsageReport
from edtune.loop.config import RunConfig
from edtune.loop.loop import final_adapter
from edtune.loop.metrics import IterationMetrics, RunMetrics


@dataclass(frozen=True)
class LoadedRun:
    """One run directory's metrics and usage."""

    root: Path
    metrics: RunMetrics
    usage: UsageReport
    environments: list[Environment] = field(default_factory=list)
    """The run's env.json entries (empty for runs older than it)."""
    config: dict[str, Any] = field(default_factory=dict)
    """The run's config.json with every default filled in (as JSON), what the report groups runs by."""

    @property
    def method(self) -> str:
        return self.metrics.method

    @property
    def pretrained(self) -> IterationMetrics:
        """Iteration 0: the student before any tuning."""
        return self.metrics.iterations[0]

    @property
    def final(self) -> IterationMetrics:
        """The iteration whose adapter is the run's result (iteration 0 when nothing was trained)."""
        wanted = final_adapter(self.metrics)
        return next(it for it in self.metrics.iterations if it.iteration == wanted)

    @property
    def samples_used(self) -> int:
        """Pool samples the run selected in all (what it spent, whichever adapter it keeps)."""
        return max(it.samples_used for it in self.metrics.iterations)

    @property
    def finished(self) -> list[IterationMetrics]:
        """Iterations 1.. that trained an adapter, in order."""
        return [it for it in self.metrics.iterations if it.iteration > 0 and it.train is not None]


def _read(path: Path, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"cannot read run file ({exc.strerror})", file=str(path)) from exc
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(map(str, first["loc"])) or None
        raise DataError(f"not a valid {model.__name__}: {first['msg']}", file=str(path), field=field) from exc


def load_run(root: Path) -> LoadedRun:
    """Read one run directory; DataError naming the file when metrics.json is missing or invalid."""
    metrics_path = root / "metrics.json"
    if not metrics_path.is_file():
        raise DataError("run has no metrics yet (was it started? resume it with `edtune resume`)",
                        file=str(metrics_path))
    metrics = _read(metrics_path, RunMetrics)
    assert isinstance(metrics, RunMetrics)
    if not metrics.iterations:
        raise DataError("run metrics list no iteration", file=str(metrics_path), field="iterations")
    usage_path = root / "usage.json"
    usage = _read(usage_path, UsageReport) if usage_path.is_file() else UsageReport()
    assert isinstance(usage, UsageReport)
    return LoadedRun(root=root, metrics=metrics, usage=usage, environments=read_environments(root),
                     config=_config(root / "config.json"))


def _config(path: Path) -> dict[str, Any]:
    """config.json as a RunConfig dump, so a field an older run left out compares equal to its default; a
    config this version cannot validate is compared as written. {} when the file is missing."""
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8")
    try:
        return RunConfig.model_validate_json(text).model_dump(mode="json")
    except ValidationError:
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise DataError(f"not valid JSON: {exc}", file=str(path)) from exc
        return raw if isinstance(raw, dict) else {}


def _run_roots(path: Path) -> list[Path]:
    """Run directories at or below `path`; the search stops at a run directory (it holds config.json)."""
    if (path / "config.json").is_file():
        return [path]
    found: list[Path] = []
    for child in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found.extend(_run_roots(child))
    return found


def find_runs(paths: list[Path] | Path) -> list[LoadedRun]:
    """The runs at `paths`: each path is a run directory (it holds config.json) or a folder with run
    directories somewhere below it (e.g. one per method and seed). Sorted by (method, seed, folder);
    DataError when a path does not exist or no run is found."""
    given = [paths] if isinstance(paths, Path) else list(paths)
    roots: list[Path] = []
    for path in given:
        if not path.is_dir():
            raise DataError("no such run directory", file=str(path))
        roots.extend(_run_roots(path))
    if not roots:
        raise DataError(f"no run directory (a folder holding config.json) found in {', '.join(map(str, given))}")
    runs = [load_run(root) for root in roots]
    return sorted(runs, key=lambda r: (r.method, r.metrics.seed, str(r.root)))
