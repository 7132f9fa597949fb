"""`ProgressSettings`: the `[progress]` section of a run config (methods progress, el2n, perplexity).

It is `edtune.progress.ProgressConfig` (every PROGRESS rule setting, paper defaults) plus what the loop
needs to run it: which encoders embed the pool and which k-means backend clusters it, and the ends the
score baselines keep. Two `ProgressConfig` fields mean something slightly different inside the loop:
- `budget_fraction` is not used: the run's `budget` (a sample count, shared by every method) is the budget;
- `seed` is not used: every draw comes from the run's master `seed`, like every other method's.
The number of iterations follows from the budget too: one warm-up, then rounds of `round_size` until the
budget is spent (the paper's stopping rule), so the run's `iterations` does not apply to PROGRESS.
"""

from __future__ import annotations

from typing import Literal

from edtune.progress.baselines import Order
from edtune.progress.config import ProgressConfig
from edtune.progress.kmeans import Backend
from edtune.student.base import Device, DType


class ProgressSettings(ProgressConfig):
    """PROGRESS rule settings plus the encoders, k-means backend and score-baseline orders of a run."""

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
    """auto: faiss when installed, numpy otherwise."""
    el2n_order: Order = "highest"
    """Which end of the EL2N ranking the `el2n` baseline keeps (highest: the hardest samples, as Paul et al.)."""
    perplexity_order: Order = "middle"
    """Which part of the perplexity ranking `perplexity` keeps (middle: Marion et al.'s best setting)."""
    score_batch_size: int = 32
    """Samples per forward pass when the student scores samples (loss metric, EL2N, perplexity)."""
