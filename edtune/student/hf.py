"""`HFStudent`: any Hugging Face image-text-to-text checkpoint as an edtune `Student`.

Loaded with `AutoProcessor` + `AutoModelForImageTextToText`, prompted as its family is
(`edtune.student.families`: the chat template, or PaliGemma's prefix/suffix format), answering with batched
greedy generation (left padding, images nested per sample), trained with removable peft LoRA adapters on
batches the processor builds (`edtune.student.batches`). The bundled tiny student and a 7B Qwen2-VL take
exactly this path; only `StudentConfig` (device, dtype) differs. A checkpoint of another family is refused
at load time.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from edtune.errors import ConfigError, UserError
from edtune.rationale import to_student_output
from edtune.records import Sample, StudentOutput
from edtune.student.base import LoraTrainConfig, StudentConfig, TrainStats
from edtune.student.batches import Encoder, Example, encoder_for
from edtune.student.checkpointing import checkpointing
from edtune.student.devices import require_device
from edtune.student.families import family_of
from edtune.student.launch import ADAPTER, TrainJob, job_folder, run_launch, write_job
from edtune.student.lora import adapter_target_names, attach_lora, trainable_parameters
from edtune.student.training import EndCallback, Schedule, StepCallback, call_steps, check_precision, fit

if TYPE_CHECKING:
    import torch
    from peft import PeftModel

    from edtune.student.scores import TokenScores


class HFStudent:
    """A Hugging Face VLM behind the `Student` protocol. Not thread-safe: one call at a time."""

    def __init__(self, model: Any, processor: Any, config: StudentConfig | None = None, *, name: str = "",
                 source: Path | None = None, work_dir: Path | None = None) -> None:
        """Wrap an already-loaded model and processor (see `from_pretrained` for the usual way in).

        `source` is the checkpoint folder the model was loaded from, which training on several processes
        (`StudentConfig.accelerate_config`) loads again in each; `work_dir` holds those launches' job folders
        (None: the system's temporary folder). ConfigError when the model's family is not supported
        (`families.FAMILIES`)."""
        import torch

        self.config = config or StudentConfig()
        self.name = name
        self._encoder = encoder_for(processor, model.config.model_type, self.config)
        if self.config.num_threads is not None and self.config.device == "cpu":
            torch.set_num_threads(self.config.num_threads)
        self._model = model.to(self.config.device).eval()
        self._processor = processor
        self._peft: PeftModel | None = None
        self._targets: list[str] = []
        self._source = source
        self._work_dir = work_dir

    @classmethod
    def from_pretrained(cls, path: str | Path, config: StudentConfig | None = None, *,
                        work_dir: Path | None = None) -> HFStudent:
        """Load processor and model from a local checkpoint directory (never downloads); `work_dir` as in
        `__init__`."""
        import torch
        from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor

        config = config or StudentConfig()
        require_device(config.device, "StudentConfig.device")
        if not Path(path).is_dir():
            raise UserError(f"student checkpoint directory not found: {path}")
        checkpoint = AutoConfig.from_pretrained(path, local_files_only=True)
        family_of(checkpoint.model_type, getattr(checkpoint, "architectures", None))  # refused before the weights
        processor = AutoProcessor.from_pretrained(path, local_files_only=True)
        model = AutoModelForImageTextToText.from_pretrained(
            path, dtype=getattr(torch, config.dtype), local_files_only=True)
        return cls(model, processor, config, name=Path(path).name, source=Path(path).resolve(), work_dir=work_dir)

    @property
    def model(self) -> torch.nn.Module:
        """The underlying HF model (with LoRA layers injected while an adapter is attached)."""
        return self._model

    @property
    def processor(self) -> Any:
        """The checkpoint's processor (tokenizer + image processor + chat template)."""
        return self._processor

    @property
    def encoder(self) -> Encoder:
        """How samples become model inputs for this checkpoint (prompts, training batches, labels)."""
        return self._encoder

    @property
    def has_adapter(self) -> bool:
        """Whether a LoRA adapter is attached."""
        return self._peft is not None

    def answer(self, samples: Sequence[Sample], image_root: Path, *, batch_size: int = 64) -> list[StudentOutput]:
        """Greedy answers in input order; raw text decoded without special tokens, then parsed."""
        if batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        outputs: list[StudentOutput] = []
        for start in range(0, len(samples), batch_size):
            chunk = samples[start:start + batch_size]
            texts = self._generate(chunk, image_root, first_row=start + 1)
            outputs.extend(to_student_output(s.id, t) for s, t in zip(chunk, texts, strict=True))
        return outputs

    def token_scores(self, samples: Sequence[Sample], image_root: Path, *,
                     batch_size: int = 32) -> list[TokenScores]:
        """Loss and EL2N of each sample's gold target, one forward pass per batch (`edtune.student.scores`)."""
        from edtune.student.scores import hf_token_scores

        return hf_token_scores(self, samples, image_root, batch_size=batch_size)

    def _generate(self, samples: Sequence[Sample], image_root: Path, *, first_row: int) -> list[str]:
        import torch

        inputs = self._on_device(self._encoder.generation_batch(samples, image_root, first_row=first_row))
        with torch.inference_mode():
            out = self._model.generate(**inputs, do_sample=False, max_new_tokens=self.config.max_new_tokens,
                                       pad_token_id=self._pad_id(), eos_token_id=self.stop_ids())
        new_tokens = out[:, inputs["input_ids"].shape[1]:]
        return [t.strip() for t in self._processor.batch_decode(new_tokens, skip_special_tokens=True)]

    def stop_ids(self) -> list[int]:
        """Token ids that end an answer: the end-of-turn token, then the generation config's EOS ids."""
        stop = self._model.generation_config.eos_token_id
        stops = [self._encoder.end_of_turn_id, *(stop if isinstance(stop, list) else [] if stop is None else [stop])]
        return [int(i) for i in dict.fromkeys(stops)]

    def train(self, samples: Sequence[Sample], image_root: Path, config: LoraTrainConfig, *, seed: int,
              replay: Sequence[Sample] = (), replay_root: Path | None = None,
              on_step: StepCallback | None = None) -> TrainStats:
        """LoRA-train (see `Student.train`). A first call creates the adapter from `config`'s shape
        (r, alpha, targets); later calls keep training that adapter until `reset_adapter`. With
        `StudentConfig.accelerate_config` the call runs under `accelerate launch` (`edtune.student.launch`)
        and the trained adapter is then loaded here; otherwise it runs in this process."""
        if not samples:
            raise UserError("train() needs at least one sample")
        check_precision(config.mixed_precision, self.config.device)
        if self.config.accelerate_config is not None:
            return self._train_launched(samples, image_root, config, seed=seed, replay=replay,
                                        replay_root=replay_root, on_step=on_step)
        return self.train_in_process(samples, image_root, config, seed=seed, replay=replay,
                                     replay_root=replay_root, on_step=on_step)

    def train_in_process(self, samples: Sequence[Sample], image_root: Path, config: LoraTrainConfig, *, seed: int,
                         replay: Sequence[Sample] = (), replay_root: Path | None = None,
                         on_step: StepCallback | None = None, on_end: EndCallback | None = None) -> TrainStats:
        """`train` in this process, whatever `accelerate_config` says: what each launched process runs.
        `on_end` is `fit`'s (every process, before the trained model is released)."""
        started = time.perf_counter()
        examples = [self._encoder.example(s, image_root, row=i + 1) for i, s in enumerate(samples)]
        examples += [self._encoder.example(s, replay_root or image_root, row=i + 1) for i, s in enumerate(replay)]
        per_epoch = -(-len(examples) // config.batch_size)
        steps = call_steps(config, len(examples))
        epochs = -(-steps // per_epoch)
        schedule = Schedule(lr=config.lr, steps=steps, batch_size=config.batch_size,
                            warmup_ratio=config.warmup_ratio, weight_decay=config.weight_decay,
                            max_grad_norm=config.max_grad_norm, start=config.schedule_start,
                            total=config.schedule_total, accumulation=config.gradient_accumulation_steps,
                            mixed_precision=config.mixed_precision)
        with self._seeded(seed):
            if self._peft is None:
                self._peft, self._targets = attach_lora(self._model, config, self._encoder.family)
            with checkpointing(self._model, config.gradient_checkpointing):
                losses = fit(self._model, examples, schedule, collate=self._training_batch, seed=seed,
                             device=self.config.device, on_step=on_step, on_end=on_end)
        epoch_losses = [sum(losses[i:i + per_epoch]) / len(losses[i:i + per_epoch])
                        for i in range(0, len(losses), per_epoch)]
        return TrainStats(steps=len(losses), epochs=epochs, train_samples=len(samples),
                          replay_samples=len(replay), epoch_losses=epoch_losses,
                          wall_s=time.perf_counter() - started,
                          trainable_params=sum(p.numel() for p in trainable_parameters(self._model)),
                          target_modules=list(self._targets))

    def _train_launched(self, samples: Sequence[Sample], image_root: Path, config: LoraTrainConfig, *, seed: int,
                        replay: Sequence[Sample], replay_root: Path | None,
                        on_step: StepCallback | None) -> TrainStats:
        """`train` on the processes of `accelerate_config`; the adapter they leave replaces this one."""
        if self._source is None:
            raise ConfigError("StudentConfig.accelerate_config needs a student loaded from a checkpoint folder "
                              "(HFStudent.from_pretrained): each launched process loads it again")
        started = time.perf_counter()
        with job_folder(self._work_dir) as folder:
            start = None
            if self._peft is not None:
                start = folder / "start"
                self.save_adapter(start)
            job = TrainJob(checkpoint=str(self._source), student=self._launched_config(),
                           lora=config, seed=seed, image_root=str(Path(image_root).resolve()),
                           replay_root=None if replay_root is None else str(Path(replay_root).resolve()),
                           adapter=None if start is None else str(start), out=str(folder))
            with self._off_device():
                stats = run_launch(str(self.config.accelerate_config), write_job(job, samples, replay), on_step)
            self.load_adapter(folder / ADAPTER)
        return stats.model_copy(update={"wall_s": time.perf_counter() - started})

    def _launched_config(self) -> StudentConfig:
        """This student's config for the launched processes, which train where they are."""
        return self.config.model_copy(update={"accelerate_config": None})

    @contextmanager
    def _off_device(self) -> Iterator[None]:
        """The model on CPU while launched processes train on the GPUs (they load their own copies)."""
        if self.config.device != "cuda":
            yield
            return
        import torch

        self._model.to("cpu")
        torch.cuda.empty_cache()
        try:
            yield
        finally:
            self._model.to(self.config.device)

    @contextmanager
    def _seeded(self, seed: int) -> Iterator[None]:
        """Seed torch's RNG (adapter init, dropout) without disturbing the caller's RNG state."""
        import torch

        devices = [torch.cuda.current_device()] if self.config.device == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(random.Random(seed).getrandbits(63))
            yield

    def _training_batch(self, examples: list[Example]) -> dict[str, torch.Tensor]:
        return self._on_device(self._encoder.training_batch(examples))

    def _on_device(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Tensors moved to the model's device; floating ones (pixels) cast to its dtype."""
        dtype = next(self._model.parameters()).dtype
        return {k: v.to(self.config.device, dtype=dtype) if v.is_floating_point() else v.to(self.config.device)
                for k, v in batch.items()}

    def _pad_id(self) -> int:
        tokenizer = self._processor.tokenizer
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
        if pad is None:
            raise ConfigError("the checkpoint's tokenizer defines neither a pad nor an eos token")
        return int(pad)

    def save_adapter(self, directory: Path, *, weights: dict[str, torch.Tensor] | None = None) -> None:
        """Write the adapter (peft format: adapter_config.json + adapter_model.safetensors). `weights`: the
        model's full state dict (base-model names) gathered from the processes that hold its shards, in
        place of this process's own parameters."""
        if self._peft is None:
            raise UserError("no adapter to save: train or load one first")
        state = None if weights is None else {f"base_model.model.{name}": value for name, value in weights.items()}
        self._peft.save_pretrained(str(directory), state_dict=state)

    def load_adapter(self, directory: Path) -> None:
        """Replace the current adapter by the saved one; it stays trainable by later `train` calls."""
        from peft import PeftModel

        if not (Path(directory) / "adapter_config.json").is_file():
            raise UserError(f"no LoRA adapter (adapter_config.json) in {directory}")
        self.reset_adapter()
        self._peft = PeftModel.from_pretrained(self._model, directory, is_trainable=True)
        self._targets = adapter_target_names(self._peft)
        self._model.eval()

    def reset_adapter(self) -> None:
        """Remove the LoRA layers (unmerged), restoring the base model's exact outputs."""
        if self._peft is not None:
            self._model = self._peft.unload()
            self._peft = None
            self._targets = []
        self._model.eval()
