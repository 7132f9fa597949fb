"""The loop's annotation stage: the teacher names the `required_skills` of pool samples that have none,
before the first retrieval reads them.

It runs once per run (stage key `000/annotate`), right before the first iteration's selection stages, for
a method that retrieves by skill (`RETRIEVES`), with `retrieval.annotate` on and no saved index, when some
pool sample lacks skills. It is `edtune annotate` inside the run: the same task (`SkillAnnotator`, template
`required_skills`), the same resumable runner (answers stream to pool_annotations.jsonl, so a killed run
asks only about the samples not yet answered) and, for a spec teacher, the run's content cache. Its calls
are counted under the stage `teacher.annotate` (usage.json, the report's usage table), and run.log says
once what it does and what it found. From then on the run's pool carries the skills found; a sample the
teacher could not annotate stays without skills, so retrieval never picks it.
"""

from __future__ import annotations

from edtune.llm.concurrency import run_sync
from edtune.loop.bars import progress_bar
from edtune.loop.context import RunContext
from edtune.loop.rundir import read_ids
from edtune.loop.runlog import say_once
from edtune.loop.stages_teacher import teacher_sampling
from edtune.teacher.annotate import AnnotateOptions, SkillAnnotator
from edtune.teacher.annotate_file import latest_annotations

STAGE = "annotate"
"""The stage's name in state.json (`000/annotate`)."""
RETRIEVES = frozenset({"error_driven", "ablation_random_step", "ablation_step_text", "ablation_random_samples",
                       "skill_progress"})
"""Methods whose selection searches the pool's required skills."""


def needs_annotation(ctx: RunContext) -> bool:
    """Whether the run's retrieval would miss pool samples that the teacher could annotate."""
    settings = ctx.config.retrieval
    return (ctx.config.method in RETRIEVES and settings.annotate and settings.index is None
            and any(not s.required_skills for s in ctx.samples("pool")))


def annotate_pool(ctx: RunContext) -> None:
    """Ask the teacher for the required skills of every pool sample without them (see the module docstring)."""
    pool = ctx.samples("pool")
    todo = [s for s in pool if not s.required_skills]
    out = ctx.run.annotations_path
    images = ctx.capabilities().images.value and not ctx.data_file("pool").text_only
    say_once(ctx.run.root, "annotate", f"{len(todo)} of {len(pool)} pool samples have no required_skills; the "
                                       "teacher names them before retrieval (stage teacher.annotate, answers in "
                                       f"{out.name}{'' if images else ', without images'})")
    options = AnnotateOptions(images=images, concurrency=ctx.teacher_concurrency())
    annotator = SkillAnnotator(ctx.teacher(), options, image_root=ctx.image_root("pool"),
                               sampling=teacher_sampling(ctx))
    done = len(set(read_ids(out)) & {s.id for s in todo})
    with progress_bar("annotating the pool's required skills (teacher)", len(todo), enabled=ctx.show_bars,
                      done=done) as advance:
        run_sync(annotator.annotate_pool(todo, out, on_result=lambda _: advance(1)))
    latest = latest_annotations(out)
    found = sum(1 for s in todo if (a := latest.get(s.id)) is not None and a.outcome == "found")
    say_once(ctx.run.root, "annotated", f"{found} of {len(todo)} pool samples annotated; {len(todo) - found} "
                                        "left without skills (no valid teacher reply), so retrieval skips them")
    ctx.refresh_pool()
