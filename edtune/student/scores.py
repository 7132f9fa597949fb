"""Per-sample scores from the student's token probabilities: mean loss, perplexity and EL2N.

`Student.token_scores` gives them; `HFStudent` implements it here (`hf_token_scores`): each sample is
encoded exactly as for training (`edtune.student.batches.Encoder.training_batch`: prompt, then the gold
rationale and answer, loss on the target tokens only), one forward pass per batch without gradients, and
per target token t the model's distribution at position t-1 is compared with the gold token:
- loss = mean over target tokens of -log p(gold token) (PROGRESS's loss variant);
- perplexity = exp(loss) (Marion et al.'s pruning score);
- EL2N = mean over target tokens of |softmax - one-hot(gold)|_2 (Paul et al.).
The methods that need them (el2n, perplexity, PROGRESS's loss metric) call `score_samples`, which turns a
student that cannot score into a ConfigError naming the method.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edtune.errors import ConfigError
from edtune.records import Record, Sample

if TYPE_CHECKING:
    from edtune.student.base import Student
    from edtune.student.hf import HFStudent


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


def score_samples(student: Student, samples: Sequence[Sample], image_root: Path, *, batch_size: int,
                  needed_by: str) -> list[TokenScores]:
    """`student.token_scores(...)`; ConfigError naming `needed_by` (what needs the scores, e.g. "method
    'el2n'") when the student cannot score: it has no `token_scores` (a student written before it was part
    of the protocol) or raises NotImplementedError."""
    scorer = getattr(student, "token_scores", None)
    if scorer is None:
        raise ConfigError(_cannot_score(student, needed_by))
    try:
        scores: list[TokenScores] = scorer(samples, image_root, batch_size=batch_size)
    except NotImplementedError as exc:
        raise ConfigError(_cannot_score(student, needed_by)) from exc
    return scores


def _cannot_score(student: Student, needed_by: str) -> str:
    return (f"{needed_by} needs per-sample scores (loss, EL2N) of the gold targets from the student, and "
            f"{type(student).__name__} cannot give them (Student.token_scores); use an HF checkpoint as the "
            "student, or implement token_scores")


def hf_token_scores(student: HFStudent, samples: Sequence[Sample], image_root: Path, *,
                    batch_size: int = 32) -> list[TokenScores]:
    """`HFStudent.token_scores`: scores of `samples` in input order (module docstring)."""
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
