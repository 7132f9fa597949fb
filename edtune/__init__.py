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

_LAZY = {"adapt": "edtune.loop.api", "resume": "edtune.loop.api"}
"""Names served on first access, so `import edtune` does not load the loop (data, judges, retrieval)."""


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'edtune' has no attribute {name!r}")

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
    "adapt",
    "resume",
]
