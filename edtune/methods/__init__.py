"""Selection methods: how each iteration of a run chooses its training samples, one package per method.

    error_driven/    the error-driven method (arXiv 2412.15652) and the paper's ablations
    baselines/       random at equal budget, and the full pool
    scores/          EL2N and perplexity of the pretrained student (PROGRESS's score baselines)
    progress/        PROGRESS (arXiv 2506.01085): its algorithm and its loop stages
    skill_progress/  PROGRESS's round rule over the skills the teacher names

Each package holds its stages and records and a `method` module registering its methods in `methods`;
a method declares what it needs (`needs_teacher`, `uses_validation`). Adding a built-in method is adding
a package here; a third-party one registers through the `edtune.methods` entry-point group
(`edtune.methods.registry`). `RunConfig.method` accepts exactly the registered names.
"""

from edtune.methods.base import Method, Plan, Stage, configured_plan
from edtune.methods.registry import GROUP, MethodName, methods, needs_teacher

__all__ = ["GROUP", "Method", "MethodName", "Plan", "Stage", "configured_plan", "methods", "needs_teacher"]
