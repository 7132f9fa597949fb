"""PROGRESS in the loop (`method = "progress"`): warm-up, rounds, run-directory files, budget and plan,
with the deterministic family student and the exact judge."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from edtune.errors import ConfigError, DataError
from edtune.jsonl import read_jsonl
from edtune.judging.exact import ExactJudge
from edtune.loop import AdaptResult, load_config
from edtune.loop.config import TrainingSettings, validate_config
from edtune.loop.rundir import RunDir
from edtune.loop.stages_select import read_selection
from edtune.methods import methods
from edtune.methods.progress.method import warmup_size
from edtune.methods.progress.records import ClusterRound, ProgressRound
from edtune.records import Judgment, Sample, StudentOutput
from loop.fakes import PROGRESS_SETTINGS, FamilyStudent, progress_config, run_progress

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


class CountingJudge(ExactJudge):
    """The exact judge, logging every sample id it judges (to prove no judged evaluation is repeated)."""

    def __init__(self) -> None:
        super().__init__()
        self.judged: list[str] = []

    async def judge(self, samples: Sequence[Sample], outputs: Sequence[StudentOutput]) -> list[Judgment]:
        self.judged.extend(s.id for s in samples)
        return await super().judge(samples, outputs)


def run(world: Path, run_dir: Path, student: FamilyStudent, judge: ExactJudge | None = None,
        **progress: object) -> AdaptResult:
    return run_progress(world, run_dir, student, progress_config(world, **progress), judge)


@pytest.fixture(scope="module")
def finished(world: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[AdaptResult, FamilyStudent]:
    student = FamilyStudent()
    return run(world, tmp_path_factory.mktemp("progress") / "run", student), student


def test_plan_is_warmup_then_rounds_until_the_budget(world: Path) -> None:
    config = progress_config(world)
    plan = methods.create("progress").plan(config.model_copy(update={"budget": 24}), pool_size=80)
    assert (plan.budget, plan.iterations) == (24, 4)
    assert warmup_size(config, 24) == 6
    small = methods.create("progress").plan(config.model_copy(update={"budget": 500}), pool_size=80)
    assert small.budget == 80  # never more than the pool


def test_run_spends_the_budget_in_warmup_and_rounds(finished: tuple[AdaptResult, FamilyStudent]) -> None:
    result, student = finished
    rd = RunDir(result.run_dir)
    assert result.stopped == "iterations" and result.samples_used == 24
    sizes = [len(read_selection(rd, i)) for i in (1, 2, 3, 4)]
    assert sizes == [6, 8, 8, 2]
    chosen = [c.sample_id for i in (1, 2, 3, 4) for c in read_selection(rd, i)]
    assert len(set(chosen)) == 24, "a sample was annotated twice"
    # Training is cumulative: each iteration trains on everything selected so far.
    assert [len(t) for t in student.trained] == [6, 14, 22, 24]
    rounds = [ProgressRound.model_validate_json(rd.file(i, "progress_round.json").read_text()) for i in (1, 2, 3, 4)]
    assert [r.kind for r in rounds] == ["warmup", "round", "round", "round"]
    assert [r.annotations for r in rounds] == [6, 14, 22, 24]


def test_selection_records_the_tracking_cluster(finished: tuple[AdaptResult, FamilyStudent]) -> None:
    rd = RunDir(finished[0].run_dir)
    ids = json.loads((rd.root / "progress" / "pool_ids.json").read_text())
    assignments = np.load(rd.root / "progress" / "tracking.npz")["assignments"]
    cluster_of = {i: f"cluster-{c}" for i, c in zip(ids, assignments, strict=True)}
    for i in (1, 2, 3, 4):
        chosen = read_selection(rd, i)
        assert all(c.skill == cluster_of[c.sample_id] for c in chosen)
        assert [c.rank for c in chosen] == list(range(1, len(chosen) + 1))
        rows = read_jsonl(rd.file(i, "cluster_accuracy.jsonl"), ClusterRound)
        assert sum(r.size for r in rows) == len(ids)
        assert sum(r.quota + r.explored for r in rows) == len(chosen)
        picked = Counter(c.skill for c in chosen)
        assert {r.cluster: r.quota + r.explored for r in rows if r.quota + r.explored} == dict(picked)


def test_rounds_evaluate_only_annotated_samples_with_two_students(finished: tuple[AdaptResult, FamilyStudent]) -> None:
    rd = RunDir(finished[0].run_dir)
    assert not rd.file(1, "progress_current_outputs.jsonl").exists()  # warm-up evaluates nothing
    for i in (2, 3, 4):
        annotated = {c.sample_id for j in range(1, i) for c in read_selection(rd, j)}
        current = [j.sample_id for j in read_jsonl(rd.file(i, "progress_current_judgments.jsonl"), Judgment)]
        previous = [j.sample_id for j in read_jsonl(rd.file(i, "progress_previous_judgments.jsonl"), Judgment)]
        assert current == previous and set(current) <= annotated
        rows = read_jsonl(rd.file(i, "cluster_accuracy.jsonl"), ClusterRound)
        assert all(r.evaluated <= 5 for r in rows)
        assert sum(r.evaluated for r in rows) == len(current)
        assert all((r.improvement is None) == (r.current is None or r.previous is None) for r in rows)


def test_round_quotas_go_to_improving_clusters(finished: tuple[AdaptResult, FamilyStudent]) -> None:
    rd = RunDir(finished[0].run_dir)
    for i in (2, 3, 4):
        rows = read_jsonl(rd.file(i, "cluster_accuracy.jsonl"), ClusterRound)
        assert all(r.improvement is not None and r.improvement > 0 for r in rows if r.quota > 0)
        note = ProgressRound.model_validate_json(rd.file(i, "progress_round.json").read_text()).note
        if note is None:
            assert sum(r.explored for r in rows) == round(0.1 * len(read_selection(rd, i)))


def test_same_seed_same_run_and_pool_features_cached(world: Path, tmp_path: Path,
                                                     finished: tuple[AdaptResult, FamilyStudent]) -> None:
    run(world, tmp_path / "again", FamilyStudent())
    for i in (1, 2, 3, 4):
        assert read_selection(RunDir(tmp_path / "again"), i) == read_selection(RunDir(finished[0].run_dir), i)
    cached = finished[0].run_dir / "progress"
    assert {p.name for p in cached.iterdir()} == {"pool_ids.json", "features.npy", "tracking.npz", "warmup.npz"}


def test_a_changed_pool_is_refused_on_resume(world: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run(world, run_dir, FamilyStudent())
    (run_dir / "progress" / "pool_ids.json").write_text(json.dumps(["other"]))
    rd = RunDir(run_dir)
    state = rd.state()
    state.done = [k for k in state.done if not k.endswith("/features")]
    rd.state_path.write_text(state.model_dump_json())
    with pytest.raises(DataError, match="pool changed"):
        run(world, run_dir, FamilyStudent())


def test_progress_needs_no_teacher_and_config_keys_are_checked(world: Path) -> None:
    assert progress_config(world).teacher is None
    with pytest.raises(ConfigError, match=r"progress\.k_warmup"):
        validate_config({"method": "progress", "data": {"val": {"path": "v"}, "pool": {"path": "p"}},
                         "progress": {"k_warmup": 0}}, "test")
    with pytest.raises(ConfigError, match="k_warmup"):
        progress_config(world, k_tracking=9, k_warmup=8)


def test_example_config_loads() -> None:
    config = load_config(EXAMPLES / "shapes_progress.toml")
    assert config.method == "progress" and config.teacher is None
    assert config.progress.encoder == "cheap" and config.progress.k_tracking < config.progress.k_warmup


def test_held_out_evaluation_sets_are_never_trained_on_until_the_final_iteration(world: Path, tmp_path: Path) -> None:
    student = FamilyStudent()
    result = run(world, tmp_path / "held", student, eval_samples="held_out")
    rd = RunDir(result.run_dir)
    held = [json.loads(rd.file(i, "held_out.json").read_text()) for i in (1, 2, 3, 4)]
    assert held[0], "warm-up holds out part of what it annotates"
    for i in (1, 2, 3, 4):
        assert set(held[i - 1]) <= {c.sample_id for c in read_selection(rd, i)}
    held_so_far = set(held[0])
    for i in (2, 3, 4):
        # both students are scored on exactly the samples held out before this round, which neither trained on
        current = {j.sample_id for j in read_jsonl(rd.file(i, "progress_current_judgments.jsonl"), Judgment)}
        assert current == held_so_far
        assert not held_so_far & set(student.trained[i - 2])
        held_so_far |= set(held[i - 1])
    # per cluster at most eval_per_cluster held out, and the final model trains on every annotation
    clusters = Counter(c.skill for i in (1, 2, 3, 4) for c in read_selection(rd, i) if c.sample_id in held_so_far)
    assert max(clusters.values()) <= PROGRESS_SETTINGS["eval_per_cluster"]
    assert result.samples_used == 24 and len(student.trained[-1]) == 24
    assert [len(t) for t in student.trained[:-1]] == [6 - len(held[0]), 14 - len(set(held[0]) | set(held[1])),
                                                     22 - len(held_so_far - set(held[3]))]


def test_held_out_evaluation_is_refused_for_other_methods(world: Path) -> None:
    data = {"val": {"path": str(world / "counting_val.jsonl")}, "pool": {"path": str(world / "pool.jsonl")}}
    with pytest.raises(ConfigError, match=r"held_out.*'progress' only"):
        validate_config({"method": "random", "data": data, "progress": {"eval_samples": "held_out"}}, "test")


def test_held_out_with_new_data_only_adds_every_held_out_id_to_the_final_training(world: Path, tmp_path: Path) -> None:
    student = FamilyStudent()
    config = progress_config(world, TrainingSettings(data="new"), eval_samples="held_out")
    result = run_progress(world, tmp_path / "run", student, config)
    rd = RunDir(result.run_dir)
    held = [set(json.loads(rd.file(i, "held_out.json").read_text())) for i in (1, 2, 3, 4)]
    own = [{c.sample_id for c in read_selection(rd, i)} for i in (1, 2, 3, 4)]
    for i in range(3):  # intermediate iterations: their own selection minus what they hold out
        assert set(student.trained[i]) == own[i] - held[i]
    assert set(student.trained[3]) == own[3] | held[0] | held[1] | held[2]
