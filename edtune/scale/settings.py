"""Settings of the `ray` engine of the pool-side stages (`edtune annotate --engine ray`)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from edtune.records import Record

Engine = Literal["local", "ray"]
"""local: one process, one async client (the default); ray: a Ray Data pipeline over shards of the pool."""


class RaySettings(Record):
    """Where a pool-side stage runs on Ray, and how its pool is cut into shards."""

    address: str | None = None
    """The Ray cluster to join ("auto", "ray://head:10001", "head:6379"); None starts a local cluster on this
    machine for the stage and stops it afterwards (an already initialised Ray is used as it is)."""
    endpoints: list[str] = Field(default_factory=list)
    """Base URLs of replicas serving the teacher's model (e.g. one vLLM server per GPU node); shard i goes to
    endpoints[i mod n]. Empty: the teacher spec's base_url. Replies are cached under the spec's base_url, so
    every replica answers from and adds to the same cache."""
    shard_size: int = Field(default=256, ge=1)
    """Samples per shard: one Ray Data block, one task, one resumable output file."""
    cpus_per_shard: float = Field(default=1.0, gt=0)
    """CPUs Ray reserves for one shard's task. A shard mostly waits on the teacher, so a value below 1 runs
    more shards at once per core (each with the teacher spec's concurrency)."""
    gpus_per_shard: float = Field(default=0.0, ge=0)
    """GPUs Ray reserves for one shard's task: set it when the stage runs a model on GPU in the workers
    (PROGRESS features with `encoder_device = "cuda"`, scores of a student on cuda); 0 for annotation,
    whose model runs in the teacher's servers."""
    local_cpus: int | None = Field(default=None, ge=1)
    """CPUs of a local cluster (address None); None: all of this machine's."""
    object_store_mb: int | None = Field(default=None, ge=80)
    """Object store of a local cluster, in MiB; None: Ray's default (a share of the memory)."""

    @field_validator("endpoints")
    @classmethod
    def _urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url!r} is not an http(s) URL with a host, e.g. http://10.0.0.2:8000/v1")
            if parts.username is not None or parts.password is not None:
                raise ValueError(f"{url!r} carries credentials; the key comes from the spec's api_key_env")
        return [url.rstrip("/") for url in urls]


class PoolEngine(Record):
    """Where a run's pool-side stages run (`RunConfig.pool_engine`; today PROGRESS's features)."""

    engine: Engine = "local"
    """local: in the run's own process; ray: as a Ray Data pipeline over shards of the pool (needs the
    `ray` extra; see docs/scale.md)."""
    ray: RaySettings = Field(default_factory=RaySettings)
    """The Ray cluster and the shards, for engine "ray" (`endpoints` concern only stages that call a teacher)."""
