"""Which runs a report row (and a plot's line) averages: one method with one set of settings, over seeds.

Two runs are alike when their config.json agree on every setting that can change a result: judge, teacher,
budget, iterations, student, training, retrieval ... Runs that differ in any of them are never averaged
together; each kind gets a row of its own, labelled by the settings that set it apart from the other rows
of its method. Not compared, because they change no result or differ by design between seeds:

- `seed`: what a row averages over;
- where the data files are: their folder and image root (the demo writes one world per seed), while the
  file *names* and every other data setting are compared;
- the address of the teacher and judge servers (the "@<url>" of a spec string: a port picked per call), and
  a model name ending in "-s<the run's seed>": the bundled reference teacher names itself after the seed
  it draws its mistakes with ("edtune-reference-e0.1-s2"), one teacher per seed by design;
- settings of speed alone: `student.batch_size`, `student.generation.num_threads`,
  `training.lora.print_targets`, `retrieval.index` (a saved index, refused unless it is of the same pool).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from edtune.report.runs import LoadedRun

IGNORED = frozenset({"seed", "student.batch_size", "student.generation.num_threads", "training.lora.print_targets",
                     "retrieval.index"})
"""Flattened config fields left out of the comparison (see the module docstring)."""
_ADDRESSED = ("teacher", "judge")
"""Spec-string fields whose "@<address>" is left out."""
PRETRAINED_FIELDS = ("judge", "student.", "data.test.")
"""What a pretrained score depends on: the judge, the student and the test set (not the method)."""


@dataclass(frozen=True)
class Group:
    """Runs of one method with the same settings (seeds differ)."""

    method: str
    settings: dict[str, str]
    """The settings (flattened config field -> JSON value) that set this group apart from the other groups of
    its method; empty when the method has one group."""
    runs: list[LoadedRun] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The method, followed by the settings that set it apart, e.g. "error_driven (judge="choice")"."""
        if not self.settings:
            return self.method
        return f"{self.method} ({', '.join(f'{k}={v}' for k, v in self.settings.items())})"

    @property
    def judge(self) -> str | None:
        """The judge spec of these runs (without a server address); None when the config has none."""
        return judge_of(self.runs[0])


def flat_settings(run: LoadedRun) -> dict[str, str]:
    """The run's config as dotted field -> JSON value, without the fields a comparison ignores."""
    flat: dict[str, str] = {}
    _flatten(run.config, "", flat)
    for key in list(flat):
        if key in IGNORED or (key.startswith("data.") and key.endswith(".image_root")):
            del flat[key]
        elif key.startswith("data.") and key.endswith(".path"):
            flat[key] = json.dumps(PurePath(json.loads(flat[key])).name)
        elif key in _ADDRESSED and isinstance(spec := json.loads(flat[key]), str):
            flat[key] = json.dumps(re.sub(rf"-s{run.metrics.seed}$", "-s<seed>", _unaddressed(spec)))
    return flat


def judge_of(run: LoadedRun) -> str | None:
    value = run.config.get("judge")
    return _unaddressed(value) if isinstance(value, str) else None


def group_runs(runs: list[LoadedRun], *, only: tuple[str, ...] | None = None,
               method: str | None = None) -> list[Group]:
    """The runs split into groups of like runs, in the order first seen. `only` compares just the fields
    starting with one of its prefixes; `method` names the groups' method instead of each run's (the
    pretrained row gathers runs of every method)."""
    keyed: dict[str, tuple[dict[str, str], list[LoadedRun]]] = {}
    for run in runs:
        settings = flat_settings(run)
        if only is not None:
            settings = {k: v for k, v in settings.items() if k.startswith(only)}
        key = json.dumps([method or run.method, sorted(settings.items())])
        keyed.setdefault(key, (settings, []))[1].append(run)
    by_method: dict[str, list[tuple[dict[str, str], list[LoadedRun]]]] = defaultdict(list)
    for key, (settings, members) in keyed.items():
        by_method[json.loads(key)[0]].append((settings, members))
    groups = []
    for name, kinds in by_method.items():
        differing = _differing([settings for settings, _ in kinds])
        for settings, members in kinds:
            groups.append(Group(method=name, settings={k: settings.get(k, "-") for k in differing}, runs=members))
    return groups


def _differing(kinds: list[dict[str, str]]) -> list[str]:
    """The fields whose value is not the same in every one of `kinds` (sorted)."""
    keys = sorted({k for settings in kinds for k in settings})
    return [k for k in keys if len({settings.get(k) for settings in kinds}) > 1]


def _flatten(value: Any, prefix: str, out: dict[str, str]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{prefix}{key}.", out)
    else:
        out[prefix.rstrip(".")] = json.dumps(value, sort_keys=True)


def _unaddressed(spec: str) -> str:
    """A model spec string without its "@<base_url>" (a spec file path or rule judge name is kept)."""
    return spec.rsplit("@", 1)[0] if "@" in spec and "://" in spec.rsplit("@", 1)[1] else spec
