"""`RunConfig`: everything one adaptation run needs, loadable from TOML (`edtune run CONFIG`).

Relative paths in a TOML file are resolved against the file's folder, so a config and its data can move
together. A bad key or value is a ConfigError naming the file and the dotted field.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from edtune.errors import ConfigError
from edtune.loop.data_file import DataFile as DataFile  # re-exported: configs name it from here
from edtune.methods.progress.settings import ProgressSettings
from edtune.methods.registry import MethodName as MethodName  # re-exported: demo and benchmarks name it here
from edtune.methods.registry import needs_teacher
from edtune.methods.scores.settings import ScoresSettings
from edtune.records import Record
from edtune.retrieval.base import BM25Params
from edtune.retrieval.spec import TextFields
from edtune.retrieval.tokenize import TokenizerSettings
from edtune.scale.settings import PoolEngine
from edtune.student.base import LoraTrainConfig, StudentConfig
from edtune.student.served_config import VLLMServerConfig
from edtune.tomlfile import read_toml

BUNDLED = "bundled"
"""`StudentSettings.path` value naming the shipped tiny student."""


class DataSettings(Record):
    """The data sets of a run."""

    val: DataFile
    """Validation set: the student's errors on it drive selection (error-driven methods only)."""
    pool: DataFile
    """Supporting pool to select training samples from; retrieval reads its `required_skills`, which the
    teacher fills in where they are missing (`retrieval.annotate`)."""
    test: DataFile | None = None
    """Held-out test set scored after every iteration; None skips test evaluation (metrics use val only)."""
    replay: DataFile | None = None
    """Base-skill samples mixed into training so LoRA does not erase what the student knew; None: no replay."""


class StudentSettings(Record):
    """Which student to adapt and how it runs."""

    path: str = BUNDLED
    """HF checkpoint folder of an image-text-to-text model, or "bundled" for the shipped tiny student."""
    generation: StudentConfig = Field(default_factory=StudentConfig)
    """Device, dtype and generation settings; set device = "cuda" and dtype = "bfloat16" for a real VLM."""
    batch_size: int = Field(default=64, ge=1)
    """Samples per generation batch (benchmarks/README.md has the tiny student's answering rate at 64). With
    engine = "vllm": requests in flight at once."""
    score_batch_size: int = Field(default=32, ge=1)
    """Samples per forward pass when the student scores samples (PROGRESS's loss metric, el2n, perplexity)."""
    engine: Literal["hf", "vllm"] = "hf"
    """What answers: "hf" (transformers `generate` in this process) or "vllm" (the vLLM server `server`
    names, serving the same checkpoint with LoRA; see docs/scale.md). Training is HF/PEFT either way."""
    server: VLLMServerConfig | None = None
    """The vLLM server answering when engine = "vllm" (only then)."""

    @model_validator(mode="after")
    def _server_with_engine(self) -> StudentSettings:
        if self.engine == "vllm" and self.server is None:
            raise ValueError('engine = "vllm" needs a [student.server] table (base_url, model)')
        if self.engine == "hf" and self.server is not None:
            raise ValueError('student.server is only used with engine = "vllm"')
        return self


class LocaliseSettings(Record):
    """How the first wrong step of each error is found."""

    method: Literal["auto", "direct", "per_step", "answer_switch"] = "auto"
    """auto: answer-switch (the paper's method) for multiple-choice samples when the teacher gives
    logprobs, direct otherwise (answer-switch cannot score an open question). The run records which it
    chose and why in `localisation.json`."""
    teacher_logprobs: bool | None = None
    """Whether the teacher server returns top logprobs (vLLM and OpenAI do; many proxies and llama.cpp
    builds do not). None: the teacher spec's `logprobs` (true for a spec string or a teacher object)."""
    analyse_unlocated: bool = True
    """Still run skill analysis on an error whose step was not found, showing the whole rationale:
    a student that writes no steps then still contributes its error instead of being dropped."""


