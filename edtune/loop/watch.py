"""Lines about the stages that runs in other processes finish, read from their state.json.

A run executed in a worker process shows no progress bar; its parent can still tell the user what is
happening by reading each run directory's finished-stage list, which the loop rewrites atomically after
every stage.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

STATE_FILE = "state.json"
"""The run directory's stage list (see `edtune.loop.rundir.RunState`)."""


class StageWatcher:
    """Remembers which finished stages of each watched run it has announced."""

    def __init__(self, runs: dict[str, Path], notify: Callable[[str], None]) -> None:
        """`runs` maps a label ("seed 0: error_driven") to its run directory."""
        self._runs = runs
        self._notify = notify
        self._seen: dict[str, int] = dict.fromkeys(runs, 0)

    def poll(self) -> None:
        """Announce every stage finished since the last poll, one line each, as "<label>: <stage> done"."""
        for label, root in self._runs.items():
            done = _finished_stages(root / STATE_FILE)
            for stage in done[self._seen[label]:]:
                self._notify(f"{label}: {_describe(stage)} done")
            self._seen[label] = max(self._seen[label], len(done))


def _finished_stages(path: Path) -> list[str]:
    """The finished stage keys, [] while the file is absent; a half-written file is read at the next poll
    (writes are atomic, so only a reader racing the first write can see nothing)."""
    try:
        done = json.loads(path.read_text(encoding="utf-8")).get("done", [])
    except (OSError, ValueError):
        return []
    return [str(key) for key in done]


def _describe(stage: str) -> str:
    """"003/train" -> "iteration 3 train"; iteration 0 is the pretrained student."""
    number, _, name = stage.partition("/")
    if not number.isdigit():
        return stage
    return "pretrained " + name if int(number) == 0 else f"iteration {int(number)} {name}"
