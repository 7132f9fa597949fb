"""RunConfig from TOML: paths resolved against the file, one-line ConfigErrors naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from edtune.errors import ConfigError
from edtune.loop import load_config
from edtune.loop.config import RunConfig, validate_config

MINIMAL = """
teacher = "vllm/Qwen/Qwen2.5-VL-7B-Instruct@http://127.0.0.1:8000/v1"
budget = 40

[data]
val = {path = "world/counting_val.jsonl"}
pool = {path = "world/pool.jsonl", image_root = "world"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(text)
    return path


def test_paths_are_resolved_against_the_config_folder(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MINIMAL + '\n[student]\npath = "ckpt"\n'
                               '[student.generation]\naccelerate_config = "gpus.yaml"\n'))
    assert config.student.generation.accelerate_config == str(tmp_path / "gpus.yaml")
    assert config.data.val.path == tmp_path / "world" / "counting_val.jsonl"
    assert config.data.val.root == tmp_path / "world"
    assert config.data.pool.image_root == tmp_path / "world"
    assert config.student.path == str(tmp_path / "ckpt")
    assert config.teacher == "vllm/Qwen/Qwen2.5-VL-7B-Instruct@http://127.0.0.1:8000/v1"
    assert (config.method, config.iterations, config.training.data, config.training.adapter) == \
        ("error_driven", 3, "cumulative", "fresh")


def test_local_encoder_folders_resolve_against_the_config_and_model_ids_are_kept(tmp_path: Path) -> None:
    (tmp_path / "encoders" / "dino").mkdir(parents=True)
    text = MINIMAL + '\n[progress]\nencoder = "hf"\nimage_model = "encoders/dino"\n' \
        'text_model = "sentence-transformers/all-MiniLM-L6-v2"\n'
    config = load_config(write(tmp_path, text))
    assert config.progress.image_model == str(tmp_path / "encoders" / "dino")
    assert config.progress.text_model == "sentence-transformers/all-MiniLM-L6-v2"


def test_bundled_student_path_is_kept(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, MINIMAL)).student.path == "bundled"


@pytest.mark.parametrize(("extra", "field"), [
    ("\n[training]\nreplay_ratoi = 0.5\n", "training.replay_ratoi"),
    ("\n[student.generation]\ndevice = \"tpu\"\n", "student.generation.device"),
    ("\n[retrieval]\ntop_k = 0\n", "retrieval.top_k"),
])
def test_bad_field_names_file_and_field(tmp_path: Path, extra: str, field: str) -> None:
    path = write(tmp_path, MINIMAL + extra)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message and f"field '{field}'" in message and "\n" not in message


def test_unknown_method_and_missing_teacher(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="field 'method'"):
        load_config(write(tmp_path, 'method = "progress2"\n' + MINIMAL))
    no_teacher = MINIMAL.replace('teacher = "vllm/Qwen/Qwen2.5-VL-7B-Instruct@http://127.0.0.1:8000/v1"', "")
    with pytest.raises(ConfigError, match="needs a teacher spec"):
        load_config(write(tmp_path, no_teacher))
    assert load_config(write(tmp_path, 'method = "random"\n' + no_teacher)).teacher is None


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "budget = = 3"))


def test_every_field_is_documented() -> None:
    def check(model: type[BaseModel]) -> None:
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no docstring"
            annotation = info.annotation
            for arg in (*getattr(annotation, "__args__", ()), annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel) and arg.__module__.startswith("edtune.loop"):
                    check(arg)

    check(RunConfig)


def test_the_example_config_loads() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "shapes_error_driven.toml"
    config = load_config(example)
    assert config.method == "error_driven" and config.data.replay is not None
    assert config.data.pool.path == example.parent.parent / "data" / "shapes" / "pool.jsonl"


def test_the_default_recipe_gives_a_small_selection_the_benchmarks_step_floor(tmp_path: Path) -> None:
    from edtune.demo import DemoConfig
    from edtune.student.base import DEFAULT_MIN_STEPS
    from edtune.student.training import call_steps

    lora = load_config(write(tmp_path, MINIMAL + "\n[training.lora]\nlr = 2e-4\n")).training.lora
    assert DemoConfig().min_steps == DEFAULT_MIN_STEPS  # the bundled benchmark's floor is the default
    # 40 selected + 20 replay samples: 2 steps an epoch, so 10 epochs alone would be 20 steps
    assert call_steps(lora, 60) == DEFAULT_MIN_STEPS
    assert call_steps(lora, 6_400) == 2_000  # a selection large enough is trained by its epochs


def test_training_joins_the_runs_ray_cluster_unless_told_another(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    """One Ray address for a run: `pool_engine.ray.address` reaches the student's training launches when
    `student.generation.ray_address` is unset, and does not replace it when set."""
    import edtune.loop.context as context

    seen: list[str | None] = []
    monkeypatch.setattr(context, "load_student", lambda settings, work_dir=None: seen.append(
        settings.generation.ray_address))
    data = {"val": {"path": "v.jsonl"}, "pool": {"path": "p.jsonl"}}
    for student, expected in (({}, "head:6379"), ({"generation": {"ray_address": "other:1"}}, "other:1")):
        config = validate_config({"method": "random", "data": data, "student": student,
                                  "pool_engine": {"engine": "ray", "ray": {"address": "head:6379"}}}, "t")
        context._load_student(config, tmp_path)
        assert seen[-1] == expected


def test_settings_progress_once_held_move_to_their_sections() -> None:
    """el2n/perplexity orders live in [scores] and the scoring batch in [student]: an older run's snapshot
    (old defaults under [progress]) reads without a warning, a changed value moves with one, and a value
    already in the new place wins."""
    import warnings

    data = {"method": "random", "data": {"val": {"path": "v.jsonl"}, "pool": {"path": "p.jsonl"}}}
    old = {"el2n_order": "highest", "perplexity_order": "middle", "score_batch_size": 32}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        snapshot = validate_config(data | {"progress": old}, "t")
    assert snapshot == validate_config(data, "t")
    with pytest.warns(DeprecationWarning, match=r"progress.el2n_order is now scores.el2n_order"):
        moved = validate_config(data | {"progress": {"el2n_order": "lowest", "score_batch_size": 8}}, "t")
    assert (moved.scores.el2n_order, moved.student.score_batch_size) == ("lowest", 8)
    with pytest.warns(DeprecationWarning):
        both = validate_config(data | {"progress": {"el2n_order": "lowest"}, "scores": {"el2n_order": "middle"}},
                               "t")
    assert both.scores.el2n_order == "middle"
