"""`ScoresSettings`: the `[scores]` section of a run config (methods el2n and perplexity).

How many samples the student scores per forward pass is the student's setting
(`student.score_batch_size`), shared with PROGRESS's loss metric. These settings once lived in
`[progress]`; a config that still sets them there has them moved here when read (`edtune.loop.config`).
"""

from __future__ import annotations

from edtune.methods.scores.ranking import Order
from edtune.records import Record


class ScoresSettings(Record):
    """Which part of a score ranking the score baselines keep."""

    el2n_order: Order = "highest"
    """Which end of the EL2N ranking the `el2n` baseline keeps (highest: the hardest samples, as Paul et al.)."""
    perplexity_order: Order = "middle"
    """Which part of the perplexity ranking `perplexity` keeps (middle: Marion et al.'s best setting)."""
