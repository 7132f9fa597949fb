"""Pool features and clusterings of a PROGRESS run, computed once and kept in the run directory.

    progress/pool_ids.json       the pool ids, in feature-row order (a resumed run refuses a changed pool)
    progress/features.npy        float32 (pool x dim) unit rows, from the unlabelled view of each sample
    progress/tracking.npz        centroids + assignments of the k_tracking clustering (accuracy is tracked)
    progress/warmup.npz          centroids + assignments of the k_warmup clustering (warm-up quotas only)
    progress/features.shards/    the ray engine's finished shards of features.npy, until it is written

Each file is written atomically (temporary file, then rename) and the clusterings are written after the
features, so a file that exists is complete and a resumed run loads it instead of recomputing it. k is
capped at the pool size (a tiny pool cannot hold 1000 clusters); both k-means seeds derive from the run's
master seed. Features see `PoolItem`s only (id, images, question, options), never an answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image

from edtune.atomic import atomic_write, atomic_write_text
from edtune.errors import ConfigError, DataError
from edtune.loop.bars import progress_bar, working
from edtune.loop.context import RunContext
from edtune.loop.seeds import derive_seed
from edtune.methods.progress.features import (
    Encoder,
    HashedWordsEncoder,
    HFImageEncoder,
    HFTextEncoder,
    PoolItem,
    ThumbnailEncoder,
    build_features,
)
from edtune.methods.progress.kmeans import KMeansResult, spherical_kmeans
from edtune.methods.progress.settings import ProgressSettings
from edtune.scale.settings import PoolEngine
from edtune.scale.shards import ShardStore

FOLDER = "progress"
FEATURE_BATCH = 32
"""Samples embedded per encoder call (the ray engine's shards hold a multiple of it)."""
EncoderT = TypeVar("EncoderT")


@dataclass(frozen=True)
class PoolClusters:
    """The pool as PROGRESS sees it: ids in row order, feature rows and the two clusterings."""

    ids: list[str]
    features: np.ndarray
    tracking: KMeansResult
    warmup: KMeansResult

    def group_of(self) -> dict[str, str]:
        """Pool id -> tracking cluster key (`cluster_key`)."""
        return {i: cluster_key(int(c)) for i, c in zip(self.ids, self.tracking.assignments, strict=True)}

    def sizes(self) -> dict[str, int]:
        """Tracking cluster key -> members in the pool (clusters left empty by k-means are absent)."""
        counts = np.bincount(self.tracking.assignments, minlength=self.tracking.centroids.shape[0])
        return {cluster_key(c): int(n) for c, n in enumerate(counts) if n > 0}


def cluster_key(index: int) -> str:
    """The group name of tracking cluster `index` (the `skill` recorded for its selected samples)."""
    return f"cluster-{index}"


def folder(ctx: RunContext) -> Path:
    return ctx.run.root / FOLDER


def compute_features(ctx: RunContext, iteration: int) -> None:
    """Stage: features and both clusterings, each only when its file is missing (module docstring)."""
    out = folder(ctx)
    out.mkdir(parents=True, exist_ok=True)
    settings = ctx.config.progress
    items = [PoolItem.of(s) for s in ctx.samples("pool")]
    ids = [item.id for item in items]
    _check_ids(out / "pool_ids.json", ids)
    shards = out / "features.shards"
    features = _cached_array(out / "features.npy", lambda: _features(items, ctx.image_root("pool"), settings,
                                                                      ctx.config.pool_engine, shards,
                                                                      show_bars=ctx.show_bars))
    ShardStore(shards).clear()  # the ray engine's finished shards, once features.npy holds them
    for name, k in (("tracking", settings.k_tracking), ("warmup", settings.k_warmup)):
        if not (out / f"{name}.npz").is_file():
            # faiss takes a 32-bit seed.
            seed = derive_seed(ctx.config.seed, 0, f"kmeans_{name}") % 2**31
            k = min(k, len(ids))
            with working(f"PROGRESS: {name} k-means, k={k} over {len(ids)} samples", enabled=ctx.show_bars):
                result = spherical_kmeans(features, k, niter=settings.kmeans_niter, seed=seed,
                                          backend=settings.kmeans_backend)
            _save_npz(out / f"{name}.npz", centroids=result.centroids, assignments=result.assignments)


def load_clusters(ctx: RunContext) -> PoolClusters:
    """The cached features and clusterings; DataError when the features stage has not written them."""
    out = folder(ctx)
    try:
        ids = json.loads((out / "pool_ids.json").read_text(encoding="utf-8"))
        features = np.load(out / "features.npy")
        parts = [np.load(out / f"{name}.npz") for name in ("tracking", "warmup")]
    except FileNotFoundError as exc:
        raise DataError(f"PROGRESS features are missing ({exc.filename}); the features stage must run first",
                        file=str(out)) from exc
    tracking, warmup = (KMeansResult(p["centroids"], p["assignments"], float("nan"), "cached") for p in parts)
    return PoolClusters(ids=ids, features=features, tracking=tracking, warmup=warmup)


def _features(items: list[PoolItem], image_root: Path, settings: ProgressSettings, pool_engine: PoolEngine,
              shards: Path, *, show_bars: bool) -> np.ndarray:
    with progress_bar("PROGRESS: embedding the pool", len(items), enabled=show_bars) as advance:
        if pool_engine.engine == "ray":
            from edtune.methods.progress.pool_ray import features_on_ray

            return features_on_ray(items, image_root, settings, pool_engine.ray, shards, on_done=advance)
        return build_features(items, image_root, *encoders_for(settings), batch_size=FEATURE_BATCH,
                              on_batch=advance)


def encoders_for(settings: ProgressSettings) -> tuple[Encoder[Image.Image], Encoder[str]]:
    """The image and text encoders `settings` name (HF ones loaded here)."""
    if settings.encoder == "hf":
        where = {"device": settings.encoder_device, "dtype": settings.encoder_dtype}
        return (_load("image_model", settings.image_model, partial(HFImageEncoder.from_pretrained, **where)),
                _load("text_model", settings.text_model, partial(HFTextEncoder.from_pretrained, **where)))
    return ThumbnailEncoder(side=settings.thumbnail_side), HashedWordsEncoder(dim=settings.text_buckets)


def _load(setting: str, name: str, load: Callable[[str], EncoderT]) -> EncoderT:
    """An HF encoder by folder or hub name; ConfigError naming the setting when transformers cannot load it
    (a relative folder is read from the working directory, and a name that is no folder is looked up on
    the hub or in its local cache)."""
    try:
        return load(name)
    except OSError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"progress.{setting} = {name!r} is neither a transformers checkpoint folder nor a model "
                          f"that could be fetched or found in the local cache: {reason}") from exc


def _check_ids(path: Path, ids: list[str]) -> None:
    """Write the pool ids, or check that a resumed run's pool still has the same ids in the same order."""
    if not path.is_file():
        atomic_write_text(path, json.dumps(ids))
    elif json.loads(path.read_text(encoding="utf-8")) != ids:
        raise DataError("the pool changed since this run computed its PROGRESS features", file=str(path))


def _cached_array(path: Path, compute: Callable[[], np.ndarray]) -> np.ndarray:
    if path.is_file():
        return np.load(path)
    array = compute()
    atomic_write(path, lambda handle: np.save(handle, array))
    return array


def _save_npz(path: Path, centroids: np.ndarray, assignments: np.ndarray) -> None:
    atomic_write(path, lambda handle: np.savez(handle, centroids=centroids, assignments=assignments))
