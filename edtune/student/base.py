"""The `Student` protocol and the config/record types every student implementation shares.

A student is a vision-language model that answers visual questions with a step-by-step rationale and
can be LoRA-trained on samples. The error-driven loop only talks to this protocol, so a tiny CPU model
and a 7B model on a GPU are interchangeable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from pydantic import Field, model_validator

from edtune.records import Record, Sample, StudentOutput

if TYPE_CHECKING:
    from edtune.student.scores import TokenScores

Device = Literal["cpu", "cuda", "mps"]
DType = Literal["float32", "bfloat16", "float16"]
Precision = Literal["no", "bf16", "fp16"]

# Every linear layer of the text decoder. Llava and Qwen2-VL name it `language_model`, Idefics3
# `text_model`; the vision towers (CLIP, SigLIP, Qwen's `visual`) also have q_proj/v_proj, which is why
# the pattern insists on the decoder's prefix instead of matching projection names alone.
DEFAULT_TARGET_PATTERN = (
    r"(^|.*\.)(language_model|text_model)\..*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)$"
)
DEFAULT_VISION_PATTERN = r"(^|.*\.)(vision_tower|vision_model|visual)(\.|$)"
DEFAULT_PROJECTOR_PATTERN = r"(^|.*\.)(multi_modal_projector|connector|merger)\..*"


class StudentConfig(Record):
    """How an `HFStudent` is loaded and how it generates."""

    device: Device = "cpu"
    """Where the model runs. "cpu" keeps tests and the bundled world portable; "cuda" for real-size models."""
    dtype: DType = "float32"
    """Weights dtype. float32 on CPU (bf16 matmuls are not faster for a 1M-parameter model); bfloat16 on GPUs."""
    max_new_tokens: int = Field(default=96, ge=1)
    """Generation budget per answer: room for the bundled world's gold rationales with a margin (their
    lengths: benchmarks/README.md)."""
    num_threads: int | None = Field(default=1, ge=1)
    """torch intra-op threads on CPU; 1 because a second thread on a shared core slows a small model down
    (benchmarks/README.md). None: leave as is."""
    question_template: str = "{question}"
    """User-turn text for an open question; `{question}` is `Sample.question`."""
    choices_template: str = "{question}\n{choices}"
    """User-turn text for a multiple-choice question; `{choices}` is the options joined by `choices_separator`."""
    choices_separator: str = " / "
    """Joins `Sample.choices` into the `{choices}` slot."""
    accelerate_config: str | None = None
    """An accelerate config file (YAML or JSON, as `accelerate config` writes it) to train on several processes
    or GPUs: DDP, FSDP or DeepSpeed, with its `num_processes`. Each training call then runs under
    `accelerate launch` in child processes and the adapter comes back through files; the caller (the loop)
    stays the only writer of its run directory. None: train in this process, on `device`. A file with
    `num_machines` above 1 starts the launch on that many machines of a Ray cluster (see `ray_address`)."""
    ray_address: str | None = None
    """The Ray cluster whose machines train when `accelerate_config` says `num_machines` > 1 ("auto",
    "head:6379", "ray://head:10001"). None: a Ray already initialised in this process, else "auto" (the
    cluster `ray start` runs on this machine, or the `RAY_ADDRESS` variable). In a run, None takes the run's
    cluster, `pool_engine.ray.address`, when that is set. Needs the `ray` extra."""


DEFAULT_MIN_STEPS = 600
"""`LoraTrainConfig.min_steps`'s default, the bundled benchmark's floor (`edtune demo` sets its own
explicitly). What it buys a small selection is measured in benchmarks/README.md, "Defaults that train"."""


class LoraTrainConfig(Record):
    """One LoRA training call: adapter shape, which modules it touches, and the optimiser schedule."""

    r: int = Field(default=16, ge=1)
    """LoRA rank. 16 taught the tiny student counting from 500 samples; real 7B recipes use 64-128."""
    alpha: int = Field(default=32, ge=1)
    """LoRA scaling numerator (update is scaled by alpha / r); 2 x r is the common choice."""
    dropout: float = Field(default=0.0, ge=0, lt=1)
    """Dropout on the LoRA input. 0 because the few-epoch runs here are too short to overfit much."""
    target_pattern: str = DEFAULT_TARGET_PATTERN
    """Regex (re.search on the full module name) selecting the linear layers that get adapters. Left unset,
    the checkpoint family's decoder pattern is used (`edtune.student.families`; the default shown is generic)."""
    exclude_pattern: str = DEFAULT_VISION_PATTERN
    """Regex of modules never adapted even if `target_pattern` matches. Left unset: the family's vision tower."""
    include_projector: bool = False
    """Also adapt the vision-to-text projector's linear layers (matched by `projector_pattern`)."""
    projector_pattern: str = DEFAULT_PROJECTOR_PATTERN
    """Regex of the projector's modules; only used when `include_projector` is true. Left unset: the family's
    projector (Qwen's `visual.merger` included, although it sits inside the tower)."""
    lr: float = Field(default=5e-3, gt=0)
    """Peak AdamW learning rate. 5e-3 suits the tiny student; use ~2e-4 for 7B models."""
    weight_decay: float = Field(default=0.0, ge=0)
    """AdamW weight decay on the adapter weights; 0 since the adapters start at zero and train briefly."""
    epochs: int = Field(default=10, ge=1)
    """Passes over the training samples (plus replay); what 10 reach on the bundled world: benchmarks/README.md."""
    min_steps: int = Field(default=DEFAULT_MIN_STEPS, ge=0)
    """Lower bound on optimiser steps: whole epochs are added until it is reached. A fixed epoch count gives
    a small selection few updates (10 epochs of 40 samples at batch 32 are 20 steps, of 1,000 samples 320),
    so a small budget would be judged on under-training rather than on which samples were chosen, and a
    user's first run would barely move the student. The default floor gives every call at least
    `DEFAULT_MIN_STEPS` updates whatever its size; a selection large enough to reach it by `epochs` is not
    affected. Lower it where a step is expensive and the selection large (a multi-billion-parameter student),
    or set 0 to keep the epoch count exact."""
    steps: int | None = Field(default=None, ge=1)
    """Exact optimiser steps of the call, overriding `epochs` and `min_steps` (as HF's max_steps). The loop
    sets it under `training.schedule = "run"`; None: the epoch rule above."""
    schedule_start: int = Field(default=0, ge=0)
    """Step of the LR curve at which this call starts (see `schedule_total`)."""
    schedule_total: int | None = Field(default=None, ge=1)
    """Length of the warm-up + cosine LR curve this call is a stretch of, so that calls continuing one
    adapter can share one curve as a single run would; None: the call's own steps, a curve per call.
    Needs `steps`, with `schedule_start + steps <= schedule_total`."""
    batch_size: int = Field(default=32, ge=1)
    """Samples per optimiser step."""
    warmup_ratio: float = Field(default=0.03, ge=0, lt=1)
    """Fraction of steps with linear warm-up before the cosine decay (0.03 as in LLaVA/PROGRESS recipes)."""
    max_grad_norm: float | None = Field(default=1.0, gt=0)
    """Gradient-norm clip; None disables clipping."""
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    """Micro-batches per optimiser step on each process. `batch_size` stays the samples of one step: each
    step's batch is split into processes x this many micro-batches, each process running this many forward
    and backward passes and syncing gradients once. Raise it when a step's batch does not fit in memory;
    the number of steps and the LR curve do not change."""
    mixed_precision: Precision = "no"
    """Autocast of the forward pass (accelerate's): "bf16" or "fp16" on a GPU, with float32 adapter weights
    and a loss scaler for fp16; "bf16" also runs on CPU (torch's CPU autocast). "fp16" on CPU is refused,
    since accelerate would silently train in float32 there. "no": the weights' own dtype."""
    gradient_checkpointing: bool = False
    """Recompute each decoder layer's activations in the backward pass instead of keeping them
    (transformers' activation checkpointing, non-reentrant): less memory per micro-batch, ~1 more forward
    pass of time. Same losses."""
    print_targets: bool = True
    """Print the adapted module names (grouped by layer) when an adapter is created, once per process for
    the same list (a run that creates an adapter per iteration prints it once)."""

    @model_validator(mode="after")
    def _micro_batches_not_empty(self) -> LoraTrainConfig:
        if self.gradient_accumulation_steps > self.batch_size:
            raise ValueError(f"gradient_accumulation_steps = {self.gradient_accumulation_steps} splits a batch of "
                             f"batch_size = {self.batch_size} into more micro-batches than it has samples")
        return self

    @model_validator(mode="after")
    def _window_inside_curve(self) -> LoraTrainConfig:
        if self.schedule_total is None:
            if self.schedule_start:
                raise ValueError("schedule_start needs schedule_total (the curve it is a step of)")
            return self
        if self.steps is None:
            raise ValueError("schedule_total needs steps (how much of the curve this call takes)")
        if self.schedule_start + self.steps > self.schedule_total:
            raise ValueError(f"schedule_start + steps = {self.schedule_start + self.steps} runs past "
                             f"schedule_total = {self.schedule_total}")
        return self


