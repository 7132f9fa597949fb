"""Token usage per call and per stage, with optional budgets checked before each call.

A call first reserves its worst case (an estimate of the prompt plus `max_tokens`); the reservation is
replaced by the real usage when the reply arrives. Concurrent calls therefore cannot jointly overshoot a
budget that each alone would respect. Cache hits cost nothing and are counted apart: their calls, and
the tokens their replies were paid with when first asked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import Field

from edtune.errors import BudgetExceeded
from edtune.llm.base import ChatRequest, Usage
from edtune.records import Record

CHARS_PER_TOKEN = 4
"""Rough prompt-size estimate used only for budget reservations (real counts come from the server)."""


class StageUsage(Record):
    """Usage summed over one stage's calls: what was paid, and apart from it the replies answered from the
    cache with the tokens they were paid with when first asked (not paid again)."""

    calls: int = 0
    """Requests actually sent (retries of one call count once)."""
    cached_calls: int = 0
    """Calls answered from the cache."""
    prompt_tokens: int = 0
    """Tokens sent, summed (paid)."""
    completion_tokens: int = 0
    """Tokens generated, summed (paid)."""
    cached_prompt_tokens: int = 0
    """Prompt tokens of the calls answered from the cache, as paid when first asked."""
    cached_completion_tokens: int = 0
    """Completion tokens of the calls answered from the cache, as paid when first asked."""

    @property
    def total_tokens(self) -> int:
        """Paid tokens."""
        return self.prompt_tokens + self.completion_tokens

    @property
    def cached_tokens(self) -> int:
        """Tokens of the calls answered from the cache."""
        return self.cached_prompt_tokens + self.cached_completion_tokens

    def add(self, usage: Usage, *, calls: int = 0, cached_calls: int = 0) -> None:
        """Count `calls` sent and `cached_calls` answered from the cache that together used `usage`."""
        self.calls += calls
        self.cached_calls += cached_calls
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.cached_prompt_tokens += usage.cached_prompt_tokens
        self.cached_completion_tokens += usage.cached_completion_tokens

    def __add__(self, other: StageUsage) -> StageUsage:
        return StageUsage(**{name: getattr(self, name) + getattr(other, name) for name in StageUsage.model_fields})


class UsageReport(Record):
    """What a run spent, as written to its run directory."""

    stages: dict[str, StageUsage] = Field(default_factory=dict)
    """Usage per pipeline stage."""
    budget_tokens: int | None = None
    """The total token budget, if one was set."""


@dataclass(frozen=True)
class Reservation:
    """Tokens held for a call in flight."""

    stage: str
    tokens: int


def estimate_tokens(request: ChatRequest, default_completion: int) -> int:
    """Worst-case tokens for `request`: prompt characters / CHARS_PER_TOKEN plus the completion cap."""
    chars = 0
    for message in request.messages:
        if isinstance(message.content, str):
            chars += len(message.content)
        else:
            chars += sum(len(part.text or "") for part in message.content)
    completion = request.max_tokens if request.max_tokens is not None else default_completion
    return math.ceil(chars / CHARS_PER_TOKEN) + completion


class UsageMeter:
    """Counts usage per stage and enforces an optional total budget and per-stage budgets (tokens)."""

    def __init__(self, budget_tokens: int | None = None, *, stage_budgets: dict[str, int] | None = None,
                 default_completion_tokens: int = 512) -> None:
        self.budget_tokens = budget_tokens
        self.stage_budgets = dict(stage_budgets or {})
        self.default_completion_tokens = default_completion_tokens
        self._stages: dict[str, StageUsage] = {}
        self._reserved: dict[str, int] = {}

    def stage(self, name: str) -> StageUsage:
        """Usage so far for stage `name` (zeros if it made no call)."""
        return self._stages.get(name, StageUsage()).model_copy()

    @property
    def total(self) -> StageUsage:
        """Usage summed over all stages."""
        return sum(self._stages.values(), StageUsage())

    def reserve(self, request: ChatRequest) -> Reservation:
        """Hold the worst case of `request` against the budgets; BudgetExceeded if it would pass one."""
        tokens = estimate_tokens(request, self.default_completion_tokens)
        stage = request.stage
        if self.budget_tokens is not None:
            used = self.total.total_tokens + sum(self._reserved.values())
            self._check(used, tokens, self.budget_tokens, "total")
        if stage in self.stage_budgets:
            used = self.stage(stage).total_tokens + self._reserved.get(stage, 0)
            self._check(used, tokens, self.stage_budgets[stage], f"stage {stage!r}")
        self._reserved[stage] = self._reserved.get(stage, 0) + tokens
        return Reservation(stage, tokens)

    @staticmethod
    def _check(used: int, tokens: int, limit: int, what: str) -> None:
        if used + tokens > limit:
            raise BudgetExceeded(f"the next call may use up to {tokens} tokens; {used} of the {what} budget of "
                                 f"{limit} are used or reserved", used=used, limit=limit)

    def settle(self, reservation: Reservation, usage: Usage | None) -> None:
        """Release `reservation` and count what the call really used (None: the call failed, nothing sent
        back, so nothing counted)."""
        self._reserved[reservation.stage] -= reservation.tokens
        if usage is None:
            return
        self._stages.setdefault(reservation.stage, StageUsage()).add(usage, calls=1)

    def count_cached(self, stage: str, usage: Usage | None = None) -> None:
        """Count a call answered from the cache, with the tokens its reply was paid with (`usage`'s cached
        counts; they are not paid again, so no budget is charged)."""
        self._stages.setdefault(stage, StageUsage()).add(usage.as_cached() if usage else Usage(), cached_calls=1)

    def report(self) -> UsageReport:
        """A snapshot for the run directory."""
        return UsageReport(stages={k: v.model_copy() for k, v in self._stages.items()},
                           budget_tokens=self.budget_tokens)