class RetrievalSettings(Record):
    """BM25 from missing skills to pool samples (see `edtune.retrieval.select` for the allocation rule)."""

    fields: TextFields = "skills"
    """What is indexed per pool sample: its required skills, or skills+question. Skills only by default,
    because skill phrases match skill queries and question words add noise (the paper indexes skills)."""
    tokenizer: TokenizerSettings = Field(default_factory=TokenizerSettings)
    """Tokenizer shared by documents and queries."""
    bm25: BM25Params = Field(default_factory=BM25Params)
    """BM25Okapi parameters (rank-bm25's defaults)."""
    floor: int = Field(default=1, ge=0)
    """Samples every missing skill gets before the rest of the budget is shared by frequency, so a rare
    skill still gets data."""
    top_k: int = Field(default=200, ge=1)
    """Hits retrieved per distinct skill; a skill never gets more samples than this in one iteration."""
    min_score: float = 0.0
    """Only hits scoring above this are chosen (0: the hit must share an informative term)."""
    annotate: bool = True
    """Before the first retrieval, ask the teacher for the required skills of the pool samples that have none
    (stage `teacher.annotate`, once per run, resumable; answers in pool_annotations.jsonl). False leaves
    those samples out of retrieval. Not done with `index` (the saved index has its own documents)."""
    index: Path | None = None
    """A saved index folder (`edtune index build`) of the same pool, opened instead of indexing the pool in
    this process: worth it for pools of 100K+ samples. Its own fields/tokenizer/bm25 settings then apply,
    and it is refused (IndexMismatch) when the pool files changed since it was built."""


class TrainingSettings(Record):
    """How the student is tuned in each iteration."""

    lora: LoraTrainConfig = Field(default_factory=LoraTrainConfig)
    """Adapter shape and optimiser schedule of each training call."""
    data: Literal["cumulative", "new"] = "cumulative"
    """cumulative: train on every sample selected so far; new: only this iteration's selection."""
    adapter: Literal["fresh", "continue"] = "fresh"
    """fresh: a new adapter each iteration (with cumulative data, iteration k's model is exactly "base +
    LoRA on everything chosen so far", comparable across methods at equal samples); continue: keep
    training the previous iteration's adapter."""
    schedule: Literal["per_call", "run"] = "per_call"
    """per_call: each training call runs its own warm-up + cosine LR curve over its own steps. run: the run
    walks one curve, as PROGRESS's authors train (one LR schedule of max_steps, stopped at each selection
    step, resumed on the next round's new samples): its length is what one call on the whole budget would
    take by the `lora` epoch rule, and each call takes the stretch proportional to the samples it adds
    (the final call ends the curve). Needs adapter = "continue" and data = "new"; AdamW's moments still
    start afresh in each call, since edtune keeps no optimiser state between iterations."""
    final_min_steps: int | None = Field(default=None, ge=1)
    """Step floor of the run's final training call only (per_call schedule), above `lora.min_steps`. A
    PROGRESS run's intermediate students only measure improvement, while its final one is compared with
    references trained longer; this trains the final call as long as a reference without training every
    round that long. None: the final call takes `lora` like the others."""
    replay_ratio: float = Field(default=0.5, ge=0)
    """Replay samples per selected training sample (from `data.replay`). Without replay, LoRA destroyed
    the tiny student's colour/shape skills; 0.5 (250 per 500) kept them intact."""

    @model_validator(mode="after")
    def _run_schedule_continues(self) -> TrainingSettings:
        if self.schedule == "run" and (self.adapter, self.data) != ("continue", "new"):
            # A fresh adapter restarted mid-curve, or old samples re-trained at the new samples' share of
            # the curve, is not one run walking one curve.
            raise ValueError(f'training.schedule = "run" needs adapter = "continue" and data = "new", '
                             f'not adapter = "{self.adapter}", data = "{self.data}"')
        if self.schedule == "run" and self.final_min_steps is not None:
            # The run's curve already fixes where the final call ends; a floor would run past it.
            raise ValueError('training.final_min_steps applies to schedule = "per_call" only')
        return self


