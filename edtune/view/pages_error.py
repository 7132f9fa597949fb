"""One error: the sample, the student's steps with the located one highlighted, the localisation evidence,
the teacher's diagnosis, the pool samples retrieved for each missing skill, and the family's test accuracy
before and after the iteration's training."""

from __future__ import annotations

from typing import Any

from edtune.judging.base import JudgeSummary
from edtune.retrieval.select import ChosenSample
from edtune.teacher.records import AnswerSwitchEvidence
from edtune.view import urls
from edtune.view.images import image_ref
from edtune.view.render import render
from edtune.view.runfiles import RunFiles


def retrieved_for(run: RunFiles, chosen: list[ChosenSample]) -> list[dict[str, Any]]:
    """The pool samples of `chosen` as a page shows them: sample (None when not in the pool file), images."""
    out = []
    pool = run.pool_samples(c.sample_id for c in chosen)
    for c in chosen:
        sample = pool.get(c.sample_id)
        images = [image_ref(run, "pool", rel) for rel in (sample.images if sample else [])]
        out.append({"c": c, "sample": sample, "images": images})
    return out


def family_accuracy(run: RunFiles, i: int, family: str | None) -> list[tuple[str, JudgeSummary | None]]:
    """The test accuracy of `family` with the adapter that made the error (iteration i-1) and with the one
    trained on this iteration's selection (iteration i); [] without metrics or a family."""
    if run.metrics is None or family is None:
        return []
    by_iteration = {m.iteration: m for m in run.metrics.iterations}
    labels = ((i - 1, "before (the adapter that made this error)"), (i, "after (trained on this selection)"))
    return [(label, by_iteration[n].test_by_family.get(family) if n in by_iteration else None) for n, label in labels]


def switch_table(evidence: AnswerSwitchEvidence) -> list[dict[str, Any]]:
    """One row per prefix k (k steps shown): the probability of each option letter and the margin."""
    rows = []
    for k, probabilities in enumerate(evidence.probabilities):
        rows.append({"k": k, "p": probabilities,
                     "margin": evidence.margins[k] if k < len(evidence.margins) else None,
                     "seen": evidence.letters_seen[k] if k < len(evidence.letters_seen) else None})
    return rows


def error_page(run: RunFiles, i: int, sample_id: str) -> str | None:
    """The page of validation error `sample_id` in iteration `i`; None when it is not an error there."""
    files = run.iteration(i)
    judgment = files.judgments.get(sample_id)
    if judgment is None or judgment.outcome == "correct":
        return None
    sample = run.val.get(sample_id)
    location, analysis = files.locations.get(sample_id), files.skills.get(sample_id)
    by_skill = files.chosen_by_skill()
    skills = analysis.missing_skills if analysis is not None else []
    retrieved = [{"skill": s, "rows": retrieved_for(run, by_skill.get(s, []))} for s in skills]
    family_field = run.config.data.val.family_field if run.config is not None else "skill"
    family = sample.metadata.get(family_field) if sample is not None else None
    evidence = location.evidence if location is not None else None
    switch = switch_table(evidence) if isinstance(evidence, AnswerSwitchEvidence) else []
    return render("error.html", urls.error(run.key, i, sample_id), run=run, i=i, sample_id=sample_id,
                  sample=sample, images=[image_ref(run, "val", rel) for rel in (sample.images if sample else [])],
                  output=files.outputs.get(sample_id), judgment=judgment, location=location,
                  drawn=files.random_steps.get(sample_id), located=files.located_step(sample_id),
                  evidence=evidence, switch=switch, analysis=analysis, retrieved=retrieved,
                  family=None if family is None else str(family),
                  before_after=family_accuracy(run, i, None if family is None else str(family)),
                  neighbours=files.neighbours(sample_id),
                  problems=run.problems)
