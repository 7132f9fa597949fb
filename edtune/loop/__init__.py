"""The adaptation loop: `adapt` (Python), `edtune run` / `edtune resume` (CLI), the run directory.

    from edtune.loop import adapt, resume, load_config, run_config

Methods (`RunConfig.method`) are the packages of `edtune.methods` and what third-party packages register
there (`edtune.methods.registry`).
"""

from edtune.loop.api import AdaptResult, adapt, resume, run_config
from edtune.loop.config import RunConfig, load_config
from edtune.loop.data_file import DataFile
from edtune.loop.memory_data import InMemoryData
from edtune.loop.metrics import IterationMetrics, RunMetrics
from edtune.loop.rundir import RunDir

__all__ = ["AdaptResult", "DataFile", "InMemoryData", "IterationMetrics", "RunConfig", "RunDir", "RunMetrics",
           "adapt", "load_config", "resume", "run_config"]
