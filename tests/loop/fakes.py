"""Test doubles for the loop: a deterministic `Student` whose skills are the question families it was
trained on, a scripted teacher, and a tiny shapes world on disk."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from edtune.bench.shapes import ShapesConfig, generate_world, write_world
from edtune.judging.exact import ExactJudge
from edtune.llm.base import ChatRequest
from edtune.llm.scripted import ScriptedClient
from edtune.loop import AdaptResult, RunConfig, adapt
from edtune.loop.config import TrainingSettings, validate_config
from edtune.rationale import format_rationale, to_student_output
from edtune.records import Sample, StudentOutput
from edtune.student.base import LoraTrainConfig, TrainStats

COUNTING_SKILL = "counting how many shapes are in a picture"


def tiny_world(out: Path, *, pool_size: int = 80, seed: int = 0) -> Path:
    """A counting-only world: 80 pool samples, 8 val, 8 test, 10 base (about 0.3 s to write)."""
    config = ShapesConfig(seed=seed, pool_size=pool_size, val_size=8, test_size=8, base_size=10, tasks=["counting"])
    write_world(generate_world(config), out)
    return out


PROGRESS_SETTINGS = {"k_tracking": 4, "k_warmup": 8, "round_size": 8, "warmup_fraction": 0.25,
                     "eval_per_cluster": 5}
"""PROGRESS on the tiny world at budget 24: warm-up 6, then rounds of 8, 8 and 2 (4 iterations)."""


def progress_config(world: Path, training: TrainingSettings | None = None, **progress: object) -> RunConfig:
    """A `method = "progress"` config over `tiny_world`, PROGRESS_SETTINGS updated by `progress`."""
    data = {"val": {"path": str(world / "counting_val.jsonl")}, "pool": {"path": str(world / "pool.jsonl")}}
    config = validate_config({"method": "progress", "data": data,
                              "progress": {**PROGRESS_SETTINGS, **progress}}, "test")
    return config if training is None else config.model_copy(update={"training": training})


def run_progress(world: Path, run_dir: Path, student: FamilyStudent, config: RunConfig,
                 judge: ExactJudge | None = None) -> AdaptResult:
    """`config` run to its end at budget 24 on the counting task of `tiny_world`."""
    return adapt(student, world / "counting_val.jsonl", world / "pool.jsonl", teacher=None,
                 judge=judge or ExactJudge(), test=world / "counting_test.jsonl", replay=world / "base.jsonl",
                 budget=24, run_dir=run_dir, config=config, show_bars=False)


class FamilyStudent:
    """Answers a sample correctly iff it was trained on two samples of its question family (so a small
    budget leaves some families for later iterations).

    Wrong answers repeat the gold steps but the last, then give "99", so the first wrong step is the last;
    families in `short_wrong` get a wrong answer of `short_wrong[family]` steps instead (0 or 1). The
    family is `metadata[family_key]`. The "adapter" is the set of known families, saved as JSON; every
    `train` call's ids are recorded in `trained`, its settings in `configs`.
    """

    def __init__(self, *, family_key: str = "skill", short_wrong: dict[str, int] | None = None) -> None:
        self.known: set[str] | None = None
        self.trained: list[list[str]] = []
        self.configs: list[LoraTrainConfig] = []
        self.family_key = family_key
        self.short_wrong = short_wrong or {}

    @property
    def has_adapter(self) -> bool:
        return self.known is not None

    def answer(self, samples: Sequence[Sample], image_root: Path, *, batch_size: int = 64) -> list[StudentOutput]:
        known = self.known or set()
        return [to_student_output(s.id, self._text(s, s.metadata[self.family_key] in known)) for s in samples]

    def _text(self, sample: Sample, right: bool) -> str:
        steps = [step.text for step in sample.rationale or []]
        if right:
            return format_rationale(steps, sample.answer)
        short = self.short_wrong.get(str(sample.metadata[self.family_key]))
        if short is not None:
            return format_rationale(["That makes 99."][:short], "99")
        return format_rationale([*steps[:-1], "That makes 99."], "99")

    def train(self, samples: Sequence[Sample], image_root: Path, config: LoraTrainConfig, *, seed: int,
              replay: Sequence[Sample] = (), replay_root: Path | None = None) -> TrainStats:
        self.trained.append([s.id for s in samples])
        self.configs.append(config)
        counts = Counter(str(s.metadata[self.family_key]) for s in samples)
        self.known = (self.known or set()) | {family for family, n in counts.items() if n >= 2}
        return TrainStats(steps=1, epochs=1, train_samples=len(samples), replay_samples=len(replay),
                          epoch_losses=[1.0], wall_s=0.0, trainable_params=0, target_modules=[])

    def save_adapter(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "known.json").write_text(json.dumps(sorted(self.known or [])))

    def load_adapter(self, directory: Path) -> None:
        self.known = set(json.loads((directory / "known.json").read_text()))

    def reset_adapter(self) -> None:
        self.known = None


def request_key(request: ChatRequest) -> str:
    """What identifies a teacher call: its template and rendered messages."""
    return json.dumps([request.template_name, [m.model_dump(mode="json") for m in request.messages]])


def teacher_reply(request: ChatRequest) -> str:
    """First wrong step: step 1; missing skill: counting (a phrase the pool's counting samples carry)."""
    if request.template_name == "first_wrong_step":
        return '{"step": 1, "reason": "the count is wrong"}'
    if request.template_name == "missing_skills":
        return json.dumps({"skills": [COUNTING_SKILL]})
    raise AssertionError(f"unexpected teacher template {request.template_name}")


def scripted_teacher(on_call: Callable[[ChatRequest], None] | None = None) -> ScriptedClient:
    """A ScriptedClient answering `teacher_reply`; `on_call` runs first (to crash or log)."""

    def script(request: ChatRequest) -> str:
        if on_call is not None:
            on_call(request)
        return teacher_reply(request)

    return ScriptedClient(script, model="teacher")


class Crash(Exception):
    """Stands in for the process dying (raised by crash-injecting fakes and fixtures)."""


def world_checkpoint(world: Path, out: Path, student: dict[str, Any]) -> Path:
    """A tiny random Llava saved as an HF checkpoint in `out`, its vocabulary covering `world`'s texts."""
    import torch

    from edtune.bench.shapes import load_world
    from edtune.student.prompting import target_text
    from edtune.student.tiny import TinyStudentConfig, build_tiny_checkpoint

    torch.set_num_threads(1)
    samples = [s for split in load_world(world).splits.values() for s in split]
    texts = [t for s in samples for t in (s.question, target_text(s))]
    build_tiny_checkpoint(texts, out, TinyStudentConfig.model_validate(student), seed=0)
    return out
