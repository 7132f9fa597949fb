"""StageWatcher: one line per stage a run in another process finished, each announced once."""

from __future__ import annotations

import json
from pathlib import Path

from edtune.loop.watch import StageWatcher


def test_each_finished_stage_is_announced_once(tmp_path: Path) -> None:
    lines: list[str] = []
    watcher = StageWatcher({"seed 0: random": tmp_path / "a", "seed 0: full": tmp_path / "b"}, lines.append)
    watcher.poll()  # neither run has started: nothing to say
    assert lines == []
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "state.json").write_text(json.dumps({"done": ["000/answer_test", "001/train"]}))
    watcher.poll()
    watcher.poll()
    assert lines == ["seed 0: random: pretrained answer_test done", "seed 0: random: iteration 1 train done"]


def test_a_half_written_state_is_read_at_the_next_poll(tmp_path: Path) -> None:
    lines: list[str] = []
    (tmp_path / "state.json").write_text('{"done": ["001/tr')
    watcher = StageWatcher({"run": tmp_path}, lines.append)
    watcher.poll()
    (tmp_path / "state.json").write_text(json.dumps({"done": ["001/train"]}))
    watcher.poll()
    assert lines == ["run: iteration 1 train done"]
