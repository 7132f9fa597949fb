"""edtune: adapt a large multimodal model to a new task with a teacher that analyses its errors.

Heavy submodules (torch, transformers) are imported lazily; `import edtune` is cheap.
"""

from edtune.errors import (
    DataError,
    EdtuneError,
    ProviderError,
    UnexpectedModelBehavior,
    UserError,
)
from edtune.records import Judgment, RationaleStep, Sample, StudentOutput

__all__ = [
    "DataError",
    "EdtuneError",
    "Judgment",
    "ProviderError",
    "RationaleStep",
    "Sample",
    "StudentOutput",
    "UnexpectedModelBehavior",
    "UserError",
]
