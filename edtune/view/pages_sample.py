"""One pool sample: its content, and which missing skills (named by which errors) pulled it into which
iteration's selection."""

from __future__ import annotations

from typing import Any

from edtune.view import urls
from edtune.view.images import image_ref
from edtune.view.render import render
from edtune.view.runfiles import RunFiles

ERRORS_SHOWN = 20
"""Errors linked per skill on a sample page; the rest are one click away on the skill's errors list."""


def selected_ids(run: RunFiles) -> dict[str, str]:
    """Slug → id of every pool sample chosen in some iteration of the run."""
    return {urls.slug(c.sample_id): c.sample_id for i in run.iterations() for c in run.iteration(i).selection}


def pulled_in(run: RunFiles, sample_id: str) -> list[dict[str, Any]]:
    """Per iteration that chose `sample_id`: the skill, score, rank, and the errors naming that skill."""
    out = []
    for i in run.iterations():
        files = run.iteration(i)
        for c in files.selection:
            if c.sample_id != sample_id:
                continue
            naming = files.errors_by_skill().get(c.skill, [])
            out.append({"i": i, "c": c, "errors": naming[:ERRORS_SHOWN], "n_errors": len(naming)})
    return out


def sample_page(run: RunFiles, sample_id: str) -> str | None:
    """The page of pool sample `sample_id`; None when it is neither in the pool file nor chosen."""
    sample = run.pool_samples([sample_id]).get(sample_id)
    pulls = pulled_in(run, sample_id)
    if sample is None and not pulls:
        return None
    images = [image_ref(run, "pool", rel) for rel in (sample.images if sample else [])]
    return render("sample.html", urls.pool_sample(run.key, sample_id), run=run, sample_id=sample_id, sample=sample,
                  images=images, pulls=pulls, problems=run.problems)