class RunConfig(Record):
    """One adaptation run. Every default is the bundled benchmark's choice; see each field's note."""

    method: MethodName = "error_driven"
    """How training samples are chosen, by a registered method's name (`edtune.methods`): error_driven,
    random (equal budget), full (the whole pool), a paper ablation (ablation_random_step, ablation_step_text,
    ablation_random_samples), progress (PROGRESS), its score baselines (el2n, perplexity), skill_progress
    (PROGRESS's rounds over the teacher's skills), or a method an installed package registers."""
    seed: int = 0
    """Master seed: every random choice draws from a generator derived from (seed, iteration, stage)."""
    budget: int = Field(default=500, ge=1)
    """Total pool samples to select over all iterations (ignored by `full`)."""
    iterations: int = Field(default=3, ge=1)
    """Maximum iterations; the loop also stops early when the budget is spent or no error is left."""
    budget_rule: Literal["even", "front_loaded"] = "even"
    """Per-iteration budget: even splits what is left equally over the iterations left; front_loaded
    gives half of what is left (the last iteration everything), for students that are far off at first."""
    student: StudentSettings = Field(default_factory=StudentSettings)
    """The student model."""
    data: DataSettings
    """The data sets."""
    teacher: str | None = None
    """Teacher spec: "<provider>/<model>[@<base_url>]" or a spec file; needed by the error-driven methods."""
    judge: str = "exact"
    """Judge spec: a rule judge name (exact, choice, numeric), a model spec string, or a spec file."""
    unanswered_are_errors: bool = True
    """Mine a validation sample the student gave no final answer for (judged incorrect, like any answer
    that cannot be read) as an error to learn from: a student that writes no answer at all is exactly what
    needs tuning. False mines only errors with a final answer. Accuracy is unaffected (it counts every
    question); unscored verdicts (a judge failure) are never errors."""
    keep: Literal["auto", "best_val", "last"] = "auto"
    """Which adapter is the run's result. best_val: the one (the pretrained student included) whose
    validation accuracy is highest, later adapters winning ties, so an iteration that made the student worse
    is not what the run returns; this needs the validation set answered after every training, one extra pass
    over it for methods that do not mine errors there. last: the last trained adapter. auto: best_val for the
    methods that read the validation set anyway (the teacher methods), last for those that read no
    target-task data (random, full, PROGRESS and its score baselines)."""
    teacher_images: bool | None = None
    """Send sample images to the teacher (a VLM teacher); False for a text-only teacher. None: the teacher
    spec's `images` (true for a spec string or a teacher object)."""
    teacher_preflight: bool = True
    """Check the teacher at run start, before any student evaluation: one tiny request per capability the
    run needs (it answers, takes images when the run sends them, returns top logprobs where answer-switch
    would read them); a teacher that fails is refused with the setting to change. Done once per run
    directory, for a teacher named by a spec (a client object is not probed). False for an offline or
    replayed run whose replies all come from the run's cache."""
    localise: LocaliseSettings = Field(default_factory=LocaliseSettings)
    """First-wrong-step localisation."""
    skills_per_error: int = Field(default=1, ge=1, le=10)
    """Missing-skill phrases asked per error; the paper uses 1."""
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    """Retrieval of pool samples for the missing skills."""
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    """LoRA tuning."""
    progress: ProgressSettings = Field(default_factory=ProgressSettings)
    """PROGRESS settings (method progress), and the round rule skill_progress shares with it (tau,
    exploration_fraction, metric, eval_per_cluster)."""
    scores: ScoresSettings = Field(default_factory=ScoresSettings)
    """The score baselines' settings (el2n, perplexity)."""
    pool_engine: PoolEngine = Field(default_factory=PoolEngine)
    """Where the pool-side stages run (PROGRESS's features): in this process, or on a Ray cluster over shards
    of the pool, with the same result (docs/scale.md)."""

    @model_validator(mode="before")
    @classmethod
    def _moved_settings(cls, data: Any) -> Any:
        return move_settings(data) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _teacher_when_needed(self) -> RunConfig:
        if needs_teacher(self.method) and self.teacher is None:
            raise ValueError(f"method '{self.method}' needs a teacher spec (teacher = \"vllm/<model>@<url>\")")
        return self

    @model_validator(mode="after")
    def _held_out_for_progress(self) -> RunConfig:
        if self.progress.eval_samples == "held_out" and self.method != "progress":
            # skill_progress's groups are the skills a sample was selected for, known only once selected;
            # its evaluation sets are not held out (yet), so the setting would silently do nothing.
            raise ValueError(f"progress.eval_samples = \"held_out\" is implemented for method 'progress' only, "
                             f"not '{self.method}'")
        return self