class TrainStats(Record):
    """What one `Student.train` call did."""

    steps: int
    """Optimiser steps taken."""
    epochs: int
    """Passes over the data."""
    train_samples: int
    """Samples given to train on."""
    replay_samples: int
    """Replay (already-known skill) samples mixed in."""
    epoch_losses: list[float]
    """Mean token loss of each epoch, in order."""
    wall_s: float
    """Wall-clock seconds for the call, encoding included."""
    trainable_params: int
    """Parameters that received gradients (the adapter's, for LoRA)."""
    target_modules: list[str]
    """Full names of the modules that carry the adapter."""


@runtime_checkable
class Student(Protocol):
    """A VLM that answers with a rationale and learns from samples through a removable adapter.

    Images named by `Sample.images` are read relative to `image_root`. Implementations are
    deterministic for a given seed and greedy decoding.
    """

    def answer(self, samples: Sequence[Sample], image_root: Path, *, batch_size: int = 64) -> list[StudentOutput]:
        """One output per sample, in input order, with the parsed rationale steps and final answer."""
        ...

    def train(self, samples: Sequence[Sample], image_root: Path, config: LoraTrainConfig, *, seed: int,
              replay: Sequence[Sample] = (), replay_root: Path | None = None,
              on_step: Callable[[int, int, float], None] | None = None) -> TrainStats:
        """LoRA-train the current adapter (created if none) on `samples` mixed with `replay`.

        The loss covers only the rationale/answer tokens. `replay` are samples of skills the student
        already has, mixed in so it does not forget them; their images are under `replay_root`
        (default `image_root`). `on_step`, when given, is called after every optimiser step with
        (steps done, total steps, that step's loss), e.g. to draw a progress bar; it must not change
        the training. Students written before it existed may lack it: the loop then shows a spinner.
        """
        ...

    def token_scores(self, samples: Sequence[Sample], image_root: Path, *,
                     batch_size: int = 32) -> list[TokenScores]:
        """One `TokenScores` per sample, in input order: how well the student (with its current adapter)
        fits each sample's gold rationale and answer. Only the methods that rank or track samples by loss
        call it (el2n, perplexity, PROGRESS with `metric = "loss"`); a student that cannot score raises
        NotImplementedError (or lacks the method), and those methods then fail with a ConfigError naming
        themselves (`edtune.student.scores.score_samples`)."""
        ...

    def save_adapter(self, directory: Path) -> None:
        """Write the current adapter to `directory`; raises UserError when there is none."""
        ...

    def load_adapter(self, directory: Path) -> None:
        """Replace the current adapter (if any) by the one saved in `directory`."""
        ...

    def reset_adapter(self) -> None:
        """Drop the adapter: the student answers exactly as the base model again."""
        ...

    @property
    def has_adapter(self) -> bool:
        """Whether an adapter is attached."""
        ...
