"""`run.log`: what a run decided or ran into, in words, one line each, for the person who started it.

The preflight's outcome, the localisation chosen and why, the pool annotation, a missing skill no pool
sample matches: each is said once per run directory (`say_once` skips a line whose key an earlier process
already wrote), so a resumed run does not repeat itself. A line is `<key>: <text>`, with no time stamp: a
run killed and resumed leaves the same files as one that went straight through.

Each line is also sent to the `edtune.run` logger at its level. Decisions are INFO, which Python does not
show unless logging is configured (`edtune run` and `edtune resume` print run.log at the end); problems
are WARNING, which Python writes to stderr as they happen when nothing configured logging, so `adapt()`
shows them too. Library code writes here and never prints.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

RUN_LOG = "run.log"
"""The run log's name inside the run directory."""
logger = logging.getLogger("edtune.run")


def log_path(root: Path) -> Path:
    return Path(root) / RUN_LOG


def read_log(root: Path) -> list[str]:
    """Every line of the run's log (none before anything was said)."""
    path = log_path(root)
    return path.read_text(encoding="utf-8").splitlines() if path.is_file() else []


def said(root: Path, key: str) -> bool:
    """Whether a line with `key` was written."""
    return any(line.startswith(f"{key}: ") for line in read_log(root))


def say(root: Path, key: str, text: str, *, level: int = logging.INFO) -> None:
    """Append `<key>: <text>` (one line: newlines in `text` become spaces), durably, and log it at `level`."""
    line = f"{key}: {' '.join(text.split())}"
    Path(root).mkdir(parents=True, exist_ok=True)
    with log_path(root).open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    logger.log(level, "%s: %s", root, line)


def say_once(root: Path, key: str, text: str, *, level: int = logging.INFO) -> None:
    """`say`, unless a line with `key` is already there."""
    if not said(root, key):
        say(root, key, text, level=level)
