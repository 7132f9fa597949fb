"""The evidence guard: `edtune demo --quick` end to end with the shipped tiny student, the reference teacher
and real LoRA training, asserting the method's ordering rather than a number.

It runs exactly the quick demo a user runs (seed 0), so a change to the code, the recipe or a dependency
that turns the method's result around fails here instead of in a README. It checks quality, not time. The
margins are set below what the quick demo measured (benchmarks/README.md, "The evidence guard"), far
enough that float rounding on another machine does not cross them, near enough that a result like the one
the demo drifted to (error-driven at a third of the full pool) does.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from edtune.demo import QUICK, run_demo

MARGIN_OVER_RANDOM = 0.10
"""Test-accuracy points error-driven must lead random by."""
SHARE_OF_FULL = 0.80
"""Share of the full pool's test accuracy error-driven must reach at 10% of the pool."""


@pytest.mark.slow
def test_quick_demo_keeps_the_method_ahead(tmp_path: Path) -> None:
    lines: list[str] = []
    outcome = run_demo(QUICK, tmp_path / "demo", show_bars=False, notify=lines.append)
    print(outcome.table)  # shown with pytest -rP: the figures the margins below were set against
    rows = {row.method: row for row in outcome.results.methods}
    accuracy = {method: rows[method].accuracy for method in ("random", "error_driven", "full")}
    assert all(value is not None for value in accuracy.values()), outcome.table
    error_driven, random_, full = (float(accuracy[m] or 0) for m in ("error_driven", "random", "full"))
    assert error_driven >= random_ + MARGIN_OVER_RANDOM, outcome.table
    assert error_driven >= SHARE_OF_FULL * full, outcome.table
    assert rows["error_driven"].samples_used <= QUICK.budget == rows["random"].samples_used
