"""PROGRESS (arXiv 2506.01085): prioritised concept learning by relative improvement, as a library.

Modules, each importable on its own (torch, transformers and faiss are imported only when used):
- `config`: `ProgressConfig`, every setting with the paper's default.
- `selector`: the generic `Selector` protocol with `RoundState`, `GroupScore` and `Selection`.
- `features`: image + text encoders (transformers or weight-free) -> unit feature rows.
- `kmeans`: spherical k-means, faiss or numpy backend.
- `warmup`: COINCIDE-style cluster scores, quotas and prototypes for round 0.
- `evaluation`: which annotated samples to evaluate, per-group accuracy or loss.
- `selection`: `ProgressSelector`, the relative-improvement round rule with its edge cases.
- `selection_skills`: `SkillProgressSelector` over teacher-named skills and retrieval scores.
- `oracle`: `PoolItem` (unlabelled view) and annotation oracles that count labels read.
- `baselines`: random, full, and score-based (EL2N, perplexity) selection.
"""

from edtune.progress.config import ProgressConfig
from edtune.progress.selector import GroupScore, RoundState, Selection, Selector

__all__ = ["GroupScore", "ProgressConfig", "RoundState", "Selection", "Selector"]
