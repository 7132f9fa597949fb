"""Build hook: the default `prompts/`, `judges/` and `retrieval/` folders ship inside the package.

In a source checkout they stay top-level folders (the editable defaults a user reads and edits). A build
copies them to `edtune/defaults/<folder>/` in the wheel, where `edtune.settings` finds them when no project
folder is found. Everything else about the package is declared in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DEFAULT_FOLDERS = ("prompts", "judges", "retrieval")
SHIPPED_SUFFIXES = (".jinja", ".toml", ".md")


class BuildPyWithDefaults(build_py):
    """build_py that also copies the default folders into `<build_lib>/edtune/defaults/`."""

    def run(self) -> None:
        super().run()
        for folder in DEFAULT_FOLDERS:
            source = ROOT / folder
            target = Path(self.build_lib) / "edtune" / "defaults" / folder
            target.mkdir(parents=True, exist_ok=True)
            for file in sorted(source.iterdir()):
                if file.is_file() and file.suffix in SHIPPED_SUFFIXES:
                    shutil.copy2(file, target / file.name)


setup(cmdclass={"build_py": BuildPyWithDefaults})
