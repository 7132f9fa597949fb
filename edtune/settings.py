"""Where the user-editable folders live.

`prompts/`, `judges/` and `retrieval/` are data folders next to a project's config, not Python packages.
They are found through the project dir: the explicit argument, else $EDTUNE_PROJECT_DIR, else the first
parent of the working directory that has a `prompts/` folder, else the source checkout edtune was
installed from (an editable install), whose folders are the defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edtune.errors import UserError

ENV_VAR = "EDTUNE_PROJECT_DIR"
_CHECKOUT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class ProjectPaths:
    """The resolved project folders."""

    root: Path

    @property
    def prompts(self) -> Path:
        return self.root / "prompts"

    @property
    def judges(self) -> Path:
        return self.root / "judges"

    @property
    def retrieval(self) -> Path:
        return self.root / "retrieval"


def _discover(start: Path) -> Path | None:
    for candidate in (start, *start.parents):
        if (candidate / "prompts").is_dir():
            return candidate
    return None


def project_paths(project_dir: str | Path | None = None) -> ProjectPaths:
    """Resolve the project dir (see module docstring); an explicit dir that does not exist is an error."""
    explicit = project_dir if project_dir is not None else os.environ.get(ENV_VAR)
    if explicit:
        root = Path(explicit).expanduser().resolve()
        if not root.is_dir():
            raise UserError(f"project dir {root} does not exist (from {'argument' if project_dir else ENV_VAR})")
        return ProjectPaths(root)
    found = _discover(Path.cwd().resolve())
    if found is not None:
        return ProjectPaths(found)
    if (_CHECKOUT / "prompts").is_dir():
        return ProjectPaths(_CHECKOUT)
    raise UserError(f"no project dir: set {ENV_VAR} or run inside a folder that has prompts/")
