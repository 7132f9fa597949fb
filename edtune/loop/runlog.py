"""The run log: `log.txt` in the run directory, one line per event a user should hear about while a run
goes on and that no progress bar shows (a missing skill no pool sample matches, ...).

Lines are appended (a resumed run adds to the same file; a stage recomputed after a crash may say its
line again) as "<UTC time> <LEVEL> <message>". Each is also sent to the `edtune.run` logger at its level:
with no logging configured, Python writes WARNING and above to stderr, so `edtune run` and `adapt()`
show them as they happen; an application that configures logging routes them like any other.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from edtune.loop.rundir import RunDir

LOG_FILE = "log.txt"
"""The run log's name inside the run directory."""
logger = logging.getLogger("edtune.run")


def log_event(run: RunDir, message: str, *, level: int = logging.WARNING) -> None:
    """Append `message` (one line) to the run's log.txt and send it to the `edtune.run` logger."""
    text = " ".join(message.split())
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    run.root.mkdir(parents=True, exist_ok=True)
    with (run.root / LOG_FILE).open("a", encoding="utf-8") as handle:
        handle.write(f"{stamp} {logging.getLevelName(level)} {text}\n")
    logger.log(level, "%s: %s", run.root, text)


def read_log(run: RunDir) -> list[str]:
    """The run log's lines ([] when nothing was logged)."""
    path = run.root / LOG_FILE
    return path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
