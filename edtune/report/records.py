"""What `build_report` writes to results.json: one `MethodResult` per method and settings, over its seeds."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from edtune.environment import Environment
from edtune.records import Record


class SeedResult(Record):
    """One run (one method, one seed) reduced to the numbers of the paper's table."""

    run_dir: Path
    """The run directory these numbers come from."""
    seed: int
    """The run's master seed."""
    pretrained_accuracy: float | None
    """Test accuracy of the student before any tuning (None without a test set)."""
    accuracy: float | None
    """Test accuracy with the adapter the run keeps, over every test question (None without a test set)."""
    unscored_share: float | None = None
    """Share of those test questions the judge failed on (counted as not correct in `accuracy`)."""
    samples_used: int
    """Pool samples the run selected in all."""
    iterations: int
    """Iterations the run finished (the pretrained evaluation not counted)."""
    stopped: str | None
    """Why the loop ended; None for a run that has not finished."""
    environments: list[Environment] = Field(default_factory=list)
    """The run's env.json: versions and machine of each process that ran it (empty for older runs)."""


class MethodResult(Record):
    """One method with one set of settings over all its seeds: means, and the share of the full pool's
    accuracy. Runs whose settings differ (judge, teacher, budget ...) are separate rows
    (`edtune.report.groups`)."""

    method: str
    """The selection method (error_driven, random, full, an ablation, ...)."""
    settings: dict[str, str] = Field(default_factory=dict)
    """The settings (dotted RunConfig field -> JSON value) that set this row apart from the other rows of
    its method; empty when the method has one row."""
    judge: str | None = None
    """The judge spec the runs were scored with (a server address left out)."""
    seeds: list[int]
    """Seeds of the runs of this row, ascending (those without a test accuracy included)."""
    seeds_without_accuracy: list[int] = Field(default_factory=list)
    """Seeds whose run has no test accuracy (no test set, or its final adapter not tested yet): left out
    of `accuracy`'s mean, which the table and report say."""
    pretrained_accuracy: float | None
    """Mean test accuracy before tuning over the seeds."""
    accuracy: float | None
    """Mean final test accuracy over the seeds (None when no run has a test set)."""
    accuracy_std: float | None
    """Population standard deviation of the final test accuracy over the seeds (0 for one seed)."""
    unscored_share: float | None = None
    """Mean share of test questions the judge failed on over the seeds (part of what `accuracy` misses)."""
    samples_used: float
    """Mean pool samples selected."""
    pool_size: int
    """Samples in the pool (the largest pool among the runs, which should all agree)."""
    pool_percent: float
    """`samples_used` as a percentage of `pool_size`."""
    percent_of_full: float | None
    """`accuracy` as a percentage of the full-pool method's mean accuracy; None without a full-pool run."""
    runs: list[SeedResult] = Field(default_factory=list)
    """The individual runs, by seed."""


class ReportResults(Record):
    """results.json: the comparison of every method found under the report's run directories."""

    methods: list[MethodResult]
    """One entry per method, in the paper's table order (pretrained first, full last)."""
    full_accuracy: float | None
    """Mean test accuracy of the full-pool method; None when no full-pool run was given, or full-pool runs
    of several settings were (each row then divides by the full-pool row of its own judge, if one)."""
    pool_size: int
    """Samples in the pool the runs selected from."""
