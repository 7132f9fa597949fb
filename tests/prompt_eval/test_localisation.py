"""The localisation comparison: the seeded random baseline and every method on the same items."""

from __future__ import annotations

from pathlib import Path

from prompt_eval_fakes import oracle

from edtune.llm.concurrency import run_sync
from edtune.llm.scripted import ScriptedClient
from edtune.prompt_eval.gold import GoldSet
from edtune.prompt_eval.localisation import answer_switch_applies, compare_localisation, random_outcomes


def test_random_baseline_is_seeded_and_in_range(gold: GoldSet) -> None:
    first, again = random_outcomes(gold, 3), random_outcomes(gold, 3)
    assert first == again
    assert all(1 <= (o.step or 0) <= len(i.student_steps) for o, i in zip(first, gold, strict=True))
    draws = {tuple(o.step for o in random_outcomes(gold, seed)) for seed in range(20)}
    assert len(draws) > 1  # the seed matters


def test_methods_are_compared_on_the_same_items(gold: GoldSet, project: Path) -> None:
    table = run_sync(compare_localisation(gold, ScriptedClient(oracle()), methods=("random", "per_step", "direct"),
                                          seed=1, project_dir=project))
    assert table.items == 4 and table.skipped == 0
    assert [r.method for r in table.rows] == ["random", "per_step", "direct"]
    rows = {r.method: r for r in table.rows}
    assert rows["direct"].metrics.exact == 1.0 and rows["per_step"].metrics.exact == 1.0
    assert rows["random"].template is None and rows["direct"].template is not None
    assert rows["direct"].template.startswith("first_wrong_step@")


def test_answer_switch_restricts_every_method_to_multiple_choice(gold: GoldSet, project: Path) -> None:
    assert [answer_switch_applies(i) for i in gold] == [True, False, True, False]
    table = run_sync(compare_localisation(gold, ScriptedClient(oracle()), methods=("random", "answer_switch"),
                                          project_dir=project))
    assert table.items == 2 and table.skipped == 2
    assert all(row.metrics.items == 2 for row in table.rows)
