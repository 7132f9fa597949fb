"""Shard plans, the folder of finished shards, the Ray settings' checks, and the error a missing Ray gives (no
Ray cluster needed)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from edtune.errors import MissingDependency
from edtune.scale.ray_engine import ray_session
from edtune.scale.settings import RaySettings
from edtune.scale.shards import ShardStore, plan_shards


def test_a_plan_cuts_the_ids_in_order_and_names_shards_by_position_and_content() -> None:
    plan = plan_shards([f"s{i}" for i in range(7)], 3)
    assert [s.ids for s in plan] == [("s0", "s1", "s2"), ("s3", "s4", "s5"), ("s6",)]
    again = plan_shards([f"s{i}" for i in range(7)], 3)
    assert [s.name for s in plan] == [s.name for s in again]
    assert plan[0].name.startswith("shard-000000-") and plan[2].name.startswith("shard-000002-")
    # Another pool or another shard size gives other names, so a kept file of another plan is never taken.
    assert plan_shards(["s0", "s1", "sX"], 3)[0].name != plan[0].name
    assert plan_shards([f"s{i}" for i in range(7)], 2)[0].name != plan[0].name
    assert plan_shards([], 3) == []


def test_the_store_keeps_finished_shards_until_cleared(tmp_path: Path) -> None:
    first, second = plan_shards(["a", "b", "c"], 2)
    store = ShardStore(tmp_path / "pool.shards")
    assert not store.done(first)
    store.write(first, b'{"id": "a"}\n{"id": "b"}\n')
    assert store.done(first) and not store.done(second)
    assert store.read(first) == b'{"id": "a"}\n{"id": "b"}\n'
    assert [p.name for p in (tmp_path / "pool.shards").iterdir()] == [f"{first.name}.jsonl"]  # no temporary left
    store.clear()
    assert not (tmp_path / "pool.shards").exists()


def test_kept_shards_are_appended_in_plan_order_in_one_rewrite(tmp_path: Path) -> None:
    plan = plan_shards(["a", "b", "c"], 1)
    store = ShardStore(tmp_path / "out.shards")
    for shard in reversed(plan):  # finished out of order
        store.write(shard, f"{shard.ids[0]}\n".encode())
    results = tmp_path / "out.jsonl"
    results.write_bytes(b"before\n")
    store.append_to(results, plan)
    assert results.read_bytes() == b"before\na\nb\nc\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "out.shards"]  # no temporary left


def test_ray_settings_refuse_bad_endpoints_and_shard_sizes() -> None:
    assert RaySettings(endpoints=["http://10.0.0.2:8000/v1/"]).endpoints == ["http://10.0.0.2:8000/v1"]
    with pytest.raises(ValidationError, match="not an http"):
        RaySettings(endpoints=["10.0.0.2:8000"])
    with pytest.raises(ValidationError, match="credentials"):
        RaySettings(endpoints=["http://user:pw@10.0.0.2:8000/v1"])
    with pytest.raises(ValidationError):
        RaySettings(shard_size=0)


def test_without_ray_installed_the_engine_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an install without the extra sees
    with pytest.raises(MissingDependency, match=r"pip install 'edtune\[ray\]'"), ray_session(RaySettings()):
        pass