MOVED = {"el2n_order": ("scores", "el2n_order", "highest"),
         "perplexity_order": ("scores", "perplexity_order", "middle"),
         "score_batch_size": ("student", "score_batch_size", 32)}
"""Settings `[progress]` once held: key -> (section, key, old default) where they live now."""


def move_settings(data: dict[str, Any]) -> dict[str, Any]:
    """A run config's table with the settings `MOVED` lists taken from `[progress]` to their sections (where
    that section does not set them itself). A value other than the old default is moved with a
    DeprecationWarning: the config should say it in its new place. A config snapshot of an older run holds
    the defaults, and is read without a warning."""
    progress = data.get("progress")
    if not isinstance(progress, dict) or not MOVED.keys() & progress.keys():
        return data
    data = {**data, "progress": {k: v for k, v in progress.items() if k not in MOVED}}
    for key, (section, new_key, default) in MOVED.items():
        if key not in progress:
            continue
        if progress[key] != default:
            warnings.warn(f"progress.{key} is now {section}.{new_key}; set it there", DeprecationWarning,
                          stacklevel=2)
        target = data.get(section)
        target = dict(target) if isinstance(target, dict) else {}
        target.setdefault(new_key, progress[key])
        data[section] = target
    return data


def _resolve(value: Any, base: Path) -> Any:
    """Make the `path` and `image_root` entries of data sections absolute against `base`."""
    if isinstance(value, dict):
        return {k: (str((base / v).resolve()) if k in ("path", "image_root") and isinstance(v, str)
                    else _resolve(v, base))
                for k, v in value.items()}
    return value


def config_error(source: str, exc: ValidationError) -> ConfigError:
    """One ConfigError naming `source` and every bad field (values are not echoed)."""
    problems = []
    for err in exc.errors(include_url=False, include_input=False):
        where = ".".join(map(str, err["loc"]))
        message = err["msg"].removeprefix("Value error, ")
        problems.append(f"field '{where}': {message}" if where else message)
    return ConfigError(f"{source}: invalid run config: {'; '.join(problems)}")


def validate_config(data: dict[str, Any], source: str) -> RunConfig:
    """`RunConfig` from a dict; ConfigError naming `source` and the fields on failure.

    Validation is strict as for JSON: a number given as a string (`iterations = "2"`) or a bool given as a
    number is refused, not coerced; strings are still taken for paths."""
    try:
        return RunConfig.model_validate_json(json.dumps(data, default=str), strict=True)
    except ValidationError as exc:
        raise config_error(source, exc) from None


def load_config(path: str | Path, overrides: Sequence[str] = ()) -> RunConfig:
    """Read a TOML run config; data paths, the student's folder and its accelerate config file are resolved
    against the file's folder (spec strings are not). `overrides` (`DOTTED.KEY=VALUE`, see
    `edtune.loop.overrides`) replace the file's values before validation."""
    from edtune.loop.overrides import apply_overrides

    source = Path(path)
    data = apply_overrides(read_toml(source, "config file"), overrides)
    if isinstance(data.get("data"), dict):
        data["data"] = _resolve(data["data"], source.resolve().parent)
    retrieval = data.get("retrieval")
    if isinstance(retrieval, dict) and isinstance(retrieval.get("index"), str):
        retrieval["index"] = str((source.resolve().parent / retrieval["index"]).resolve())
    progress = data.get("progress")
    if isinstance(progress, dict):
        for key in ("image_model", "text_model"):
            # a model id ("facebook/dinov2-large") also looks like a relative path: only an existing folder
            # next to the config is taken as one
            local = source.resolve().parent / str(progress.get(key, ""))
            if isinstance(progress.get(key), str) and local.is_dir():
                progress[key] = str(local)
    if isinstance(data.get("student"), dict) and data["student"].get("path", BUNDLED) != BUNDLED:
        data["student"]["path"] = str(source.resolve().parent / data["student"]["path"])
    generation = data.get("student", {}).get("generation") if isinstance(data.get("student"), dict) else None
    if isinstance(generation, dict) and isinstance(generation.get("accelerate_config"), str):
        generation["accelerate_config"] = str(source.resolve().parent / generation["accelerate_config"])
    return validate_config(data, str(source))
