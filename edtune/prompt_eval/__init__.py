"""Prompt-engineering iteration on teacher templates: run a template over a gold set, score it, store the
result per template hash, and compare versions or localisation methods.

    gold = load_gold("gold.jsonl")                                  # or export_gold(world_dir, "gold.jsonl")
    run = await evaluate_template(load_template("first_wrong_step"), gold, client)
    ResultStore(default_results_dir()).save(run)
    diff_runs(old_run, run, gold).changed                           # items whose outcome changed

The command line is `edtune prompts list|show|render|eval|diff|export-gold`.
"""

from edtune.prompt_eval.diff import ChangedItem, RunDiff, diff_runs
from edtune.prompt_eval.export import corrupt_sample, export_gold, student_errors
from edtune.prompt_eval.gold import GoldItem, GoldSet, GoldSetMeta, load_gold, write_gold
from edtune.prompt_eval.localisation import LocalisationComparison, MethodRow, compare_localisation
from edtune.prompt_eval.metrics import ItemOutcome, TemplateMetrics, compute_metrics
from edtune.prompt_eval.runner import EvalRun, EvalSettings, evaluate_template
from edtune.prompt_eval.store import ResultStore, default_results_dir

__all__ = [
    "ChangedItem",
    "EvalRun",
    "EvalSettings",
    "GoldItem",
    "GoldSet",
    "GoldSetMeta",
    "ItemOutcome",
    "LocalisationComparison",
    "MethodRow",
    "ResultStore",
    "RunDiff",
    "TemplateMetrics",
    "compare_localisation",
    "compute_metrics",
    "corrupt_sample",
    "default_results_dir",
    "diff_runs",
    "evaluate_template",
    "export_gold",
    "load_gold",
    "student_errors",
    "write_gold",
]
