"""PROGRESS features on Ray (`pool_engine.engine = "ray"`): the pool embedded in shards, one Ray task each.

A shard holds a multiple of the encoder batch (`FEATURE_BATCH`), so its batches are the local engine's
batches and its rows the same floats. Each finished shard is kept in `progress/features.shards/` (one .npy,
written atomically) until every shard is done, so a run resumed after a crash embeds only the shards not
kept; the rows are then concatenated in pool order and the caller writes `features.npy`. A worker process
builds the encoders once and keeps them for the next shards it gets (an HF model is not reloaded per shard),
and reads the images at the paths the driver resolved.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from edtune.methods.progress.features import Encoder, PoolItem, build_features
from edtune.methods.progress.pool import FEATURE_BATCH, encoders_for
from edtune.methods.progress.settings import ProgressSettings
from edtune.records import Record
from edtune.scale.settings import RaySettings
from edtune.scale.shards import ShardStore, plan_shards


class FeatureShard(Record):
    """One shard of the pool as its worker gets it."""

    name: str
    """The shard's name (`Shard.name`), which its output repeats."""
    first_row: int
    """Pool row of its first item (0-based), so that an error names the pool's row."""
    items: list[PoolItem]
    """Its items, in pool order."""


@dataclass(frozen=True)
class FeatureWorker:
    """The worker: embeds one shard. Holds only settings, so it pickles."""

    settings: ProgressSettings
    image_root: Path

    def __call__(self, shard: FeatureShard) -> tuple[str, np.ndarray]:
        image_encoder, text_encoder = _encoders(self.settings.model_dump_json())
        rows = build_features(shard.items, self.image_root, image_encoder, text_encoder, batch_size=FEATURE_BATCH,
                              first_row=shard.first_row)
        return shard.name, rows


@lru_cache(maxsize=1)
def _encoders(settings: str) -> tuple[Encoder[Image.Image], Encoder[str]]:
    """The encoders of a worker process, built on its first shard (keyed by the settings' JSON)."""
    return encoders_for(ProgressSettings.model_validate_json(settings))


def features_on_ray(items: Sequence[PoolItem], image_root: Path, settings: ProgressSettings, ray: RaySettings,
                    folder: Path, *, on_done: Callable[[int], None] | None = None) -> np.ndarray:
    """The feature matrix `build_features` gives for `items`, computed on Ray (module docstring); finished
    shards are kept in `folder` (the caller clears it once the matrix is saved). `on_done(n)` is called as
    a shard of n items is kept."""
    from edtune.scale.ray_engine import ray_session, run_on_ray

    size = max(FEATURE_BATCH, ray.shard_size // FEATURE_BATCH * FEATURE_BATCH)
    plan = plan_shards([item.id for item in items], size)
    if not plan:
        return build_features([], image_root, *encoders_for(settings))
    store = ShardStore(folder, suffix=".npy")
    todo = [shard for shard in plan if not store.done(shard)]
    by_name = {shard.name: shard for shard in todo}
    if on_done is not None:
        on_done(len(items) - sum(len(shard.ids) for shard in todo))  # kept by an earlier, interrupted run
    if todo:
        root = image_root.resolve()
        inputs = [FeatureShard(name=s.name, first_row=s.index * size,
                               items=list(items[s.index * size:s.index * size + len(s.ids)])) for s in todo]
        with ray_session(ray):
            for name, rows in run_on_ray(FeatureWorker(settings, root), inputs, ray):
                store.write(by_name[name], _npy(rows))
                if on_done is not None:
                    on_done(len(rows))
    return np.concatenate([np.load(store.path(shard)) for shard in plan], axis=0)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()
