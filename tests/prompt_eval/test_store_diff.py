"""The result store keeps every template version; diff lists the items whose outcome changed."""

from __future__ import annotations

from pathlib import Path

import pytest
from prompt_eval_fakes import oracle

from edtune.errors import UserError
from edtune.llm.concurrency import run_sync
from edtune.llm.scripted import ScriptedClient
from edtune.prompt_eval.diff import diff_runs
from edtune.prompt_eval.gold import GoldSet
from edtune.prompt_eval.runner import EvalRun, evaluate_template
from edtune.prompt_eval.store import ResultStore
from edtune.templates import load_template


def _edit(project: Path) -> None:
    path = project / "prompts" / "first_wrong_step.jinja"
    path.write_text(path.read_text().replace("Find the FIRST step", "Find the very FIRST step"))


def _two_versions(gold: GoldSet, project: Path) -> tuple[EvalRun, EvalRun]:
    """Version 1 is answered perfectly; version 2 (edited) is one step late on the spatial question."""
    first = run_sync(evaluate_template(load_template("first_wrong_step", project), gold, ScriptedClient(oracle())))
    _edit(project)
    late = oracle(lambda q: -1 if "left or right" in q else 0)
    second = run_sync(evaluate_template(load_template("first_wrong_step", project), gold, ScriptedClient(late)))
    return first, second


def test_store_keeps_every_version(gold: GoldSet, project: Path, tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "results")
    first, second = _two_versions(gold, project)
    assert first.template_hash != second.template_hash
    paths = {store.save(first), store.save(second), store.save(second)}
    assert len(paths) == 2 and all(p.is_file() for p in paths)
    runs = store.runs("first_wrong_step", gold_hash=gold.hash, teacher="scripted/scripted")
    assert [r.template_hash for r in runs] == [first.template_hash, second.template_hash]
    assert runs[0].outcomes == first.outcomes
    assert store.find("first_wrong_step", first.template_hash[:6], gold_hash=gold.hash,
                      teacher="scripted/scripted") == first
    assert store.runs("first_wrong_step", gold_hash="0" * 16) == []


def test_find_names_the_stored_versions_when_nothing_matches(gold: GoldSet, project: Path, tmp_path: Path) -> None:
    store = ResultStore(tmp_path / "results")
    first, _ = _two_versions(gold, project)
    store.save(first)
    with pytest.raises(UserError, match=f"matches no stored version .*stored: {first.template_hash}"):
        store.find("first_wrong_step", "zzz", gold_hash=gold.hash, teacher="scripted/scripted")


def test_diff_lists_changed_items_with_both_outputs(gold: GoldSet, project: Path) -> None:
    first, second = _two_versions(gold, project)
    result = diff_runs(first, second, gold)
    assert result.metrics_a.exact == 1.0 and result.metrics_b.exact == pytest.approx(0.75)
    assert [c.item_id for c in result.changed] == ["i3"]
    changed = result.changed[0]
    assert (changed.before, changed.after, changed.truth) == ("right", "wrong", "step 3")
    assert "step 3" in changed.output_a and "step 2" in changed.output_b
    assert result.a == f"first_wrong_step@{first.template_hash}" and result.same_score_other_output == 0


def test_diff_refuses_runs_of_other_tasks_or_gold_sets(gold: GoldSet, project: Path) -> None:
    first, second = _two_versions(gold, project)
    skills = run_sync(evaluate_template(load_template("missing_skills", project), gold, ScriptedClient(oracle())))
    with pytest.raises(UserError, match="cannot compare"):
        diff_runs(first, skills, gold)
    with pytest.raises(UserError, match="was made on gold set"):
        diff_runs(first, second.model_copy(update={"gold_hash": "f" * 16}), gold)
