"""PROGRESS features with `pool_engine.engine = "ray"` on a local 2-CPU Ray cluster: the local engine's floats,
shards kept by an interrupted run not embedded again, and a PROGRESS run whose features file is the local
run's byte for byte."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from loop.fakes import FamilyStudent, progress_config, run_progress, tiny_world

from edtune.data import load_samples
from edtune.methods.progress.features import PoolItem, build_features
from edtune.methods.progress.pool import FEATURE_BATCH, encoders_for
from edtune.methods.progress.pool_ray import features_on_ray
from edtune.methods.progress.settings import ProgressSettings
from edtune.scale.settings import PoolEngine, RaySettings
from edtune.scale.shards import ShardStore, plan_shards

pytestmark = [pytest.mark.usefixtures("ray_cluster"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")]


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_world(tmp_path_factory.mktemp("features") / "shapes")  # 80 pool samples


def _items(world: Path) -> list[PoolItem]:
    return [PoolItem.of(s) for s in load_samples(world / "pool.jsonl")]


def test_ray_features_are_the_local_floats_and_kept_shards_are_not_embedded_again(shapes: Path,
                                                                                   tmp_path: Path) -> None:
    items, settings = _items(shapes), ProgressSettings()
    local = build_features(items, shapes, *encoders_for(settings), batch_size=FEATURE_BATCH)
    ray = RaySettings(shard_size=40)  # rounded down to 32: shards of 32, 32 and 16
    assert np.array_equal(features_on_ray(items, shapes, settings, ray, tmp_path / "a"), local)

    # An interrupted run kept shard 0 (here: a marked copy); a resumed run takes it as it is.
    first = plan_shards([i.id for i in items], 32)[0]
    store = ShardStore(tmp_path / "b", suffix=".npy")
    store.folder.mkdir()
    np.save(store.path(first), np.full_like(local[:32], 7.0))
    done: list[int] = []
    resumed = features_on_ray(items, shapes, settings, ray, tmp_path / "b", on_done=done.append)
    assert (resumed[:32] == 7.0).all() and np.array_equal(resumed[32:], local[32:])
    assert sorted(done) == [16, 32, 32]  # the kept 32 counted at the start, then the two embedded now


def test_a_progress_run_on_ray_writes_the_local_features_file(shapes: Path, tmp_path: Path) -> None:
    files = {}
    for engine in ("local", "ray"):
        config = progress_config(shapes).model_copy(
            update={"pool_engine": PoolEngine(engine=engine, ray=RaySettings(shard_size=32))})
        run_progress(shapes, tmp_path / engine, FamilyStudent(), config)
        files[engine] = (tmp_path / engine / "progress" / "features.npy").read_bytes()
        assert not (tmp_path / engine / "progress" / "features.shards").exists()
    assert files["ray"] == files["local"]
