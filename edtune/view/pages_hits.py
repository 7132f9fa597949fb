"""Every BM25 hit of one missing skill in one iteration, and what became of it (chosen, chosen for
another skill, chosen in an earlier iteration, scored too low, or left out when the quota was filled).

The run directory records only the chosen samples, so the hits are recomputed: BM25 over the pool that
config.json names with the run's retrieval settings (or the saved index it names), as the loop builds it.
With an unchanged pool file this is the ranking the run saw. The index is built once per run read.
"""

from __future__ import annotations

from typing import Any

from edtune.retrieval.base import Retriever
from edtune.view import urls
from edtune.view.datasets import read_samples
from edtune.view.images import image_ref
from edtune.view.render import render
from edtune.view.runfiles import READ_ERRORS, RunFiles


def retriever(run: RunFiles) -> Retriever | None:
    """The run's retriever over its pool, built on first use; None (noted) when it cannot be built."""
    if "retriever" in run.memo:
        return run.memo["retriever"]  # type: ignore[return-value]
    built: Retriever | None = None
    try:
        built = _build(run)
    except READ_ERRORS as exc:
        run.problems.append(f"BM25 index of the pool: {exc}"[:400])
    run.memo["retriever"] = built
    return built


def _build(run: RunFiles) -> Retriever | None:
    from edtune.retrieval.base import Corpus
    from edtune.retrieval.corpus import document_text
    from edtune.retrieval.index import open_index
    from edtune.retrieval.sparse import SparseBM25
    from edtune.retrieval.tokenize import Tokenizer

    data, config = run.data_file("pool"), run.config
    if data is None or config is None:
        return None
    settings = config.retrieval
    if settings.index is not None:
        return open_index(settings.index)
    pool = read_samples(data, None, lambda line: run.problems.append(f"pool data: {line}"[:400]))
    run.remember_pool(pool)
    docs = [(s.id, text) for s in pool.values() if (text := document_text(s, settings.fields))]
    corpus = Corpus(ids=[d[0] for d in docs], texts=[d[1] for d in docs])
    return SparseBM25.build(corpus, Tokenizer(settings.tokenizer), settings.bm25)


def _fate(sample_id: str, score: float, skill: str, chosen: dict[str, Any], earlier: dict[str, int],
          min_score: float) -> str:
    if sample_id in chosen:
        other = chosen[sample_id].skill
        return "chosen" if other == skill else f"chosen for another skill: {other}"
    if sample_id in earlier:
        return f"chosen in iteration {earlier[sample_id]} (excluded)"
    return "score at or below min_score" if score <= min_score else "not chosen (quotas filled)"


def hits_page(run: RunFiles, i: int, skill_slug: str) -> str | None:
    """The hits page of the missing skill whose slug is `skill_slug` in iteration `i`; None when no error
    of the iteration names such a skill."""
    files = run.iteration(i)
    skill = next((s for s in files.errors_by_skill() if urls.slug(s) == skill_slug), None)
    if skill is None:
        return None
    found = retriever(run)
    top_k, min_score = (run.config.retrieval.top_k, run.config.retrieval.min_score) if run.config else (0, 0.0)
    hits = found.search([skill], top_k)[0] if found is not None else []
    chosen = {c.sample_id: c for c in files.selection}
    earlier = {c.sample_id: n for n in range(1, i) for c in run.iteration(n).selection}
    pool = run.pool_samples(h.sample_id for h in hits)
    rows = []
    for rank, hit in enumerate(hits, start=1):
        sample = pool.get(hit.sample_id)
        fate = _fate(hit.sample_id, hit.score, skill, chosen, earlier, min_score)
        rows.append({"rank": rank, "hit": hit, "sample": sample, "fate": fate,
                     "images": [image_ref(run, "pool", rel) for rel in (sample.images if sample else [])]})
    return render("hits.html", urls.hits(run.key, i, skill), run=run, i=i, skill=skill, rows=rows,
                  built=found is not None, top_k=top_k, problems=run.problems)
