"""Keep library chatter that is not the user's business out of a run's output.

transformers and peft warn about their own deprecations (e.g. peft asking transformers whether gradient
checkpointing is on through a renamed method) once per adapter; the user can do nothing about them, and
in a long run they bury the lines that matter. Only FutureWarning and DeprecationWarning raised from
inside those packages are filtered; every other warning, and every edtune warning, still shows.
"""

from __future__ import annotations

import warnings

LIBRARIES = ("transformers", "peft", "accelerate")
"""Packages whose own deprecation warnings are filtered."""


def quiet_libraries(*, progress_bars: bool = True) -> None:
    """Filter the libraries' deprecation warnings for this process; `progress_bars=False` also turns off
    transformers' own bars (e.g. "Loading weights"), for processes whose output is a log, not a terminal."""
    for library in LIBRARIES:
        for category in (FutureWarning, DeprecationWarning):
            warnings.filterwarnings("ignore", category=category, module=rf"{library}(\..*)?$")
    if not progress_bars:
        from transformers.utils import logging

        logging.disable_progress_bar()
