"""Per-sample feature vectors for clustering: an image block and a text block, concatenated, L2-normalised.

The paper embeds the image with DINOv2 (pooled output) and the question with a MiniLM sentence model (mean
pooling over tokens); `HFImageEncoder` / `HFTextEncoder` wrap any transformers model of those shapes. The
cheap defaults need no pretrained weights and suit small synthetic benchmarks:
- `ThumbnailEncoder`: the image shrunk to side x side RGB pixels (centred at 0) plus a per-channel colour
  histogram, each part unit length;
- `HashedWordsEncoder`: word unigrams and bigrams of the question hashed (stable blake2b, not Python's
  salted `hash`) into a signed count vector, unit length.

Rows follow the input order exactly. A sample without an image gets a zero image block, so its row is its
text direction only; a sample with several images gets the mean of their image embeddings. Only unlabelled
`PoolItem`s come in: features can never depend on an answer.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, get_args

import numpy as np
from PIL import Image

from edtune.errors import DataError
from edtune.records import Record, Sample
from edtune.student.base import DType

if TYPE_CHECKING:
    import torch

T_contra = TypeVar("T_contra", contravariant=True)
_WORD = re.compile(r"\w+")


class PoolItem(Record):
    """What may be seen of a sample before it is annotated: features and selection see only this."""

    id: str
    """The `Sample.id`."""
    images: list[str]
    """Image paths relative to the data set's image root; empty for a text-only sample."""
    question: str
    """The question as shown to the student."""
    choices: list[str] | None = None
    """Answer options of a multiple-choice question; None for an open question."""

    @classmethod
    def of(cls, sample: Sample) -> PoolItem:
        """The unlabelled view of `sample`."""
        return cls(id=sample.id, images=list(sample.images), question=sample.question, choices=sample.choices)


class Encoder(Protocol[T_contra]):
    """Maps a batch of inputs (PIL images or strings) to a float array of shape (len(items), dim)."""

    @property
    def dim(self) -> int:
        """Width of one embedding."""
        ...

    def encode(self, items: Sequence[T_contra]) -> np.ndarray:
        """Embeddings, one row per item, in order."""
        ...


def build_features(items: Sequence[PoolItem], image_root: Path | str, image_encoder: Encoder[Image.Image],
                   text_encoder: Encoder[str], *, batch_size: int = 32,
                   on_batch: Callable[[int], None] | None = None, first_row: int = 0) -> np.ndarray:
    """Feature matrix (len(items) x (image dim + text dim)), float32, rows of unit length (or zero when both
    blocks are zero). A missing or unreadable image raises DataError naming the file, row and field (rows
    counted from `first_row`, where `items` is a slice of the pool). `on_batch` is called with the number of
    items of each batch once it is embedded (for a progress bar). Each row depends only on its batch, so a
    slice starting at a multiple of `batch_size` gives the rows the whole pool gives."""
    root = Path(image_root)
    blocks = []
    for start in range(0, len(items), batch_size):
        batch = items[start:start + batch_size]
        image_block = _image_block(batch, first_row + start, root, image_encoder)
        text_block = np.asarray(text_encoder.encode([item_text(it) for it in batch]), dtype=np.float32)
        blocks.append(np.concatenate([image_block, text_block], axis=1))
        if on_batch is not None:
            on_batch(len(batch))
    if not blocks:
        return np.zeros((0, image_encoder.dim + text_encoder.dim), dtype=np.float32)
    rows = np.concatenate(blocks, axis=0)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


def cheap_encoders() -> tuple[ThumbnailEncoder, HashedWordsEncoder]:
    """The weight-free default pair (image 216-d, text 512-d) for small and synthetic benchmarks."""
    return ThumbnailEncoder(), HashedWordsEncoder()


def paper_encoders() -> tuple[HFImageEncoder, HFTextEncoder]:
    """The paper's pair, DINOv2-large and all-MiniLM-L6-v2, loaded through transformers (downloads them
    unless they are in the local cache)."""
    return HFImageEncoder.from_pretrained(), HFTextEncoder.from_pretrained()


def item_text(item: PoolItem) -> str:
    """The text embedded for a sample: its question, then its options when it has any."""
    return item.question if not item.choices else item.question + "\n" + "\n".join(item.choices)


def _image_block(batch: Sequence[PoolItem], offset: int, root: Path, encoder: Encoder[Image.Image]) -> np.ndarray:
    block = np.zeros((len(batch), encoder.dim), dtype=np.float32)
    images, owners = [], []
    for i, item in enumerate(batch):
        for rel in item.images:
            images.append(_load_image(root / rel, offset + i))
            owners.append(i)
    if images:
        embedded = np.asarray(encoder.encode(images), dtype=np.float32)
        owner_idx = np.asarray(owners)
        np.add.at(block, owner_idx, embedded)
        block /= np.maximum(np.bincount(owner_idx, minlength=len(batch)), 1)[:, None]
    return block


def _load_image(path: Path, row: int) -> Image.Image:
    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read image: {exc}", file=str(path), row=row + 1, field="images") from exc


