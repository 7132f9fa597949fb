"""`edtune student pretrain` and `edtune student eval` through typer."""

from __future__ import annotations

import json
import re
from pathlib import Path

import typer
from typer.testing import CliRunner

from edtune.cli import student as student_cli
from edtune.data.loaders import write_samples
from edtune.errors import ConfigError, UserError
from edtune.records import Sample


def _app() -> typer.Typer:
    app = typer.Typer()
    student_cli.register(app)
    return app


def test_pretrain_then_eval(tmp_path: Path, samples: list[Sample], image_root: Path) -> None:
    runner, app = CliRunner(), _app()
    out = tmp_path / "student"
    built = runner.invoke(app, ["student", "pretrain", "--out", str(out), "--steps", "1", "--samples", "6"])
    assert built.exit_code == 0, built.output
    assert "1 steps on 6 samples" in built.output and (out / "model.safetensors").is_file()

    data = image_root / "colours.jsonl"
    write_samples([s.model_copy(update={"metadata": {"skill": "colour"}}) for s in samples[:5]], data)
    scored = runner.invoke(app, ["student", "eval", "--model", str(out), "--data", str(data), "--batch-size", "2"])
    assert scored.exit_code == 0, scored.output
    rows = {line.split()[0]: line for line in scored.output.splitlines() if line.endswith("/5)")}
    assert set(rows) == {"colour", "all"}

    # families under a key of the user's choosing; samples without it are grouped, not called "all"
    kinds = [s.model_copy(update={"metadata": {"kind": "hue"} if i < 3 else {}}) for i, s in enumerate(samples[:5])]
    write_samples(kinds, data)
    named = runner.invoke(app, ["student", "eval", "--model", str(out), "--data", str(data), "--family-field", "kind"])
    assert named.exit_code == 0, named.output
    totals = [(m.group(1), int(m.group(2))) for line in named.output.splitlines()
              if (m := re.match(r"^(.*?)\s+\d\.\d{3}\s+\(\d+/(\d+)\)$", line))]
    assert totals == [("hue", 3), ("(no family)", 2), ("all", 5)]


def test_eval_refuses_a_missing_checkpoint(tmp_path: Path, samples: list[Sample], image_root: Path) -> None:
    data = image_root / "one.jsonl"
    write_samples(samples[:1], data)
    result = CliRunner().invoke(_app(), ["student", "eval", "--model", str(tmp_path / "nope"), "--data", str(data)])
    assert isinstance(result.exception, UserError) and "not found" in str(result.exception)


def test_eval_refuses_a_device_this_machine_lacks_naming_the_option(tmp_path: Path) -> None:
    # Neither the data nor the checkpoint exists: the device is checked before either is read.
    result = CliRunner().invoke(_app(), ["student", "eval", "--model", str(tmp_path / "nope"),
                                         "--data", str(tmp_path / "none.jsonl"), "--device", "tpu"])
    assert isinstance(result.exception, ConfigError)
    assert "--device = 'tpu', but torch finds no tpu device" in str(result.exception)


def test_pretrain_on_own_samples(tmp_path: Path, samples: list[Sample], image_root: Path) -> None:
    """--data trains a new tiny student on the user's samples; --vocab adds the words of a task it will be
    tuned on, so they exist in its tokenizer though never trained."""
    runner, app = CliRunner(), _app()
    own, later = image_root / "own.jsonl", image_root / "later.jsonl"
    write_samples(samples[:4], own)
    write_samples([s.model_copy(update={"answer": "zebra"}) for s in samples[4:6]],
                  later)
    out = tmp_path / "own_student"
    built = runner.invoke(app, ["student", "pretrain", "--out", str(out), "--data", str(own), "--vocab", str(later),
                                "--steps", "2", "--patch-size", "8"])
    assert built.exit_code == 0, built.output
    assert "2 steps on 4 samples" in built.output
    from transformers import AutoProcessor

    tokenizer = AutoProcessor.from_pretrained(out).tokenizer
    assert tokenizer.convert_tokens_to_ids("zebra") != tokenizer.unk_token_id
    recorded = json.loads((out / "edtune_pretrain.json").read_text())
    assert recorded["config"]["model"]["patch_size"] == 8 and recorded["config"]["steps"] == 2


def test_pretrain_refuses_mixed_options(tmp_path: Path, image_root: Path) -> None:
    runner, app = CliRunner(), _app()
    mixed = runner.invoke(app, ["student", "pretrain", "--out", str(tmp_path / "x"), "--data",
                                str(image_root / "own.jsonl"), "--samples", "6"])
    assert mixed.exit_code != 0 and "--samples: shapes-world options" in mixed.output
    alone = runner.invoke(app, ["student", "pretrain", "--out", str(tmp_path / "x"), "--vocab", "v.jsonl"])
    assert alone.exit_code != 0 and "go with --data" in alone.output
