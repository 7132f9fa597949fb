"""Settings of the reference teacher, and the error a request it cannot answer raises."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from edtune.errors import UserError
from edtune.records import Record


class UnmatchedRequest(UserError):
    """A request the reference teacher cannot answer: an unknown task, or no (unique) sample of the world.

    The server turns it into an HTTP 400 whose OpenAI-style error body carries `message` and `code`.
    """

    def __init__(self, message: str, code: str = "unmatched_request") -> None:
        self.code = code
        super().__init__(message)


class ReferenceSettings(Record):
    """How the reference teacher answers. Defaults: a perfect teacher (error_rate 0)."""

    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    """Probability that one request gets a plausible wrong answer instead of the ground truth."""
    seed: int = 0
    """Server seed; with the request's content it decides every random choice, so runs are reproducible."""
    model: str = "edtune-reference"
    """The model name the server reports (it answers requests for any model name)."""
    phrasing: Literal["canonical", "paraphrase"] = "paraphrase"
    """How a skill is written: the catalogue's first phrase, or one of its paraphrases (drawn per request)."""
    gold_mass: float = Field(default=0.9, gt=0.0, lt=1.0)
    """Answer-switch: probability of the gold option while every step shown matches the gold rationale."""
    switched_gold_mass: float = Field(default=0.05, gt=0.0, lt=1.0)
    """Answer-switch: probability left on the gold option once a wrong step has been shown (the rest goes
    to the options the wrong steps point to)."""

    @model_validator(mode="after")
    def _switch_lowers_gold(self) -> ReferenceSettings:
        if self.switched_gold_mass >= self.gold_mass:
            raise ValueError(f"switched_gold_mass ({self.switched_gold_mass}) must be below gold_mass "
                             f"({self.gold_mass}): showing a wrong step moves mass away from the gold option")
        return self


def labelled_settings(error_rate: float, seed: int) -> ReferenceSettings:
    """Settings whose served model name records the error rate and seed ("edtune-reference-e0.1-s0").

    A run's teacher spec then says which reference teacher it had, so that a finished run is never taken
    for one made with another; the replies do not depend on the name (they are keyed by content)."""
    return ReferenceSettings(error_rate=error_rate, seed=seed, model=f"edtune-reference-e{error_rate:g}-s{seed}")
