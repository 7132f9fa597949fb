"""Where the user-editable folders live.

`prompts/`, `judges/` and `retrieval/` are data folders next to a project's config, not Python packages.
They are found through the project dir: the explicit argument, else $EDTUNE_PROJECT_DIR, else the first
parent of the working directory that has a `prompts/` folder.

When none is found, edtune's own defaults are the project dir: `edtune/defaults/` inside an installed wheel
(the build copies the checkout's folders there, see setup.py), else the top-level folders of the source
checkout edtune runs from (an editable install). A project dir replaces the defaults as a whole (copy the
files you keep); only the re-ask template falls back to the default one (`edtune.llm.structured`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from edtune.errors import UserError

ENV_VAR = "EDTUNE_PROJECT_DIR"
_PACKAGE = Path(__file__).resolve().parent
PACKAGED_DEFAULTS = _PACKAGE / "defaults"
"""The default folders inside an installed wheel."""
_CHECKOUT = _PACKAGE.parent


def defaults_root() -> Path | None:
    """The folder holding edtune's default `prompts/`, `judges/` and `retrieval/`; None when neither the
    installed package nor a source checkout has them."""
    for root in (PACKAGED_DEFAULTS, _CHECKOUT):
        if (root / "prompts").is_dir():
            return root
    return None


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

    @property
    def is_packaged_defaults(self) -> bool:
        """Whether the project dir is the defaults folder inside the installed package (not a place to write)."""
        return self.root == PACKAGED_DEFAULTS


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
    if (defaults := defaults_root()) is not None:
        return ProjectPaths(defaults)
    raise UserError(f"no project dir: set {ENV_VAR} or run inside a folder that has prompts/")
