"""The pieces composed as the loop's PROGRESS stages compose them, with a fake student: pool -> features ->
k-means -> warm-up -> rounds (evaluate, select, annotate) until the budget is spent."""

from pathlib import Path

import numpy as np

from edtune.methods.progress.evaluation import accuracy_by_group, members_by_group, pick_for_evaluation
from edtune.methods.progress.features import PoolItem, build_features, cheap_encoders
from edtune.methods.progress.kmeans import spherical_kmeans
from edtune.methods.progress.selection import ProgressSelector
from edtune.methods.progress.selector import GroupScore, RoundState
from edtune.methods.progress.settings import ProgressSettings
from edtune.methods.progress.warmup import warmup_selection
from edtune.records import Judgment, Sample

TOPICS = ["count the apples", "colour of the car", "left or right of the lamp", "read the sign text"]


def test_progress_rounds_spend_exactly_the_budget(tmp_path: Path) -> None:
    samples = [Sample(id=f"{t}-{i:02d}", question=f"{TOPICS[t]} number {i}", answer="x")
               for t in range(4) for i in range(40)]
    pool = [PoolItem.of(s) for s in samples]
    config, seed = ProgressSettings(k_tracking=4, k_warmup=4, round_size=12, eval_per_cluster=5), 3
    rng = np.random.default_rng(seed)
    features = build_features(pool, tmp_path, *cheap_encoders())
    assert np.all(features[:, :216] == 0)  # no images: zero image block, rows still aligned
    ids = [p.id for p in pool]
    tracking = spherical_kmeans(features, config.k_tracking, niter=10, seed=seed, backend="numpy")
    group_of = {i: str(c) for i, c in zip(ids, tracking.assignments.tolist(), strict=True)}
    assert len({group_of[i] for i in ids if i.startswith("0-")}) == 1

    budget = 60
    warm = warmup_selection(ids, features, tracking, 8, config, rng)
    annotated = list(warm.ids)
    selector = ProgressSelector(group_of, config)
    previous: dict[str, GroupScore] = {}
    for round_no in range(1, 20):
        # Fake student: a cluster's accuracy grows with how many of its samples were annotated.
        chosen = members_by_group(annotated, group_of)
        judged = [Judgment(sample_id=i, judge="fake", outcome="correct" if k < len(chosen[g]) // 3 else "incorrect")
                  for g, picked in pick_for_evaluation(chosen, config.eval_per_cluster, rng).items()
                  for k, i in enumerate(picked)]
        scores = accuracy_by_group(judged, group_of)
        state = RoundState(round=round_no, budget_left=budget - len(annotated), selected=annotated,
                           scores=scores, previous=previous)
        selection = selector.next_round(state, rng)
        if not selection.ids:
            break
        assert not set(selection.ids) & set(annotated)
        annotated += selection.ids
        previous = scores
    assert len(annotated) == len(set(annotated)) == budget
