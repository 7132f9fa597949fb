"""docs/teacher.md's example server (examples/own_teacher_server.py, standard library only), started on
127.0.0.1, as the teacher of a small run of the bundled student on a shapes world, through the real
`openai` client: preflight, pool annotation, answer-switch and direct localisation, skill analysis,
retrieval, training and evaluation, end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from edtune.bench.shapes import ShapesConfig, generate_world, write_world
from edtune.errors import TeacherPreflightFailed
from edtune.jsonl import read_jsonl
from edtune.loop import adapt
from edtune.loop.config import validate_config
from edtune.loop.rundir import RunDir
from edtune.loop.runlog import read_log
from edtune.teacher.records import SkillAnalysis, SkillAnnotation, StepLocation

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "own_teacher_server.py"
TRAINING = {"lora": {"epochs": 1, "min_steps": 2, "batch_size": 8, "r": 4, "alpha": 8}, "replay_ratio": 0.5,
            "final_min_steps": None}
"""A few optimiser steps: the test is about the teacher, not about what training achieves."""


@contextmanager
def own_teacher(*flags: str) -> Iterator[str]:
    """The example server on a free port of 127.0.0.1; yields its teacher spec string."""
    server = subprocess.Popen([sys.executable, str(EXAMPLE), "--port", "0", *flags], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # "listening on http://127.0.0.1:PORT/v1 (model own-teacher)"
        assert line.startswith("listening on "), line
        yield f"openai-compatible/own-teacher@{line.split()[2]}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Counting (open questions) and size (multiple choice) tasks; a pool whose required_skills were dropped."""
    config = ShapesConfig(seed=0, pool_size=60, val_size=8, test_size=8, base_size=10, tasks=["counting", "size"])
    out = tmp_path_factory.mktemp("own") / "shapes"
    write_world(generate_world(config), out)
    rows = [json.loads(line) for line in (out / "pool.jsonl").read_text().splitlines()]
    (out / "bare_pool.jsonl").write_text("".join(json.dumps({k: v for k, v in row.items() if k != "required_skills"})
                                                 + "\n" for row in rows))
    for split in ("val", "test"):
        (out / f"{split}.jsonl").write_text((out / f"counting_{split}.jsonl").read_text()
                                            + (out / f"size_{split}.jsonl").read_text())
    return out


def _adapt(world: Path, teacher: str, run_dir: Path) -> object:
    data = {"val": {"path": str(world / "val.jsonl")}, "pool": {"path": str(world / "bare_pool.jsonl")}}
    config = validate_config({"data": data, "teacher": teacher, "training": TRAINING}, "test")
    return adapt("bundled", world / "val.jsonl", world / "bare_pool.jsonl", teacher=teacher, test=world / "test.jsonl",
                 replay=world / "base.jsonl", budget=8, iterations=1, run_dir=run_dir, config=config, show_bars=False)


def test_a_run_against_the_example_server_goes_end_to_end(world: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    with own_teacher() as teacher:
        _adapt(world, teacher, run_dir)
    rd = RunDir(run_dir)
    preflight = json.loads((run_dir / "preflight.jsonl").read_text().splitlines()[-1])
    assert [(c["check"], c["passed"]) for c in preflight["checks"]] == [("reachable", True), ("images", True),
                                                                        ("logprobs", True)]
    annotations = read_jsonl(rd.annotations_path, SkillAnnotation)
    assert len(annotations) == 60 and all(a.outcome == "found" for a in annotations)
    locations = read_jsonl(rd.file(1, "locations.jsonl"), StepLocation)
    assert locations and all(loc.outcome != "failed" for loc in locations)
    assert {loc.method for loc in locations} == {"answer_switch", "direct"}  # size: multiple choice; counting: open
    analyses = read_jsonl(rd.file(1, "skills.jsonl"), SkillAnalysis)
    assert analyses and all(a.outcome == "found" for a in analyses)
    assert rd.file(1, "selection.jsonl").read_text() and rd.adapter(1).is_dir()
    usage = json.loads((run_dir / "usage.json").read_text())["stages"]
    assert {"teacher.preflight", "teacher.annotate", "teacher.localise", "teacher.skills"} <= set(usage)
    assert usage["teacher.annotate"]["calls"] == 60
    assert any(line.startswith("localisation: multiple choice by answer-switch") for line in read_log(run_dir))


def test_a_text_only_example_server_is_refused_at_start_naming_the_setting(world: Path, tmp_path: Path) -> None:
    with own_teacher("--no-images") as teacher, pytest.raises(TeacherPreflightFailed) as info:
        _adapt(world, teacher, tmp_path / "run")
    assert (info.value.check, info.value.setting, info.value.status) == ("images", "teacher_images", 500)
    assert not RunDir(tmp_path / "run").started()
