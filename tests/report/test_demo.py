"""The demo end to end on a tiny world (reference teacher over HTTP, a fake student), its reuse rules,
and the examples: they import, and the real-model config validates."""

from __future__ import annotations

import importlib.util
import json
import sys
import warnings
from pathlib import Path
from types import ModuleType

import pytest
from loop.fakes import FamilyStudent

from edtune.demo import QUICK, DemoConfig, DemoOutcome, run_config, run_demo, same_but_address, world_config
from edtune.errors import ConfigError
from edtune.loop import load_config
from edtune.loop.rundir import RunDir
from edtune.retrieval.base import TinyCorpusWarning
from edtune.student.bundled import ATTRIBUTES_CHECKPOINT

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TINY = DemoConfig(pool_size=120, val_size=8, test_size=8, base_size=10, budget=12, iterations=2)


@pytest.fixture(autouse=True)
def _quiet_tiny_corpus() -> None:
    warnings.simplefilter("ignore", TinyCorpusWarning)  # a 120-sample pool is far below BM25's comfort


def test_demo_end_to_end(tmp_path: Path) -> None:
    lines: list[str] = []
    outcome = run_demo(TINY, tmp_path / "demo", show_bars=False, notify=lines.append, student=FamilyStudent)
    rows = {row.method: row for row in outcome.results.methods}
    assert list(rows) == ["pretrained", "random", "error_driven", "full"]
    assert rows["full"].samples_used == 120 and rows["full"].percent_of_full == pytest.approx(100)
    assert rows["error_driven"].samples_used <= 12 and rows["random"].samples_used == 12
    assert rows["pretrained"].accuracy == 0.0  # the fake student knows nothing before training
    # The fake learns a family from two samples of it: error-driven picks the target families, full has all.
    assert rows["error_driven"].accuracy == rows["full"].accuracy == 1.0
    assert "| error_driven | 1 |" in outcome.table and outcome.report.is_file()
    assert any("error_driven: test accuracy 1.000" in line for line in lines)
    usage = json.loads((tmp_path / "demo" / "seed0" / "error_driven" / "usage.json").read_text())["stages"]
    assert usage["teacher.localise"]["calls"] > 0


def test_demo_reuses_finished_runs_and_refuses_others(tmp_path: Path) -> None:
    config = TINY.model_copy(update={"methods": ["random"]})
    run_demo(config, tmp_path / "demo", show_bars=False, student=FamilyStudent)
    lines: list[str] = []
    run_demo(config, tmp_path / "demo", show_bars=False, notify=lines.append, student=FamilyStudent)
    assert lines == [f"seed 0: random: finished earlier in {tmp_path / 'demo' / 'seed0' / 'random'}, reused"]
    with pytest.raises(ConfigError, match="holds a different demo run"):
        run_demo(config.model_copy(update={"budget": 6}), tmp_path / "demo", show_bars=False, student=FamilyStudent)
    with pytest.raises(ConfigError, match="different shapes world"):
        run_demo(config.model_copy(update={"pool_size": 100}), tmp_path / "demo", show_bars=False,
                 student=FamilyStudent)


def test_demo_reuses_a_teacher_run_across_ports_but_not_across_error_rates(tmp_path: Path) -> None:
    config = TINY.model_copy(update={"methods": ["error_driven"]})
    run_demo(config, tmp_path / "demo", show_bars=False, student=FamilyStudent)
    lines: list[str] = []
    run_demo(config, tmp_path / "demo", show_bars=False, notify=lines.append, student=FamilyStudent)
    assert lines == [f"seed 0: error_driven: finished earlier in {tmp_path / 'demo' / 'seed0' / 'error_driven'}, "
                     "reused"]  # a new port each call: the address is not part of what must match
    with pytest.raises(ConfigError, match="holds a different demo run"):
        run_demo(config.model_copy(update={"teacher_error_rate": 0.5}), tmp_path / "demo", show_bars=False,
                 student=FamilyStudent)


def test_demo_resumes_an_unfinished_run_at_the_new_address(tmp_path: Path) -> None:
    config = TINY.model_copy(update={"methods": ["error_driven"]})
    done = run_demo(config, tmp_path / "done", show_bars=False, student=FamilyStudent)
    run = RunDir(tmp_path / "cut" / "seed0" / "error_driven")
    run_demo(config, tmp_path / "cut", show_bars=False, student=FamilyStudent)
    state = run.state()
    run.state_path.write_text(state.model_copy(update={"stopped": None}).model_dump_json())  # as if killed
    config_before = run.read_config()
    lines: list[str] = []
    again = run_demo(config, tmp_path / "cut", show_bars=False, notify=lines.append, student=FamilyStudent)
    assert f"seed 0: error_driven: unfinished in {run.root}, resumed where it stopped" in lines
    assert run.read_config().teacher != config_before.teacher  # moved to this call's reference teacher
    assert run.state().stopped is not None
    assert again.table == done.table


