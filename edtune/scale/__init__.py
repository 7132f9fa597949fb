"""Pool-side stages beyond one process: the `ray` engine (optional extra `edtune[ray]`).

`RaySettings` says where a stage runs and how its pool is cut into shards; `edtune.scale.shards` keeps
the finished shards on disk so that a restarted driver redoes only the unfinished ones;
`edtune.scale.ray_engine` runs a worker over the shards as a Ray Data pipeline. Nothing here imports
Ray at import time: `ray` is imported when a pipeline starts.
"""

from edtune.scale.settings import Engine, PoolEngine, RaySettings

__all__ = ["Engine", "PoolEngine", "RaySettings"]
