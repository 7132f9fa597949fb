"""The loop end to end with a scripted teacher: run-directory contents, methods, stop rules, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edtune.environment import read_environments
from edtune.errors import ConfigError, DataError
from edtune.jsonl import read_jsonl
from edtune.judging.base import JudgeSummary
from edtune.llm.base import ChatRequest
from edtune.loop import AdaptResult, RunConfig, adapt, resume
from edtune.loop.metrics import IterationMetrics, kept_adapter
from edtune.loop.rundir import RandomStep, RunDir
from edtune.retrieval.select import ChosenSample
from edtune.student.base import TrainStats
from edtune.teacher.records import SkillAnalysis, StepLocation
from loop.fakes import COUNTING_SKILL, FamilyStudent, scripted_teacher, teacher_reply


def run(world: Path, run_dir: Path, student: FamilyStudent | None = None, **kw: Any) -> AdaptResult:
    options: dict[str, Any] = {"teacher": scripted_teacher(), "test": world / "counting_test.jsonl",
                               "replay": world / "base.jsonl", "budget": 12, "iterations": 3, **kw}
    return adapt(student or FamilyStudent(), world / "counting_val.jsonl", world / "pool.jsonl", run_dir=run_dir,
                 show_bars=False, **options)


def selection(run_dir: Path, i: int) -> list[ChosenSample]:
    return read_jsonl(RunDir(run_dir).file(i, "selection.jsonl"), ChosenSample)


def test_error_driven_run_directory(world: Path, tmp_path: Path) -> None:
    student = FamilyStudent()
    result = run(world, tmp_path / "run", student)
    rd = RunDir(result.run_dir)
    assert result.stopped == "iterations" and result.adapter == rd.adapter(3)
    assert result.pretrained_accuracy == 0.0 and result.test_accuracy is not None and result.test_accuracy > 0
    chosen = [c for i in (1, 2, 3) for c in selection(rd.root, i)]
    assert len(chosen) == len({c.sample_id for c in chosen}) == result.samples_used == 12
    assert result.pool_fraction == pytest.approx(12 / 80)
    assert all(c.skill == COUNTING_SKILL and c.score > 0 and c.rank >= 1 for c in chosen)
    first = read_jsonl(rd.file(1, "locations.jsonl"), StepLocation)
    assert len(first) == 8 and {loc.method for loc in first} == {"direct"} and all(loc.step == 1 for loc in first)
    analyses = read_jsonl(rd.file(1, "skills.jsonl"), SkillAnalysis)
    assert {a.sample_id for a in analyses} == {loc.sample_id for loc in first}
    train = rd.train_record(2)
    assert train is not None and train.train_ids == [c.sample_id for i in (1, 2) for c in selection(rd.root, i)]
    assert len(train.replay_ids) == 4 and student.trained[1] == train.train_ids
    metrics = json.loads(rd.metrics_path.read_text())
    # Iteration 4 only validates adapter 3, so that the run can keep its best adapter (RunConfig.keep).
    assert [it["iteration"] for it in metrics["iterations"]] == [0, 1, 2, 3, 4]
    assert metrics["iterations"][4]["val"] is not None and metrics["iterations"][4]["train"] is None
    assert metrics["kept"] == 3
    assert metrics["iterations"][1]["missing_skills"] == {COUNTING_SKILL: 8}
    assert metrics["iterations"][1]["test_by_family"].keys() == {"counting", "counting_by_attribute"}
    assert {"counting", "object_recognition"} <= metrics["iterations"][1]["test_by_skill"].keys()
    usage = json.loads(rd.usage_path.read_text())["stages"]
    assert usage["teacher.localise"]["calls"] > 0 and usage["teacher.skills"]["calls"] > 0
    assert rd.state().stopped == "iterations" and rd.read_config().budget == 12
    assert read_environments(rd.root)[0].packages["torch"] is not None


def test_random_and_full_baselines(world: Path, tmp_path: Path) -> None:
    teacher_calls: list[ChatRequest] = []
    rand = run(world, tmp_path / "random", method="random", teacher=scripted_teacher(teacher_calls.append))
    assert not teacher_calls and rand.samples_used == 12
    assert [len(selection(rand.run_dir, i)) for i in (1, 2, 3)] == [4, 4, 4]
    assert not RunDir(rand.run_dir).file(1, "val_outputs.jsonl").exists()
    full = run(world, tmp_path / "full", method="full")
    assert full.samples_used == 80 and full.pool_fraction == 1.0 and len(full.metrics.iterations) == 2
    assert full.test_accuracy == 1.0


def test_ablations(world: Path, tmp_path: Path) -> None:
    step = run(world, tmp_path / "step", method="ablation_random_step", iterations=1)
    rd = RunDir(step.run_dir)
    assert not rd.file(1, "locations.jsonl").exists()
    drawn = read_jsonl(rd.file(1, "random_steps.jsonl"), RandomStep)
    assert all(d.step is not None and 1 <= d.step <= d.n_steps for d in drawn)
    analyses = {a.sample_id: a.step for a in read_jsonl(rd.file(1, "skills.jsonl"), SkillAnalysis)}
    assert analyses == {d.sample_id: d.step for d in drawn}

    text = run(world, tmp_path / "text", method="ablation_step_text", iterations=1)
    assert not RunDir(text.run_dir).file(1, "skills.jsonl").exists()
    chosen = selection(text.run_dir, 1)
    assert chosen and all(c.skill.startswith("I see ") for c in chosen)  # the text of step 1, the blamed step

    rand = run(world, tmp_path / "samples", method="ablation_random_samples", iterations=1)
    targeted = run(world, tmp_path / "targeted", iterations=1)
    assert {c.skill for c in selection(rand.run_dir, 1)} == {"random"}
    assert len(selection(rand.run_dir, 1)) == len(selection(targeted.run_dir, 1)) == 12


def test_stops_when_no_error_is_left(world: Path, tmp_path: Path) -> None:
    result = run(world, tmp_path / "run", budget=40, iterations=5)
    assert result.stopped == "no_errors"
    last = result.metrics.iterations[-1]
    assert last.errors == 0 and last.val is not None and last.val.accuracy == 1.0 and last.train is None
    assert result.adapter == RunDir(result.run_dir).adapter(len(result.metrics.iterations) - 2)


def test_stops_when_nothing_matches(world: Path, tmp_path: Path) -> None:
    def unknown_skill(request: ChatRequest) -> str:
        if request.template_name == "missing_skills":
            return '{"skills": ["juggling"]}'
        return teacher_reply(request)

    from edtune.llm.scripted import ScriptedClient

    result = run(world, tmp_path / "run", teacher=ScriptedClient(unknown_skill))
    assert result.stopped == "nothing_selected" and result.adapter is None and result.samples_used == 0


def test_front_loaded_budget_and_new_data_only(world: Path, tmp_path: Path) -> None:
    student = FamilyStudent()
    base = RunConfig.model_validate({"budget_rule": "front_loaded", "training": {"data": "new"},
                                     "data": {"val": {"path": str(world / "counting_val.jsonl")},
                                              "pool": {"path": str(world / "pool.jsonl")}},
                                     "teacher": "scripted/teacher"})
    result = run(world, tmp_path / "run", student, config=base, budget=16)
    trained = [it.iteration for it in result.metrics.iterations if it.train is not None]
    sizes = [len(selection(result.run_dir, i)) for i in trained]
    assert sizes[:2] == [8, 4]
    assert [len(ids) for ids in student.trained] == sizes


def test_refuses_other_runs_and_bad_input(world: Path, tmp_path: Path) -> None:
    run(world, tmp_path / "run", iterations=1)
    with pytest.raises(ConfigError, match="different config"):
        run(world, tmp_path / "run", iterations=2)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not empty"):
        run(world, tmp_path / "other")
    with pytest.raises(DataError) as info:
        run(world, tmp_path / "missing", test=world / "nope.jsonl")
    assert info.value.file is not None and info.value.file.endswith("nope.jsonl")
    with pytest.raises(ConfigError, match="started with a FamilyStudent object"):
        resume(tmp_path / "run")
    with pytest.raises(ConfigError, match="no run in"):
        resume(tmp_path / "absent")


def test_saved_index_gives_the_same_selection(world: Path, tmp_path: Path) -> None:
    from edtune.retrieval.index import build_index
    from edtune.retrieval.spec import CorpusSpec

    build_index(CorpusSpec(name="pool", pool=[world / "pool.jsonl"], index_dir=tmp_path / "index"))
    saved = RunConfig.model_validate({"retrieval": {"index": str(tmp_path / "index")}, "teacher": "scripted/teacher",
                                      "data": {"val": {"path": str(world / "counting_val.jsonl")},
                                               "pool": {"path": str(world / "pool.jsonl")}}})
    with_index = run(world, tmp_path / "indexed", config=saved)
    in_process = run(world, tmp_path / "built")
    for i in (1, 2, 3):
        assert selection(with_index.run_dir, i) == selection(in_process.run_dir, i)


def test_progress_bars_do_not_disturb_the_run(world: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = adapt(FamilyStudent(), world / "counting_val.jsonl", world / "pool.jsonl", teacher=scripted_teacher(),
                   test=world / "counting_test.jsonl", budget=4, iterations=1, run_dir=tmp_path / "run",
                   show_bars=True)
    assert result.samples_used == 4 and capsys.readouterr().out == ""



class ForgetfulStudent(FamilyStudent):
    """Learns as FamilyStudent but never counting by attribute (so validation errors remain every iteration),
    and its third training call leaves it knowing nothing."""

    def train(self, samples: Any, image_root: Path, config: Any, **kw: Any) -> Any:
        stats = super().train(samples, image_root, config, **kw)
        self.known = (self.known or set()) - {"counting_by_attribute"}
        if len(self.trained) == 3:
            self.known = set()
        return stats


@pytest.mark.parametrize(("keep", "kept"), [("auto", 2), ("best_val", 2), ("last", 3)])
def test_the_run_keeps_its_best_adapter_on_validation(world: Path, tmp_path: Path, keep: str, kept: int) -> None:
    """An iteration that makes the student worse is not what the run returns, unless keep = "last"."""
    config = RunConfig.model_validate({"keep": keep, "data": {"val": {"path": str(world / "counting_val.jsonl")},
                                                              "pool": {"path": str(world / "pool.jsonl")}},
                                       "teacher": "unused"})
    result = run(world, tmp_path / "run", ForgetfulStudent(), budget=24, config=config)
    metrics = result.metrics
    assert metrics.kept == kept and result.adapter == RunDir(result.run_dir).adapter(kept)
    test = {it.iteration: it.test.accuracy for it in metrics.iterations if it.test is not None}
    assert test[3] == 0.0 < test[2] and result.test_accuracy == test[kept]
    assert result.samples_used == 24  # what the run spent, whichever adapter it keeps


@pytest.mark.parametrize("keep", ["auto", "best_val"])
def test_methods_without_validation_validate_only_when_asked(world: Path, tmp_path: Path, keep: str) -> None:
    """random reads no validation data unless keep = "best_val", which validates every adapter, the last in a
    validation-only iteration."""
    config = RunConfig.model_validate({"keep": keep, "method": "random",
                                       "data": {"val": {"path": str(world / "counting_val.jsonl")},
                                                "pool": {"path": str(world / "pool.jsonl")}}})
    metrics = run(world, tmp_path / "run", ForgetfulStudent(), budget=24, config=config, teacher=None).metrics
    validated = [it.iteration for it in metrics.iterations if it.val is not None]
    assert validated == ([1, 2, 3, 4] if keep == "best_val" else [])
    assert metrics.kept == (kept_adapter(metrics.iterations, best_val=True) if keep == "best_val" else 3)


def test_kept_adapter_rule() -> None:
    def it(i: int, val: float | None, trained: bool = True) -> IterationMetrics:
        stats = TrainStats(steps=1, epochs=1, train_samples=1, replay_samples=0, epoch_losses=[1.0], wall_s=0,
                           trainable_params=0, target_modules=[]) if trained else None
        summary = None if val is None else JudgeSummary(correct=round(10 * val), incorrect=10 - round(10 * val),
                                                        unscored=0, unscored_reasons={}, accuracy=val)
        return IterationMetrics(iteration=i, val=summary, train=stats)

    # val of iteration i scores adapter i - 1
    runs = [it(0, None, False), it(1, 0.0), it(2, 0.5), it(3, 0.5), it(4, 0.2, False)]
    assert kept_adapter(runs, best_val=True) == 2  # adapters 1 and 2 tie at 0.5: the later wins
    assert kept_adapter(runs, best_val=False) == 3
    assert kept_adapter([it(0, None, False), it(1, 0.9), it(2, 0.1, False)], best_val=True) == 0  # tuning hurt
    assert kept_adapter([it(0, None, False), it(1, None)], best_val=True) == 1  # nothing validated: the last
