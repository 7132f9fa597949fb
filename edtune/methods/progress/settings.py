"""`ProgressSettings`: the `[progress]` section of a run config (methods progress and skill_progress).

The PROGRESS rule settings (arXiv 2506.01085; defaults follow the paper where it states a value and the
authors' scripts where only they do; each field says which), then what the loop needs to run it: which
encoders embed the pool and which k-means backend clusters it.
The run's `budget` (a sample count, shared by every method) is PROGRESS's budget and every random draw
comes from the run's master `seed`, like every other method's; the settings of the same names that this
section once inherited (`budget_fraction`, `seed`) did nothing, and are now dropped (with a
DeprecationWarning when set to anything but their old defaults). The number of iterations follows from
the budget too: one warm-up, then rounds of `round_size` until the budget is spent (the paper's stopping
rule), so the run's `iterations` does not apply to PROGRESS.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

from pydantic import Field, model_validator

from edtune.methods.progress.kmeans import Backend
from edtune.records import Record
from edtune.student.base import Device, DType

IGNORED = {"budget_fraction": 0.2, "seed": 1234}
"""Settings the section once had and the loop never read, with their old defaults: dropped when read, with a
DeprecationWarning when set to another value (a config snapshot of an older run holds the defaults)."""


class ProgressSettings(Record):
    """How PROGRESS clusters the pool, warms up and spends each round of annotations; the encoders, k-means
    backend and score-baseline orders of a run."""

    k_tracking: int = Field(default=1000, ge=1)
    """Clusters whose accuracy is tracked across rounds (paper: 1000 on LLaVA-665K)."""
    k_warmup: int = Field(default=5000, ge=1)
    """Finer clusters used only to pick the warm-up set (paper: 5000), so warm-up covers many concepts."""
    kmeans_niter: int = Field(default=50, ge=1)
    """Lloyd iterations of spherical k-means (authors' scripts: 50)."""
    warmup_fraction: float = Field(default=0.09, gt=0, lt=1)
    """Share of the budget spent on the warm-up set before any round (paper: ~9%)."""
    warmup_temperature: float = Field(default=0.1, gt=0)
    """Softmax temperature over COINCIDE cluster scores for warm-up quotas (COINCIDE and PROGRESS: 0.1)."""
    transfer_max_similarity: float = Field(default=0.9, gt=-1, le=1)
    """Centroid similarities above this are ignored in transferability: near-duplicates say nothing about
    transfer to other concepts (COINCIDE: 0.9)."""
    density_bandwidth: float = Field(default=1.0, gt=0)
    """Bandwidth sigma of the Gaussian kernel exp(-|x-y|^2 / (2 sigma^2)) behind cluster density and MMD
    prototypes (COINCIDE: 1.0)."""
    density_max_members: int = Field(default=1024, ge=2)
    """Density of a larger cluster is estimated on this many seeded members: the kernel is quadratic."""
    prototype_rule: Literal["mmd", "nearest"] = "mmd"
    """How warm-up picks samples inside a cluster: greedy MMD prototypes (COINCIDE) or closest to centroid."""
    round_size: int = Field(default=7500, ge=1)
    """Annotations requested per round (authors' scripts: 7,500 on LLaVA-665K, ~1.1% of the pool)."""
    tau: float = Field(default=1.0, gt=0)
    """Softmax temperature over relative improvements (paper: 1.0; the authors' scripts used 0.5)."""
    exploration_fraction: float = Field(default=0.1, ge=0, le=1)
    """Share of each round drawn at random from clusters not prioritised (paper: 10%), so a cluster whose
    improvement was missed can come back."""
    cluster_prior: Literal["uniform", "size"] = "uniform"
    """How a round's quotas weigh clusters (or the skill-progress selector's skills) besides their
    improvement. uniform (the paper): by softmax(improvement / tau) alone, so at equal improvement a cluster
    with 1,000 samples left gets the quota of one with 50; size: by that softmax times the samples left, so
    that at equal improvement the quotas follow the pool as a uniform draw would, and a large skill is not
    starved for being one cluster. On the bundled benchmark it picked like random, and did not beat it
    (benchmarks/README.md)."""
    metric: Literal["accuracy", "loss"] = "accuracy"
    """What rounds track per cluster: judged accuracy (paper's main variant) or mean per-sample loss."""
    eval_per_cluster: int = Field(default=80, ge=1)
    """At most this many already-selected samples per cluster are evaluated each round (scripts: 80-100)."""
    eval_samples: Literal["trained", "held_out"] = "trained"
    """trained (the paper): evaluate on annotated samples the students trained on; held_out: on a per-cluster
    set of annotated samples that intermediate students never train on (the final one does). held_out is for
    training calls that make many passes over their data, after which a student can answer its own training
    samples without having learned the skill (`edtune.methods.progress.evaluation`). It costs annotations that the
    rounds cannot train on. On the bundled benchmark, with accuracy it matched the paper's choice (5,000
    pool) and with `metric = "loss"` it beat it (5,000 and 20,000 pools), but neither beat random
    (benchmarks/README.md)."""

    encoder: Literal["cheap", "hf"] = "cheap"
    """cheap: weight-free thumbnail + hashed-words features (the bundled benchmark's choice); hf: the
    transformers models named by `image_model` and `text_model` (the paper: DINOv2 + MiniLM)."""
    image_model: str = "facebook/dinov2-large"
    """Image encoder (name or local folder) for `encoder = "hf"`; its pooled output is used."""
    text_model: str = "sentence-transformers/all-MiniLM-L6-v2"
    """Text encoder (name or local folder) for `encoder = "hf"`; mean-pooled over tokens."""
    encoder_device: Device = "cpu"
    """Where the `hf` encoders run. cpu suits the tests' tiny configs; a real pool wants cuda (DINOv2-large
    costs about 80 GFLOPs per 224-px image, times every image of the pool)."""
    encoder_dtype: DType = "float32"
    """Weights dtype of the `hf` encoders (bfloat16 on GPUs); embeddings are pooled and stored in float32."""
    thumbnail_side: int = 8
    """Side of the RGB thumbnail of the cheap image encoder (8: 192 values, enough for 48-px shapes)."""
    text_buckets: int = 512
    """Hash buckets of the cheap text encoder."""
    kmeans_backend: Backend = "auto"
    """auto: faiss when installed, numpy otherwise; "torch" for the bfloat16 product on a GPU or a CPU with
    bfloat16 units (speeds in benchmarks/README.md, bench_kmeans; its clusters can differ from numpy's at
    near-ties)."""

    @model_validator(mode="before")
    @classmethod
    def _drop_ignored(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if changed := [key for key, default in IGNORED.items() if key in data and data[key] != default]:
            warnings.warn(f"progress.{' and progress.'.join(changed)} did nothing (the run's budget and seed "
                          "apply) and will be refused in a later release; remove them from the config",
                          DeprecationWarning, stacklevel=2)
        return {k: v for k, v in data.items() if k not in IGNORED}

    @model_validator(mode="after")
    def _warmup_not_coarser(self) -> ProgressSettings:
        if self.k_warmup < self.k_tracking:
            # Warm-up clusters exist to cover more concepts than tracking does; coarser ones would defeat that.
            raise ValueError(f"k_warmup ({self.k_warmup}) must be >= k_tracking ({self.k_tracking})")
        return self
