"""The wheel carries the default prompts, judge specs and corpus specs and finds them outside the checkout;
nothing in the package needs Python 3.11's `tomllib` without the tomli fallback (requires-python >= 3.10)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("prompts", "judges", "retrieval")
_BUILD_INPUTS = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "edtune", *FOLDERS)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from a copy of the sources (so the checkout gets no build/ folder)."""
    if shutil.which("pip") is None and not _has_module("pip"):
        pytest.skip("pip is not available")
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    for name in _BUILD_INPUTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "defaults"))
        else:
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(work / "dist"), str(src)], check=True, capture_output=True, timeout=300)
    [built] = (work / "dist").glob("edtune-*.whl")
    return built


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def test_wheel_lists_every_default_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in FOLDERS:
        shipped = [p.name for p in (ROOT / folder).iterdir() if p.suffix in (".jinja", ".toml")]
        assert shipped, folder
        missing = [n for n in shipped if f"edtune/defaults/{folder}/{n}" not in names]
        assert not missing, (folder, missing)
    assert "edtune/py.typed" in names


def test_unpacked_wheel_finds_its_defaults_from_any_folder(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("EDTUNE_PROJECT_DIR", "PYTHONPATH")}
    env["PYTHONPATH"] = str(site)
    code = (
        "import edtune, edtune.templates as t, edtune.specs as s, edtune.retrieval.spec as r\n"
        "from edtune.llm.structured import reask_template\n"
        "print(edtune.__file__)\n"
        "print(','.join(t.list_template_names()))\n"
        "t.load_template('missing_skills'); reask_template()\n"
        "print(','.join(s.spec_file_names()))\n"
        "print(r.spec_path('shapes'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    package, templates, specs, corpus = done.stdout.splitlines()
    assert Path(package).is_relative_to(site)
    assert set(templates.split(",")) >= {"missing_skills", "first_wrong_step", "required_skills", "reask"}
    assert "vllm-local" in specs.split(",")
    assert Path(corpus) == site / "edtune" / "defaults" / "retrieval" / "shapes.toml"


def test_a_project_folder_overrides_the_packaged_defaults(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    project = tmp_path / "project"
    (project / "prompts").mkdir(parents=True)
    shutil.copy2(ROOT / "prompts" / "missing_skills.jinja", project / "prompts" / "missing_skills.jinja")
    env = {k: v for k, v in os.environ.items() if k not in ("EDTUNE_PROJECT_DIR", "PYTHONPATH")}
    env["PYTHONPATH"] = str(site)
    code = "import edtune.templates as t; print(t.load_template('missing_skills').path)"
    done = subprocess.run([sys.executable, "-c", code], cwd=project, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == project / "prompts" / "missing_skills.jinja"


def _unguarded_tomllib_imports(tree: ast.AST) -> list[int]:
    """Lines importing tomllib outside an `if sys.version_info >= (3, 11):` branch."""
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "version_info" in ast.unparse(node.test):
            guarded.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    imports = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    return [node.lineno for node in imports if id(node) not in guarded
            and (getattr(node, "module", None) == "tomllib" or any(a.name == "tomllib" for a in node.names))]


def test_tomllib_is_imported_only_behind_the_python_3_10_fallback() -> None:
    assert _unguarded_tomllib_imports(ast.parse("import tomllib\nfrom tomllib import loads")) == [1, 2]
    offenders = {str(path.relative_to(ROOT)): lines for path in sorted((ROOT / "edtune").rglob("*.py"))
                 if (lines := _unguarded_tomllib_imports(ast.parse(path.read_text(encoding="utf-8"))))}
    assert offenders == {}
