"""The adaptation loop: `adapt` (Python), `edtune run` / `edtune resume` (CLI), the run directory.

    from edtune.loop import adapt, resume, load_config, run_config

Methods (`RunConfig.method`): error_driven, random, full, ablation_random_step, ablation_step_text,
ablation_random_samples; new ones register in `edtune.loop.methods.methods`.
"""

from edtune.loop.api import AdaptResult, adapt, resume, run_config
from edtune.loop.config import RunConfig, load_config
from edtune.loop.data_file import DataFile
from edtune.loop.memory_data import InMemoryData
from edtune.loop.metrics import IterationMetrics, RunMetrics
from edtune.loop.rundir import RunDir

__all__ = ["AdaptResult", "DataFile", "InMemoryData", "IterationMetrics", "RunConfig", "RunDir", "RunMetrics",
           "adapt", "load_config", "resume", "run_config"]
