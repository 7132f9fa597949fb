"""edtune: adapt a large multimodal model to a new task with a teacher that analyses its errors.

The top level holds what a user calls (`adapt`, `resume`, `RunConfig`) and what a user implements to swap a
part: `Student`, `LLMClient` (a teacher or judge model), `Judge`, `Retriever` and `Method` (a selection
method). Heavy submodules (torch, transformers) are imported lazily; `import edtune` is cheap.
"""

from typing import TYPE_CHECKING

from edtune.errors import (
    DataError,
    EdtuneError,
    ProviderError,
    UnexpectedModelBehavior,
    UserError,
)
from edtune.records import Judgment, RationaleStep, Sample, StudentOutput

if TYPE_CHECKING:  # type checkers see the lazy names below as the real objects
    from edtune.judging.base import Judge
    from edtune.llm.base import LLMClient
    from edtune.loop.api import adapt, resume
    from edtune.loop.config import RunConfig
    from edtune.methods.base import Method
    from edtune.retrieval.base import Retriever
    from edtune.student.base import Student

_LAZY = {
    "adapt": "edtune.loop.api",
    "resume": "edtune.loop.api",
    "RunConfig": "edtune.loop.config",
    "Method": "edtune.methods.base",
    "Student": "edtune.student.base",
    "LLMClient": "edtune.llm.base",
    "Judge": "edtune.judging.base",
    "Retriever": "edtune.retrieval.base",
}
"""Names served on first access, so `import edtune` does not load the loop (data, judges, retrieval)."""


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'edtune' has no attribute {name!r}")


__all__ = [
    "DataError",
    "EdtuneError",
    "Judge",
    "Judgment",
    "LLMClient",
    "Method",
    "ProviderError",
    "RationaleStep",
    "Retriever",
    "RunConfig",
    "Sample",
    "Student",
    "StudentOutput",
    "UnexpectedModelBehavior",
    "UserError",
    "adapt",
    "resume",
]
