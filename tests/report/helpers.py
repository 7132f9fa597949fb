"""Hand-made run directories for the report tests, written with the loop's own record types."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edtune.atomic import atomic_write_json
from edtune.judging.base import JudgeSummary
from edtune.llm.usage import StageUsage, UsageReport
from edtune.loop.config import DataFile, DataSettings, RunConfig
from edtune.loop.metrics import IterationMetrics, RunMetrics
from edtune.loop.rundir import RunDir, RunState
from edtune.student.base import TrainStats

POOL = 1_000


def summary(correct: int, total: int) -> JudgeSummary:
    return JudgeSummary(correct=correct, incorrect=total - correct, unscored=0, unscored_reasons={},
                        accuracy=correct / total)


def _stats(n: int) -> TrainStats:
    return TrainStats(steps=1, epochs=1, train_samples=n, replay_samples=0, epoch_losses=[1.0], wall_s=0.0,
                      trainable_params=0, target_modules=[])


def iteration(i: int, correct: int, used: int, *, families: dict[str, int] | None = None,
              missing: dict[str, int] | None = None, matched: dict[str, int] | None = None) -> IterationMetrics:
    """Iteration `i` scoring correct/100 on the test set (half counting, half counting_by_attribute)."""
    return IterationMetrics(
        iteration=i, test=summary(correct, 100),
        test_by_family={"counting": summary(min(correct, 50), 50), "counting_by_attribute": summary(correct // 2, 50)},
        missing_skills=missing or {}, matched_skills=matched or {}, selected_families=families or {},
        selected=used, samples_used=used, pool_fraction=used / POOL, train=_stats(used) if i else None)


def write_run(root: Path, method: str, seed: int, iterations: list[IterationMetrics],
              usage: dict[str, StageUsage] | None = None, **config: Any) -> Path:
    """A finished run directory holding config.json, state.json, metrics.json and usage.json; `config`
    sets RunConfig fields (data: a DataSettings)."""
    data = DataSettings(val=DataFile(path=Path("/data/val.jsonl")), pool=DataFile(path=Path("/data/pool.jsonl")))
    teacher = None if method in ("random", "full") else "openai-compatible/teacher@http://127.0.0.1:1/v1"
    run = RunDir(root)
    fields = {"method": method, "seed": seed, "data": data, "teacher": teacher, **config}
    run.write_config(RunConfig.model_validate(fields))
    atomic_write_json(run.state_path, RunState(stopped="iterations"))
    metrics = RunMetrics(method=method, seed=seed, pool_size=POOL, budget=100, iterations=iterations,
                         stopped="iterations")
    atomic_write_json(run.metrics_path, metrics)
    atomic_write_json(run.usage_path, UsageReport(stages=usage or {}))
    return root


def write_comparison(parent: Path) -> Path:
    """Two seeds of random and error_driven (100 samples = 10% of the pool) and one full-pool run.

    Test accuracy (out of 100): pretrained 10; random 40 / 50; error_driven 70 / 80; full 80.
    """
    skills = {"counting the shapes": 6, "filtering by colour": 2}
    for seed, (rnd, err) in enumerate([(40, 70), (50, 80)]):
        write_run(parent / f"seed{seed}" / "random", "random", seed,
                  [iteration(0, 10, 0), iteration(1, rnd, 100, families={"colour_naming": 60, "counting": 40},
                                                  matched={"random": 100})])
        write_run(parent / f"seed{seed}" / "error_driven", "error_driven", seed,
                  [iteration(0, 10, 0),
                   iteration(1, err - 10, 50, families={"counting": 45, "existence": 5}, missing=skills,
                             matched={"counting the shapes": 50}),
                   iteration(2, err, 100, families={"counting": 40, "counting_by_attribute": 10}, missing=skills,
                             matched={"filtering by colour": 50})],
                  usage={"teacher.localise": StageUsage(calls=8, cached_calls=2, prompt_tokens=800,
                                                        completion_tokens=80, cached_prompt_tokens=200,
                                                        cached_completion_tokens=20),
                         "teacher.skills": StageUsage(calls=8, prompt_tokens=900, completion_tokens=40)})
    write_run(parent / "seed0" / "full", "full", 0, [iteration(0, 10, 0), iteration(1, 80, POOL)])
    return parent