class ThumbnailEncoder:
    """Downsampled RGB pixels plus colour histograms; no weights. dim = 3 * side^2 + 3 * bins."""

    def __init__(self, side: int = 8, bins: int = 8) -> None:
        self.side = side
        self.bins = bins

    @property
    def dim(self) -> int:
        """Pixel part plus histogram part."""
        return 3 * self.side * self.side + 3 * self.bins

    def encode(self, items: Sequence[Image.Image]) -> np.ndarray:
        """One row per image; each of the two parts has unit length (the sum is divided by sqrt 2)."""
        return np.stack([self._one(img) for img in items]) if items else np.zeros((0, self.dim), np.float32)

    def _one(self, img: Image.Image) -> np.ndarray:
        img = img.convert("RGB")
        rgb = np.asarray(img, dtype=np.float32) / 255.0
        small = np.asarray(img.resize((self.side, self.side), Image.Resampling.BILINEAR), np.float32) / 255.0 - 0.5
        hist = np.concatenate([np.histogram(rgb[..., c], bins=self.bins, range=(0.0, 1.0))[0] for c in range(3)])
        parts = [_unit(small.ravel()), _unit(hist.astype(np.float32))]
        return np.concatenate(parts) / np.sqrt(2.0)


class HashedWordsEncoder:
    """Signed hashed counts of lower-cased word unigrams and bigrams; no weights, no vocabulary."""

    def __init__(self, dim: int = 512) -> None:
        self._dim = dim

    @property
    def dim(self) -> int:
        """Number of hash buckets."""
        return self._dim

    def encode(self, items: Sequence[str]) -> np.ndarray:
        """One unit-length row per text; a text without words gives a zero row."""
        out = np.zeros((len(items), self._dim), dtype=np.float32)
        for row, text in enumerate(items):
            words = _WORD.findall(text.lower())
            for term in words + [f"{a} {b}" for a, b in itertools.pairwise(words)]:
                digest = int.from_bytes(hashlib.blake2b(term.encode(), digest_size=8).digest(), "little")
                out[row, digest % self._dim] += 1.0 if (digest >> 63) & 1 else -1.0
            out[row] = _unit(out[row])
        return out


class HFImageEncoder:
    """A transformers vision model's pooled output (DINOv2: the layer-normed CLS token)."""

    def __init__(self, model: Any, processor: Any, *, batch_size: int = 32, device: str = "cpu") -> None:
        self.model = model.to(device).eval()
        self.processor = processor
        self.batch_size = batch_size
        self.device = device

    @classmethod
    def from_pretrained(cls, name: str = "facebook/dinov2-large", *, dtype: str = "float32",
                        **kwargs: Any) -> HFImageEncoder:
        """Load model (weights in `dtype`) and image processor by name or path (the paper: DINOv2-large,
        1024-d); `kwargs` go to the constructor (batch_size, device)."""
        from transformers import AutoImageProcessor, AutoModel

        model = AutoModel.from_pretrained(name, dtype=_torch_dtype(dtype))
        return cls(model, AutoImageProcessor.from_pretrained(name), **kwargs)

    @property
    def dim(self) -> int:
        """The model's hidden size."""
        return int(self.model.config.hidden_size)

    def encode(self, items: Sequence[Image.Image]) -> np.ndarray:
        """Pooled outputs, one row per image."""
        import torch

        rows = []
        with torch.inference_mode():
            for start in range(0, len(items), self.batch_size):
                inputs = self.processor(images=list(items[start:start + self.batch_size]), return_tensors="pt")
                pixels = inputs["pixel_values"].to(self.device, dtype=self.model.dtype)
                rows.append(self.model(pixel_values=pixels).pooler_output.float().cpu())
        return _stack(rows, self.dim)


class HFTextEncoder:
    """A transformers text encoder, mean-pooled over real tokens and L2-normalised (as MiniLM sentence
    embeddings are)."""

    def __init__(self, model: Any, tokenizer: Any, *, max_length: int = 256, batch_size: int = 64,
                 device: str = "cpu") -> None:
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = device

    @classmethod
    def from_pretrained(cls, name: str = "sentence-transformers/all-MiniLM-L6-v2", *, dtype: str = "float32",
                        **kwargs: Any) -> HFTextEncoder:
        """Load model (weights in `dtype`) and tokenizer by name or path (the paper: all-MiniLM-L6-v2,
        384-d); `kwargs` go to the constructor (max_length, batch_size, device)."""
        from transformers import AutoModel, AutoTokenizer

        model = AutoModel.from_pretrained(name, dtype=_torch_dtype(dtype))
        return cls(model, AutoTokenizer.from_pretrained(name), **kwargs)

    @property
    def dim(self) -> int:
        """The model's hidden size."""
        return int(self.model.config.hidden_size)

    def encode(self, items: Sequence[str]) -> np.ndarray:
        """Mean-pooled, unit-length embeddings, one row per text."""
        import torch

        rows = []
        with torch.inference_mode():
            for start in range(0, len(items), self.batch_size):
                batch = self.tokenizer(list(items[start:start + self.batch_size]), padding=True, truncation=True,
                                       max_length=self.max_length, return_tensors="pt")
                ids, attention = batch["input_ids"].to(self.device), batch["attention_mask"].to(self.device)
                hidden = self.model(input_ids=ids, attention_mask=attention).last_hidden_state.float()
                mask = attention.unsqueeze(-1).float()
                # Pooled in float32 whatever the weights' dtype: a long sum in bfloat16 loses the small parts.
                mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                rows.append(torch.nn.functional.normalize(mean, dim=-1).cpu())
        return _stack(rows, self.dim)


def _torch_dtype(name: str) -> torch.dtype:
    """The torch dtype called `name`, one of the students' `DType` names; ValueError for any other name."""
    import torch

    if name not in get_args(DType):
        raise ValueError(f"unknown dtype {name!r}: expected one of {', '.join(get_args(DType))}")
    dtype: torch.dtype = getattr(torch, name)
    return dtype


def _stack(rows: list[torch.Tensor], dim: int) -> np.ndarray:
    if not rows:
        return np.zeros((0, dim), dtype=np.float32)
    import torch

    return torch.cat(rows).numpy().astype(np.float32)


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v
