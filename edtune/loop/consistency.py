"""Checking a run directory before a run continues in it: state and files must agree.

A run directory written by one process at a time, killed at any point, passes: its JSONL logs have at
most a torn last line, and state.json lists only stages whose outputs are complete. Two processes
writing at once (or a hand edit) leave duplicate rows or a stage marked finished without its output;
continuing would build on that, so `check_run_dir` refuses it with a DataError naming file, row and field.
"""

from __future__ import annotations

import json
from pathlib import Path

from edtune.errors import DataError
from edtune.loop.rundir import RunDir

STAGE_OUTPUTS = {"answer_val": "val_outputs.jsonl", "judge_val": "val_judgments.jsonl",
                 "answer_test": "test_outputs.jsonl", "judge_test": "test_judgments.jsonl",
                 "locate": "locations.jsonl", "random_step": "random_steps.jsonl", "skills": "skills.jsonl",
                 "select": "selection.jsonl"}
"""The file a finished stage must have left in its iteration folder (stages not named here are not checked)."""
KEYED_FILES = frozenset(STAGE_OUTPUTS.values())
"""Files with one row per sample: a `sample_id` appearing twice in one of them is corruption."""


def check_run_dir(run: RunDir) -> None:
    """DataError unless every finished stage's output exists and no per-sample file repeats a sample."""
    state = run.state()
    if len(set(state.done)) != len(state.done):
        twice = sorted({key for key in state.done if state.done.count(key) > 1})
        raise DataError(f"stages listed as finished twice: {', '.join(twice)}", file=str(run.state_path),
                        field="done")
    for key in state.done:
        _check_stage_output(run, key)
    for path in sorted((run.root / "iterations").glob("*/*.jsonl")):
        if path.name in KEYED_FILES:
            _check_unique_ids(path)


def _check_stage_output(run: RunDir, key: str) -> None:
    iteration_text, _, stage = key.partition("/")
    if not iteration_text.isdigit():
        raise DataError(f"malformed stage key {key!r}", file=str(run.state_path), field="done")
    iteration = int(iteration_text)
    if stage == "train":
        expected = run.adapter(iteration)
        present = expected.is_dir()
    elif stage in STAGE_OUTPUTS:
        expected = run.file(iteration, STAGE_OUTPUTS[stage])
        present = expected.is_file()
    else:
        return
    if not present:
        raise DataError(f"state.json lists stage {key} as finished but {expected} is missing",
                        file=str(run.state_path), field="done")


def _check_unique_ids(path: Path) -> None:
    """DataError on the first row whose sample_id an earlier row of `path` already has (a torn last line,
    left by a kill, is ignored)."""
    lines = path.read_bytes().split(b"\n")
    seen: dict[str, int] = {}
    for row, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            if row == len(lines):
                return
            raise DataError("not a JSON record", file=str(path), row=row) from None
        sample_id = record.get("sample_id") if isinstance(record, dict) else None
        if not isinstance(sample_id, str):
            continue
        if sample_id in seen:
            raise DataError(f"sample {sample_id!r} appears twice (first on row {seen[sample_id]}): the run "
                            "directory was written by two processes or edited", file=str(path), row=row,
                            field="sample_id")
        seen[sample_id] = row
