"""`run.log`: what a run decided, in words, one line each, for the person who started it.

The preflight's outcome, the localisation chosen and why, the pool annotation: each is said once per run
directory (`say_once` skips a line whose key an earlier process already wrote), so a resumed run does not
repeat itself. Library code writes here and never prints; `edtune run` and `edtune resume` print the lines.
A line is `<key>: <text>`, with no time stamp: a run killed and resumed leaves the same files as one that
went straight through.
"""

from __future__ import annotations

import os
from pathlib import Path

RUN_LOG = "run.log"


def log_path(root: Path) -> Path:
    return root / RUN_LOG


def read_log(root: Path) -> list[str]:
    """Every line of the run's log (none before anything was said)."""
    path = log_path(root)
    return path.read_text(encoding="utf-8").splitlines() if path.is_file() else []


def said(root: Path, key: str) -> bool:
    """Whether a line with `key` was written."""
    return any(line.startswith(f"{key}: ") for line in read_log(root))


def say(root: Path, key: str, text: str) -> None:
    """Append `<key>: <text>` (one line: newlines in `text` become spaces), durably."""
    line = f"{key}: {' '.join(text.split())}\n"
    with log_path(root).open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())


def say_once(root: Path, key: str, text: str) -> None:
    """`say`, unless a line with `key` is already there."""
    if not said(root, key):
        say(root, key, text)
