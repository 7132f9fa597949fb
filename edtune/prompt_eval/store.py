"""Evaluation results kept per template name and content hash, so every later run can be compared with
every earlier version of the template.

Layout under the results folder (default `<project>/results/prompt_eval/`):

    <template>/<template hash>/<gold hash>--<teacher>.json      one EvalRun (metrics and every outcome)

A run of the same template version on the same gold set by the same teacher replaces the earlier file
(it is the same experiment; with the LLM cache it gives the same outcomes). Editing the template gives a
new hash and so a new folder: old versions are never overwritten.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from edtune.atomic import atomic_write_text
from edtune.errors import DataError, UserError
from edtune.prompt_eval.runner import EvalRun
from edtune.settings import project_paths

RESULTS_SUBDIR = Path("results") / "prompt_eval"


def default_results_dir(project_dir: str | Path | None = None) -> Path:
    """`<project>/results/prompt_eval` (see `edtune.settings.project_paths`); `./results/prompt_eval` when the
    project dir is the defaults folder inside the installed package."""
    paths = project_paths(project_dir)
    return (Path.cwd() if paths.is_packaged_defaults else paths.root) / RESULTS_SUBDIR


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "teacher"


class ResultStore:
    """Reads and writes `EvalRun` files under one results folder."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_for(self, run: EvalRun) -> Path:
        return self.root / run.template / run.template_hash / f"{run.gold_hash}--{_slug(run.teacher)}.json"

    def save(self, run: EvalRun) -> Path:
        """Write `run` atomically; returns its file."""
        path = self.path_for(run)
        atomic_write_text(path, run.model_dump_json(indent=1) + "\n")
        return path

    def runs(self, template: str | None = None, *, gold_hash: str | None = None,
             teacher: str | None = None) -> list[EvalRun]:
        """Stored runs, oldest first, filtered by template name, gold hash and teacher name."""
        pattern = f"{template or '*'}/*/{gold_hash or '*'}--{_slug(teacher) if teacher else '*'}.json"
        found = [self._read(path) for path in self.root.glob(pattern)]
        return sorted(found, key=lambda run: run.created)

    def find(self, template: str, hash_prefix: str, *, gold_hash: str, teacher: str) -> EvalRun:
        """The stored run of the version of `template` whose hash starts with `hash_prefix`, on this gold
        set with this teacher; UserError naming the stored versions when there is none or several."""
        runs = self.runs(template, gold_hash=gold_hash, teacher=teacher)
        matches = {run.template_hash: run for run in runs if run.template_hash.startswith(hash_prefix)}
        if len(matches) == 1:
            return next(iter(matches.values()))
        known = ", ".join(sorted({run.template_hash for run in runs})) or "none"
        problem = "matches several stored versions" if matches else "matches no stored version"
        raise UserError(f"'{template}@{hash_prefix}' {problem} on gold set {gold_hash} with teacher {teacher} "
                        f"(stored: {known}); run `edtune prompts eval` on that version first")

    def _read(self, path: Path) -> EvalRun:
        try:
            return EvalRun.model_validate_json(path.read_bytes())
        except ValidationError as exc:
            raise DataError(f"not a valid stored evaluation run: {exc.errors()[0]['msg']}", file=str(path)) from exc
