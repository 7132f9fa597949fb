"""Run a worker over shards as a Ray Data pipeline, handing each shard's output to the driver as it ends.

Each shard is one block and one `map_batches` task. Ray retries a task whose worker process died (Ray
Data's default: without limit), so a killed worker costs the shard it held, never the run. An edtune error
raised by the worker (the teacher unreachable once its retries are spent, a bad sample) is not retried:
it travels back as data and is raised again on the driver as itself, since Ray would otherwise hand over
only its text. Any other exception fails the pipeline with Ray's own error.

Inputs and outputs cross the process boundary pickled (Pydantic records pickle as themselves).
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from edtune.errors import EdtuneError, MissingDependency
from edtune.scale.settings import RaySettings

In = TypeVar("In")
Out = TypeVar("Out")


@contextmanager
def ray_session(settings: RaySettings) -> Iterator[None]:
    """Ray ready for a pipeline: joins `settings.address`, or starts a local cluster that is stopped on exit.
    A Ray already initialised in this process (a test's, a notebook's) is used and left running."""
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise MissingDependency("ray", extra="ray", purpose="the ray engine") from exc
    started = not ray.is_initialized()
    if started:
        local: dict[str, Any] = {} if settings.address is not None else {
            "num_cpus": settings.local_cpus,
            "object_store_memory": None if settings.object_store_mb is None else settings.object_store_mb * 2**20}
        ray.init(address=settings.address, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING, **local)
    _quiet_ray_data()
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def _quiet_ray_data() -> None:
    """Ray Data's progress bars and per-run INFO lines off the console (its log file keeps them): the stage
    shows edtune's own progress bar."""
    import ray.data
    from ray.util.debug import log_once

    ray.data.DataContext.get_current().enable_progress_bars = False
    log_once("ray_data_progress_manager_disabled")  # marks Ray Data's notice that they are off as shown
    for handler in logging.getLogger("ray.data").handlers:
        if not hasattr(handler, "baseFilename"):
            handler.setLevel(logging.WARNING)


class _PickledBatches(Generic[In, Out]):
    """The `map_batches` function: a row holding one pickled input becomes a row holding the pickled
    ("ok", output) or ("error", edtune error). Binary Arrow columns keep the bytes exact (a NumPy bytes
    column would strip trailing zero bytes)."""

    def __init__(self, work: Callable[[In], Out]) -> None:
        self.work = work

    def __call__(self, batch: Any) -> Any:
        import pyarrow

        outputs = []
        for payload in batch.column("payload").to_pylist():
            try:
                outcome: tuple[str, Any] = ("ok", self.work(pickle.loads(payload)))
            except EdtuneError as exc:
                outcome = ("error", _portable(exc))
            outputs.append(pickle.dumps(outcome))
        return pyarrow.table({"output": pyarrow.array(outputs, pyarrow.binary())})


def _portable(exc: EdtuneError) -> EdtuneError:
    """`exc` if it survives pickling, else an EdtuneError with its type and text (an exception whose
    constructor needs keyword arguments does not)."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return EdtuneError(f"{type(exc).__name__}: {exc}")
    return exc


def run_on_ray(work: Callable[[In], Out], inputs: Sequence[In], settings: RaySettings) -> Iterator[Out]:
    """`work(item)` for every item, each in its own Ray task (with `settings.cpus_per_shard` CPUs and
    `gpus_per_shard` GPUs), yielded as the tasks end (not in input order). Call inside `ray_session`.
    Closing the iterator early stops the pipeline."""
    if not inputs:
        return
    import ray.data

    rows = [{"payload": pickle.dumps(item)} for item in inputs]
    dataset = ray.data.from_items(rows, override_num_blocks=len(rows))
    mapped = dataset.map_batches(_PickledBatches(work), batch_size=1, batch_format="pyarrow",
                                 num_cpus=settings.cpus_per_shard, num_gpus=settings.gpus_per_shard or None)
    for row in mapped.iter_rows():
        status, value = pickle.loads(row["output"])
        if status == "error":
            raise value
        yield value
