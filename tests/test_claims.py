"""benchmarks/claims.toml: every claimed number names its job and still appears where claimed
(whitespace aside);
claims.py reads a job's results.json and flags a claim outside its tolerance."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _claims_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_claims", ROOT / "benchmarks" / "claims.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


claims = _claims_module()


def test_every_claim_is_in_its_document_and_has_a_job() -> None:
    jobs, registered = claims.load_registry()
    assert registered, "the registry lists no claim"
    for claim in registered:
        text = " ".join((ROOT / claim.doc).read_text(encoding="utf-8").split())  # prose is re-wrapped freely
        assert " ".join(claim.text.split()) in text, f"{claim.id}: {claim.text!r} is no longer in {claim.doc}"
        assert claim.job in jobs and claim.metric.count(".") == 1


def test_compare_flags_a_claim_outside_its_tolerance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "job").mkdir()
    rows = [{"method": "error_driven", "accuracy": 0.70}, {"method": "random", "accuracy": 0.10}]
    (tmp_path / "job" / "results.json").write_text(json.dumps({"methods": rows}))
    near = claims.Claim(id="a", doc="README.md", text="", value=0.69, tolerance=0.02, job="job",
                        metric="error_driven.accuracy")
    far = claims.Claim(id="b", doc="README.md", text="", value=0.30, tolerance=0.02, job="job",
                       metric="random.accuracy")
    missing = claims.Claim(id="c", doc="README.md", text="", value=1.0, tolerance=0.0, job="other",
                           metric="full.accuracy")
    assert claims.compare([near, far, missing], tmp_path) == 1
    table = capsys.readouterr().out
    assert "| a | README.md | 0.69 | 0.7 | +0.01 | yes |" in table
    assert "| b | README.md | 0.3 | 0.1 | -0.2 | NO (tolerance 0.02) |" in table and "| c |" in table
