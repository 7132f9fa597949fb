"""Per-sample token scores from a tiny random HF student, the loss variant of PROGRESS, and the EL2N and
perplexity baselines as loop methods."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from edtune.bench.shapes import load_world
from edtune.errors import ConfigError
from edtune.jsonl import read_jsonl
from edtune.loop import adapt
from edtune.loop.config import validate_config
from edtune.loop.rundir import RunDir
from edtune.loop.stages_select import read_selection
from edtune.methods.progress.records import ClusterRound, ProgressRound
from edtune.student.hf import HFStudent
from edtune.student.scores import TokenScores, score_samples
from loop.fakes import FamilyStudent

TRAINING = {"lora": {"epochs": 1, "min_steps": 0, "batch_size": 8, "print_targets": False}}


@pytest.fixture(scope="module")
def student(checkpoint: Path) -> HFStudent:
    from edtune.student.base import StudentConfig

    return HFStudent.from_pretrained(checkpoint, StudentConfig(max_new_tokens=8))


def test_loss_is_the_models_own_training_loss(student: HFStudent, world: Path) -> None:
    import torch

    samples = load_world(world).pool[:5]
    scores = student.token_scores(samples, world, batch_size=2)
    assert [s.sample_id for s in scores] == [s.id for s in samples]
    for sample, score in zip(samples, scores, strict=True):
        example = student.encoder.example(sample, world, row=1)
        with torch.inference_mode():
            expected = float(student.model(**student.encoder.training_batch([example])).loss)
        assert score.loss == pytest.approx(expected, rel=1e-4)
        assert score.perplexity == pytest.approx(math.exp(expected))
        assert 0.0 <= score.el2n <= math.sqrt(2)


def test_scores_do_not_depend_on_the_batch(student: HFStudent, world: Path) -> None:
    samples = load_world(world).pool[:6]
    one = student.token_scores(samples, world, batch_size=1)
    six = student.token_scores(samples, world, batch_size=6)
    for a, b in zip(one, six, strict=True):
        assert a.loss == pytest.approx(b.loss, rel=1e-4) and a.el2n == pytest.approx(b.el2n, rel=1e-4)


def test_el2n_by_hand(student: HFStudent, world: Path) -> None:
    import torch

    from edtune.student.batches import IGNORE_INDEX

    sample = load_world(world).pool[0]
    batch = student.encoder.training_batch([student.encoder.example(sample, world, row=1)])
    labels = batch.pop("labels")[0, 1:]
    with torch.inference_mode():
        probs = torch.softmax(student.model(**batch).logits.float()[0, :-1], dim=-1)
    keep = labels != IGNORE_INDEX
    onehot = torch.nn.functional.one_hot(labels[keep], probs.shape[-1]).float()
    expected = float(torch.linalg.vector_norm(probs[keep] - onehot, dim=-1).mean())
    assert student.token_scores([sample], world)[0].el2n == pytest.approx(expected, rel=1e-4)


class Unscored(FamilyStudent):
    def token_scores(self, samples: object, image_root: Path, *, batch_size: int = 32) -> list[TokenScores]:
        raise NotImplementedError


@pytest.mark.parametrize("student", [FamilyStudent(), Unscored()], ids=["without token_scores", "raising"])
def test_a_student_without_scores_is_refused_naming_the_method(world: Path, student: FamilyStudent) -> None:
    with pytest.raises(ConfigError, match=r"method 'el2n' needs per-sample scores.*(FamilyStudent|Unscored)"):
        score_samples(student, load_world(world).pool[:1], world, batch_size=4, needed_by="method 'el2n'")


def test_a_run_whose_student_cannot_score_names_the_method(world: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="method 'perplexity' needs per-sample scores"):
        adapt(FamilyStudent(), world / "counting_val.jsonl", world / "pool.jsonl", method="perplexity", budget=4,
              run_dir=tmp_path / "run", show_bars=False)


def _run(world: Path, checkpoint: Path, run_dir: Path, method: str, budget: int, **progress: object) -> RunDir:
    data = {"val": {"path": str(world / "counting_val.jsonl")}, "pool": {"path": str(world / "pool.jsonl")}}
    config = validate_config({"method": method, "data": data, "training": TRAINING,
                              "student": {"generation": {"max_new_tokens": 8}, "batch_size": 16},
                              "progress": progress}, "test")
    adapt(checkpoint, world / "counting_val.jsonl", world / "pool.jsonl", teacher=None, budget=budget,
          run_dir=run_dir, config=config, show_bars=False)
    return RunDir(run_dir)


@pytest.mark.parametrize(("method", "order"), [("el2n", "highest"), ("perplexity", "lowest")])
def test_score_baselines_keep_one_end_of_the_ranking(world: Path, checkpoint: Path, tmp_path: Path,
                                                     method: str, order: str) -> None:
    rd = _run(world, checkpoint, tmp_path / "run", method, 10, **{f"{method}_order": order})
    assert rd.state().stopped == "iterations"
    scores = read_jsonl(rd.file(1, "pool_scores.jsonl"), TokenScores)
    assert len(scores) == 80
    value = {s.sample_id: s.el2n if method == "el2n" else s.perplexity for s in scores}
    chosen = read_selection(rd, 1)
    assert len(chosen) == 10 and {c.skill for c in chosen} == {method}
    ranked = sorted(value, key=lambda i: (-value[i], i))
    expected = ranked[:10] if order == "highest" else ranked[::-1][:10]
    assert [c.sample_id for c in chosen] == expected
    assert all(c.score == value[c.sample_id] for c in chosen)
    summary = ProgressRound.model_validate_json(rd.file(1, "progress_round.json").read_text())
    assert summary.annotations == 80  # the scores read every pool sample's label


def test_progress_loss_variant_tracks_mean_loss_per_cluster(world: Path, checkpoint: Path, tmp_path: Path) -> None:
    rd = _run(world, checkpoint, tmp_path / "run", "progress", 12, k_tracking=3, k_warmup=6, round_size=6,
              warmup_fraction=0.5, eval_per_cluster=4, metric="loss")
    assert rd.state().stopped == "iterations"
    assert [len(read_selection(rd, i)) for i in (1, 2)] == [6, 6]
    previous = read_jsonl(rd.file(2, "progress_previous_losses.jsonl"), TokenScores)
    current = read_jsonl(rd.file(2, "progress_current_losses.jsonl"), TokenScores)
    assert [s.sample_id for s in previous] == [s.sample_id for s in current]
    assert {s.sample_id for s in current} <= {c.sample_id for c in read_selection(rd, 1)}
    rows = read_jsonl(rd.file(2, "cluster_accuracy.jsonl"), ClusterRound)
    assert all(r.metric == "loss" for r in rows)
    assert sum(r.evaluated for r in rows) == len(current)
    assert not rd.file(2, "progress_current_judgments.jsonl").exists()


def test_cli_runs_and_resumes_progress(world: Path, checkpoint: Path, tmp_path: Path) -> None:
    import typer
    from typer.testing import CliRunner

    from edtune.cli import run as run_cli

    app = typer.Typer()
    run_cli.register(app)
    config = tmp_path / "progress.toml"
    config.write_text(f"""
method = "progress"
budget = 8
[student]
path = "{checkpoint}"
[student.generation]
max_new_tokens = 8
[data]
val = {{path = "{world / 'counting_val.jsonl'}"}}
pool = {{path = "{world / 'pool.jsonl'}"}}
[progress]
k_tracking = 2
k_warmup = 4
round_size = 4
warmup_fraction = 0.5
eval_per_cluster = 2
[training.lora]
epochs = 1
min_steps = 0
print_targets = false
""")
    runner, run_dir = CliRunner(), tmp_path / "run"
    done = runner.invoke(app, ["run", str(config), "--run-dir", str(run_dir), "--no-bars"])
    assert done.exit_code == 0, done.output
    assert "progress: stopped (iterations) after 2 iteration(s); 8 samples used (10.0% of the pool)" in done.output
    again = runner.invoke(app, ["resume", str(run_dir), "--no-bars"])
    assert again.exit_code == 0 and "8 samples used" in again.output
