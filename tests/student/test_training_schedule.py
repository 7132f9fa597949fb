"""One LR curve walked by several training calls (`Schedule.start` / `total`, `LoraTrainConfig.steps`)."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from edtune.student import LoraTrainConfig
from edtune.student.training import Schedule, call_steps, cosine_factor


def factors(schedule: Schedule) -> list[float]:
    return [cosine_factor(step, schedule) for step in range(schedule.steps)]


def test_calls_on_stretches_of_one_curve_walk_that_curve() -> None:
    whole = Schedule(lr=1.0, steps=100, batch_size=1, warmup_ratio=0.1)
    stretches = [Schedule(lr=1.0, steps=end - start, batch_size=1, warmup_ratio=0.1, start=start, total=100)
                 for start, end in [(0, 7), (7, 40), (40, 99), (99, 100)]]
    assert [f for s in stretches for f in factors(s)] == factors(whole)
    # The warm-up belongs to the curve, not to each call: the second call goes on with the curve's
    # warm-up (8 / 10) instead of starting one of its own (1 / 3), and the third starts mid-cosine.
    assert factors(stretches[1])[0] == 0.8
    assert factors(stretches[2])[0] == pytest.approx(0.5 * (1 + math.cos(math.pi * 30 / 90)))


def test_a_call_of_its_own_curve_warms_up_and_decays() -> None:
    own = factors(Schedule(lr=1.0, steps=10, batch_size=1, warmup_ratio=0.2))
    assert own[:2] == [0.5, 1.0]
    assert own[2] == 1.0 and own[-1] < 0.1 and own == sorted(own[:2]) + sorted(own[2:], reverse=True)


def test_call_steps_prefers_exact_steps_over_the_epoch_rule() -> None:
    config = LoraTrainConfig(epochs=2, min_steps=7, batch_size=10)
    assert call_steps(config, 25) == 9  # 3 batches an epoch, epochs until 7 steps: 3 epochs
    assert call_steps(config.model_copy(update={"steps": 4}), 25) == 4


@pytest.mark.parametrize(("fields", "message"), [
    ({"schedule_start": 3}, "schedule_start needs schedule_total"),
    ({"schedule_total": 10}, "schedule_total needs steps"),
    ({"steps": 5, "schedule_start": 6, "schedule_total": 10}, "runs past schedule_total = 10"),
])
def test_a_stretch_must_lie_inside_its_curve(fields: dict[str, int], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LoraTrainConfig(**fields)  # type: ignore[arg-type]