def test_same_but_address_compares_the_teacher_model() -> None:
    wanted = run_config(TINY, "error_driven", 0, Path("/w"), "openai-compatible/edtune-reference-e0-s0@http://a:1/v1")
    moved = wanted.model_copy(update={"teacher": "openai-compatible/edtune-reference-e0-s0@http://a:2/v1"})
    other = wanted.model_copy(update={"teacher": "openai-compatible/edtune-reference-e0.5-s0@http://a:1/v1"})
    assert same_but_address(moved, wanted) and not same_but_address(other, wanted)


def test_demo_configs() -> None:
    for config in (DemoConfig(), QUICK):
        assert config.budget / config.pool_size == pytest.approx(0.10)
    with pytest.raises(ValueError, match="unknown task 'colour'"):
        DemoConfig(task="colour")
    settings = run_config(DemoConfig(), "random", 3, Path("/w"), "openai-compatible/t@http://127.0.0.1:1/v1")
    assert settings.teacher is None and settings.seed == 3 and settings.student.path == "bundled"
    assert settings.data.replay is not None and settings.data.replay.path == Path("/w/base.jsonl")
    assert (settings.training.lora.epochs, settings.training.lora.min_steps) == (10, 600)
    assert settings.training.replay_ratio == 0.5
    full = run_config(DemoConfig(), "full", 3, Path("/w"), "openai-compatible/t@http://127.0.0.1:1/v1")
    assert (full.training.lora.epochs, full.training.lora.min_steps, full.training.replay_ratio) == (30, 600, 0.0)
    attributes = DemoConfig(listing="attributes", task="size")
    assert world_config(attributes, 1).listing == "attributes"
    chosen = run_config(attributes, "error_driven", 1, Path("/w"), "openai-compatible/t@http://127.0.0.1:1/v1")
    assert Path(chosen.student.path) == ATTRIBUTES_CHECKPOINT  # the shipped student that writes that listing


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"examples_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_examples_import() -> None:
    assert callable(_load("demo_shapes").main)
    real = _load("real_model_qwen2vl")
    assert callable(real.annotate) and real.CONFIG == EXAMPLES / "qwen2vl_vllm.toml"


def test_real_model_config_validates() -> None:
    config = load_config(EXAMPLES / "qwen2vl_vllm.toml")
    real = _load("real_model_qwen2vl")
    assert config.teacher == real.TEACHER and config.method == "error_driven"
    assert config.student.generation.device == "cuda" and config.student.generation.dtype == "bfloat16"
    assert config.student.path == str(EXAMPLES / "checkpoints" / "Qwen2-VL-2B-Instruct")
    assert config.data.pool.root == EXAMPLES / "data" / "images" and config.data.val.format == "llava"
    assert config.training.lora.lr == pytest.approx(2e-4) and config.training.lora.epochs == 1


@pytest.mark.slow
def test_worker_processes_give_the_same_runs_as_one_process(tmp_path: Path) -> None:
    """Two spawned workers with the shipped tiny student: same selections and accuracies as in-process."""
    config = TINY.model_copy(update={"iterations": 1, "min_steps": 4, "final_min_steps": 4,
                                     "methods": ["random", "full"]})
    lines: list[str] = []
    parallel = run_demo(config, tmp_path / "two", show_bars=False, notify=lines.append)
    serial = run_demo(config.model_copy(update={"workers": 1}), tmp_path / "one", show_bars=False)
    assert any("2 worker processes" in line for line in lines)
    # The parent reports each stage the workers finish, so a long demo is never silent.
    assert "seed 0: random: iteration 1 train done" in lines and "seed 0: full: pretrained judge_test done" in lines
    def summary(outcome: DemoOutcome) -> list[tuple[str, float | None, float]]:
        return [(row.method, row.accuracy, row.samples_used) for row in outcome.results.methods]

    assert summary(parallel) == summary(serial)
    for method, name in (("random", "selection.jsonl"), ("random", "test_outputs.jsonl"),
                         ("full", "test_outputs.jsonl")):
        written = [(tmp_path / run / "seed0" / method / "iterations" / "001" / name).read_text()
                   for run in ("two", "one")]
        assert written[0] == written[1]


def test_real_model_progress_config_validates() -> None:
    config = load_config(EXAMPLES / "qwen2vl_progress.toml")
    assert config.method == "progress" and config.judge == "vllm-local" and config.teacher is None
    assert (config.progress.encoder, config.progress.encoder_device, config.progress.encoder_dtype) == (
        "hf", "cuda", "bfloat16")
    assert (config.progress.k_tracking, config.progress.k_warmup) == (150, 750)
    assert (config.training.schedule, config.training.adapter, config.training.data) == ("run", "continue", "new")
    assert config.data.pool.format == "llava" and config.data.pool.root == EXAMPLES / "data" / "images"
    assert config.student.generation.device == "cuda" and config.training.lora.epochs == 1
