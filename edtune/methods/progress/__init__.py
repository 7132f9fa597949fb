"""PROGRESS (arXiv 2506.01085): prioritised concept learning by relative improvement, `method = "progress"`.

The algorithm (each module importable on its own; torch, transformers and faiss are imported only when
used):
- `settings`: `ProgressSettings`, the `[progress]` section, every rule setting with the paper's default.
- `selector`: the generic `Selector` protocol with `RoundState`, `GroupScore` and `Selection`.
- `features`: `PoolItem` (the unlabelled view of a sample) and the image + text encoders -> feature rows.
- `kmeans`: spherical k-means, faiss or numpy backend.
- `warmup`: COINCIDE-style cluster scores, quotas and prototypes for round 0.
- `evaluation`: which annotated samples to evaluate, per-group accuracy or loss.
- `selection`: `ProgressSelector`, the relative-improvement round rule with its edge cases; `quotas`.
Its loop side:
- `method`: the method's plan and stages (registered as "progress").
- `pool`, `pool_ray`: the pool's features and clusterings, cached in the run directory (locally or on Ray).
- `evaluate`: the evaluation stages, shared with skill_progress.
- `records`: cluster_accuracy.jsonl and progress_round.json.
"""
