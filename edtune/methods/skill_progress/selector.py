"""Skill-progress: PROGRESS's round rule over the skills a teacher named, candidates ranked by retrieval.

Beyond the paper. Groups are skills (e.g. "counting objects by colour") found in the teacher's error
analysis; each skill comes with retrieved candidates `(sample_id, score)` (the BM25 score of the sample's
skill text against the skill). Each round:
- improvement per skill is PROGRESS's relative improvement (`selection.relative_improvement`) between the
  previous and the current per-skill accuracy;
- a skill with no improvement to compute (newly named, or not scored in both evaluations) is treated
  optimistically, as if it improved by the largest measured positive improvement (1.0 when there is none),
  so a skill the teacher just found is tried at once instead of waiting for a second measurement;
- the round is split as in PROGRESS (`selection.plan_round`): softmax(improvement / tau) quotas over kept
  skills, 10% exploration, fallback to a uniform draw when nothing improved;
- within a skill the quota takes the highest-scored candidates not yet annotated (ties by id): this answers
  PROGRESS's open question of within-cluster ranking with the retrieval score. An id retrieved for several
  skills is taken once; exploration draws uniformly from the other skills' candidates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from edtune.errors import DataError
from edtune.methods.progress.selection import plan_round, relative_improvement
from edtune.methods.progress.selector import RoundState, Selection
from edtune.methods.progress.settings import ProgressSettings

Candidates = Mapping[str, Sequence[tuple[str, float]]]


class SkillProgressSelector:
    """Rounds over teacher-named skills; `candidates[skill]` is that skill's retrieved (id, score) list."""

    def __init__(self, candidates: Candidates, config: ProgressSettings) -> None:
        self.config = config
        self._ranked: dict[str, list[str]] = {}
        for skill in sorted(candidates):
            pairs = list(candidates[skill])
            for sample_id, score in pairs:
                if not np.isfinite(score):
                    raise DataError(f"retrieval score {score!r} of '{sample_id}' is not finite",
                                    field=f"candidates[{skill!r}]")
            ordered = sorted(pairs, key=lambda pair: (-pair[1], pair[0]))
            self._ranked[skill] = list(dict.fromkeys(sample_id for sample_id, _ in ordered))

    def improvements(self, state: RoundState) -> dict[str, float]:
        """Improvement per skill with candidates, the optimistic rule included (module docstring)."""
        measured = {s: relative_improvement(state.scores[s], state.previous[s])
                    for s in self._ranked if s in state.scores and s in state.previous}
        optimistic = max((d for d in measured.values() if d > 0), default=1.0)
        return {s: measured.get(s, optimistic) for s in self._ranked}

    def next_round(self, state: RoundState, rng: np.random.Generator) -> Selection:
        """The next round's ids: quotas by improvement, best-scored candidates first within a skill."""
        done = set(state.selected)
        left = {s: [i for i in ids if i not in done] for s, ids in self._ranked.items()}
        kept = {s: d for s, d in self.improvements(state).items() if d > 0 and left[s]}
        return plan_round(state, kept, left, self.config, rng, ranked=True)
