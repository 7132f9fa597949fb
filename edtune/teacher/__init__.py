"""Teacher tasks (arXiv 2412.15652): locate the student's first wrong step, name the missing skill,
and annotate a supporting pool with required skills. Each task renders a template from `prompts/` and
returns a Pydantic record carrying the template's name and hash."""

from edtune.teacher.annotate import AnnotateOptions, SkillAnnotator
from edtune.teacher.answer_switch import AnswerSwitchLocator, AnswerSwitchOptions
from edtune.teacher.batch import BatchReport, iter_results, run_resumable
from edtune.teacher.direct import DirectLocator, DirectOptions
from edtune.teacher.locate import StepLocator
from edtune.teacher.per_step import PerStepLocator, PerStepOptions
from edtune.teacher.records import SkillAnalysis, SkillAnnotation, StepLocation
from edtune.teacher.skills import SkillAnalyzer, SkillOptions

__all__ = [
    "AnnotateOptions",
    "AnswerSwitchLocator",
    "AnswerSwitchOptions",
    "BatchReport",
    "DirectLocator",
    "DirectOptions",
    "PerStepLocator",
    "PerStepOptions",
    "SkillAnalysis",
    "SkillAnalyzer",
    "SkillAnnotation",
    "SkillAnnotator",
    "SkillOptions",
    "StepLocation",
    "StepLocator",
    "iter_results",
    "run_resumable",
]
