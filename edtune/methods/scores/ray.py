"""EL2N / perplexity scores of the pool on Ray (`pool_engine.engine = "ray"`): one Ray task per shard.

The samples not scored yet are cut into shards of whole scoring batches (`student.score_batch_size`), so
each shard's batches are the local engine's. Each worker process loads the student once (from
`student.path`, or the student object the run was given, pickled) and attaches the adapter asked for; it
runs torch with the driver's thread count, since a matrix product's float rounding can depend on it.
Finished shards are kept beside the results file (`<file stem>.shards/`) until every shard is done; they
are then appended in sample order in one atomic rewrite, so the file is the one the local engine writes
(on machines with the same CPU kernels), and a run resumed after a crash scores only the shards not kept.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from edtune.errors import ConfigError
from edtune.loop.api import OBJECT_PREFIX
from edtune.loop.bars import progress_bar
from edtune.loop.config import StudentSettings
from edtune.loop.context import RunContext, load_student
from edtune.loop.rundir import read_ids, repair_tail
from edtune.records import Record, Sample
from edtune.scale.shards import ShardStore, plan_shards
from edtune.student.base import Student
from edtune.student.scores import TokenScores, score_samples


class ScoreShard(Record):
    """One shard as its worker gets it."""

    name: str
    """The shard's name (`Shard.name`), which its output repeats."""
    samples: list[Sample]
    """Its samples, in order."""


@dataclass(frozen=True)
class ScoreWorker:
    """The worker: scores one shard. Holds settings, or the pickled student object, so it pickles."""

    student: StudentSettings | bytes
    adapter: Path | None
    """The adapter folder to attach; None: the pretrained student."""
    image_root: Path
    batch_size: int
    threads: int
    needed_by: str
    """What needs the scores, for the error of a student that cannot score."""

    def __call__(self, shard: ScoreShard) -> tuple[str, bytes]:
        import torch

        torch.set_num_threads(self.threads)
        student = _student(self.student if isinstance(self.student, bytes) else self.student.model_dump_json())
        if self.adapter is None:
            student.reset_adapter()
        else:
            student.load_adapter(self.adapter)
        scores = score_samples(student, shard.samples, self.image_root, batch_size=self.batch_size,
                               needed_by=self.needed_by)
        return shard.name, "".join(f"{s.model_dump_json()}\n" for s in scores).encode()


@lru_cache(maxsize=1)
def _student(source: str | bytes) -> Student:
    """A worker process's student, loaded on its first shard: pickled bytes, or StudentSettings as JSON."""
    if isinstance(source, bytes):
        student: Student = pickle.loads(source)
        return student
    return load_student(StudentSettings.model_validate_json(source))


def score_on_ray(ctx: RunContext, path: Path, samples: list[Sample], *, adapter: int, batch_size: int,
                 description: str) -> None:
    """Append the `TokenScores` of every sample without a record in `path`, computed on Ray (module
    docstring), with the student as it was after iteration `adapter` (0: pretrained)."""
    from edtune.scale.ray_engine import ray_session, run_on_ray

    repair_tail(path, TokenScores)
    done = set(read_ids(path))
    todo = [s for s in samples if s.id not in done]
    ray = ctx.config.pool_engine.ray
    plan = plan_shards([s.id for s in todo], max(batch_size, ray.shard_size // batch_size * batch_size))
    store = ShardStore(path.with_suffix(".shards"))
    left = [shard for shard in plan if not store.done(shard)]
    if left:
        by_id = {s.id: s for s in todo}
        inputs = [ScoreShard(name=shard.name, samples=[by_id[i] for i in shard.ids]) for shard in left]
        worker = _worker(ctx, adapter, batch_size)
        shards = {shard.name: shard for shard in left}
        kept = len(samples) - sum(len(shard.ids) for shard in left)
        with progress_bar(description, len(samples), enabled=ctx.show_bars, done=kept) as advance, \
                ray_session(ray):
            for name, lines in run_on_ray(worker, inputs, ray):
                store.write(shards[name], lines)
                advance(len(shards[name].ids))
    if plan:
        store.append_to(path, plan)
    store.clear()


def _worker(ctx: RunContext, adapter: int, batch_size: int) -> ScoreWorker:
    import torch

    settings = ctx.config.student
    source: StudentSettings | bytes = settings
    if settings.path.startswith(OBJECT_PREFIX):
        try:
            source = pickle.dumps(ctx.student())
        except Exception as exc:
            raise ConfigError(f"pool_engine.engine = \"ray\" sends the student to the Ray workers, and this "
                              f"student object cannot be pickled ({exc}); give the student as a checkpoint "
                              f"path instead") from exc
    return ScoreWorker(student=source, adapter=None if adapter == 0 else ctx.run.adapter(adapter).resolve(),
                       image_root=ctx.image_root("pool").resolve(), batch_size=batch_size,
                       threads=torch.get_num_threads(), needed_by=f"method '{ctx.config.method}'")
