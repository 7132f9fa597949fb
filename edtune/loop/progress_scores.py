"""Per-sample scores from the student's token probabilities: mean loss, perplexity and EL2N.

`edtune.student` exposes answers and training but no per-sample loss, so this module computes it from an
`HFStudent`'s public `model`, `processor` and `config`: each sample is encoded exactly as for training
(`edtune.student.batches.Encoder.training_batch`: prompt, then the gold rationale and answer, loss on the
target tokens only), one forward pass per batch without gradients, and per target token t the model's
distribution at position t-1 is compared with the gold token:
- loss = mean over target tokens of -log p(gold token) (PROGRESS's loss variant);
- perplexity = exp(loss) (Marion et al.'s pruning score; `edtune.progress.baselines.perplexity`);
- EL2N = mean over target tokens of |softmax - one-hot(gold)|_2 (Paul et al.; `baselines.el2n`).
A student that is not an `HFStudent` can provide the same numbers through a `token_scores(samples,
image_root, batch_size=...)` method (the `TokenScorer` protocol), which is used when present.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from edtune.errors import ConfigError
from edtune.records import Record, Sample
from edtune.student.base import Student


class TokenScores(Record):
    """The student's fit to one sample's gold target."""

    sample_id: str
    """The scored `Sample.id`."""
    loss: float
    """Mean negative log-likelihood of the gold target tokens (>= 0)."""
    el2n: float
    """Mean L2 distance between the predicted distribution and the gold one-hot, per target token."""

    @property
    def perplexity(self) -> float:
        """exp(loss)."""
        return math.exp(self.loss)


@runtime_checkable
class TokenScorer(Protocol):
    """A student that scores samples itself."""

    def token_scores(self, samples: Sequence[Sample], image_root: Path, *,
                     batch_size: int = 32) -> list[TokenScores]:
        """One `TokenScores` per sample, in input order."""
        ...


def token_scores(student: Student, samples: Sequence[Sample], image_root: Path, *,
                 batch_size: int = 32) -> list[TokenScores]:
    """Scores of `samples` in input order (module docstring); ConfigError for a student that cannot score."""
    if isinstance(student, TokenScorer):
        return student.token_scores(samples, image_root, batch_size=batch_size)
    from edtune.student.hf import HFStudent

    if not isinstance(student, HFStudent):
        raise ConfigError(f"per-sample loss needs an HFStudent or a student with token_scores(); got "
                          f"{type(student).__name__}")
    out: list[TokenScores] = []
    for start in range(0, len(samples), batch_size):
        out.extend(_hf_batch(student, samples[start:start + batch_size], image_root, first_row=start + 1))
    return out


def _hf_batch(student: Any, samples: Sequence[Sample], image_root: Path, *, first_row: int) -> list[TokenScores]:
    import torch

    from edtune.student.batches import IGNORE_INDEX

    examples = [student.encoder.example(s, image_root, row=first_row + i) for i, s in enumerate(samples)]
    batch = {k: v.to(student.config.device) for k, v in student.encoder.training_batch(examples).items()}
    labels = batch.pop("labels")
    with torch.inference_mode():
        logits = student.model(**batch).logits.float()
    # Position t predicts token t + 1, so the distribution for target token t sits one column earlier.
    probs = torch.softmax(logits[:, :-1], dim=-1)
    targets = labels[:, 1:]
    mask = targets != IGNORE_INDEX
    gold = probs.gather(-1, targets.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    nll = -torch.log(gold.clamp(min=1e-30))
    l2 = torch.sqrt(((probs * probs).sum(-1) - 2 * gold + 1.0).clamp(min=0))
    scores = []
    for row, sample in enumerate(samples):
        keep = mask[row]
        scores.append(TokenScores(sample_id=sample.id, loss=float(nll[row][keep].mean()),
                                  el2n=float(l2[row][keep].mean())))
    return scores
