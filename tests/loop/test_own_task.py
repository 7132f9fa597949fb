"""A run on data shaped like a user's own task, through `adapt(config=...)`: two options per question, the
question family under a metadata key of the user's choosing, and a student whose wrong answers name no
option and have one step or none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edtune.errors import ConfigError
from edtune.jsonl import read_jsonl
from edtune.loop import RunConfig, adapt
from edtune.loop.config import DataFile, validate_config
from edtune.loop.rundir import RunDir
from edtune.records import Judgment
from edtune.report import build_report
from edtune.teacher.records import StepLocation
from loop.fakes import FamilyStudent, scripted_teacher

SPLITS = {"val": "counting_val", "test": "counting_test", "pool": "pool"}
NOT_AN_OPTION = "none of these"
"""The second option of every question: the student's wrong answer "99" names neither option."""


def own_task(world: Path, out: Path) -> Path:
    """The tiny world's counting splits rewritten with options [gold, NOT_AN_OPTION] and the family under
    metadata["kind"] (no "skill" key left)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in SPLITS.values():
        rows = [json.loads(line) for line in (world / f"{name}.jsonl").read_text().splitlines()]
        for row in rows:
            row["metadata"]["kind"] = row["metadata"].pop("skill")
            row["choices"] = [row["answer"], NOT_AN_OPTION]
        (out / f"{name}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return out


def task_config(world: Path, data: Path, **settings: object) -> RunConfig:
    files = {split: {"path": str(data / f"{name}.jsonl"), "image_root": str(world), "family_field": "kind"}
             for split, name in SPLITS.items()}
    return validate_config({"judge": "choice", "teacher": "openai/config-teacher@http://127.0.0.1:9/v1",
                            "budget": 4, "iterations": 1, "localise": {"method": "answer_switch"},
                            "data": files, **settings}, "test")


def test_own_task_run_scores_locates_and_splits_by_the_named_family(world: Path, tmp_path: Path) -> None:
    data = own_task(world, tmp_path / "data")
    config = task_config(world, data)
    student = FamilyStudent(family_key="kind", short_wrong={"counting": 1, "counting_by_attribute": 0})
    result = adapt(student, config.data.val, config.data.pool, teacher=scripted_teacher(), run_dir=tmp_path / "run",
                   config=config, show_bars=False)
    rd = RunDir(result.run_dir)
    # the config's judge was used, not adapt()'s default
    assert rd.read_config().judge == "choice"
    judged = read_jsonl(rd.file(0, "test_judgments.jsonl"), Judgment)
    assert {j.judge for j in judged} == {"choice"} and {j.outcome for j in judged} == {"incorrect"}
    # answers naming no option are wrong, not unscored, and are mined as errors
    assert result.pretrained_accuracy == 0.0 and result.test_unscored_share == 0.0
    first = result.metrics.iterations[1]
    assert first.val is not None and (first.val.unscored, first.val.unparseable, first.errors) == (0, 8, 8)
    # one step: located with its reason, no call; no steps: its own outcome, not a failure
    locations = {loc.sample_id: loc for loc in read_jsonl(rd.file(1, "locations.jsonl"), StepLocation)}
    assert len(locations) == 8 and {loc.outcome for loc in locations.values()} == {"found", "no_steps"}
    assert all(loc.step == 1 and loc.reason and loc.calls == 0 for loc in locations.values() if loc.outcome == "found")
    counts = first.localisation
    assert counts["found"] == first.located > 0 and counts["no_steps"] > 0 and "failed" not in counts
    assert sum(counts.values()) == 8
    # families come from metadata["kind"]
    assert result.metrics.family_field == "kind"
    assert set(first.test_by_family) == {"counting", "counting_by_attribute"}
    assert "counting" in first.selected_families and sum(first.selected_families.values()) == first.selected == 4
    text = build_report(rd.root).read_text()
    assert "## Localisation of errors" in text and f"| error_driven | 0 | 1 | 8 | {counts['found']} | 0 | 0 |" in text
    assert "no question family" not in text and (rd.root / "plots" / "family_accuracy.png").is_file()


def test_a_test_set_without_the_family_field_is_said_in_words(world: Path, tmp_path: Path) -> None:
    data = own_task(world, tmp_path / "data")
    config = task_config(world, data, method="random")
    files = {split: getattr(config.data, split).model_copy(update={"family_field": "skill"}) for split in SPLITS}
    config = config.model_copy(update={"data": config.data.model_copy(update=files)})
    result = adapt(FamilyStudent(family_key="kind"), config.data.val, config.data.pool, run_dir=tmp_path / "run",
                   config=config, show_bars=False)
    assert all(not it.test_by_family and not it.selected_families for it in result.metrics.iterations)
    text = build_report(result.run_dir).read_text()
    assert 'no test sample\'s metadata holds the key "skill"' in text and "`family_field`" in text
    assert not (result.run_dir / "plots" / "family_accuracy.png").exists()


@pytest.mark.parametrize("bad", ["", " kind", "kind "])
def test_family_field_is_validated(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match=r"data\.test\.family_field"):
        validate_config({"method": "random", "data": {
            "val": {"path": str(tmp_path / "v.jsonl")}, "pool": {"path": str(tmp_path / "p.jsonl")},
            "test": {"path": str(tmp_path / "t.jsonl"), "family_field": bad}}}, "test")
    assert DataFile(path=tmp_path / "t.jsonl", family_field="digit kind").family_field == "digit kind"
