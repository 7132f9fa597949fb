"""`edtune run CONFIG` in a subprocess with an error-driven config whose teacher is a mock spec string
(`mock/<replies>.jsonl`): the whole teacher side (preflight, localisation, skills) runs with no server and
no client object, as a user's config would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from edtune.data import load_samples
from edtune.jsonl import read_jsonl
from edtune.loop.rundir import RunDir
from edtune.teacher.records import SkillAnalysis


def _config(tmp_path: Path, world: Path, checkpoint: Path, teacher: str) -> Path:
    path = tmp_path / "mock.toml"
    path.write_text(f"""
method = "error_driven"
teacher = "{teacher}"
budget = 4
iterations = 1
[student]
path = "{checkpoint}"
[student.generation]
max_new_tokens = 8
[data]
val = {{path = "{world / 'counting_val.jsonl'}"}}
pool = {{path = "{world / 'pool.jsonl'}"}}
[training.lora]
epochs = 1
min_steps = 0
print_targets = false
""")
    return path


def test_a_run_with_a_mock_teacher_needs_no_server(tmp_path: Path, world: Path, checkpoint: Path) -> None:
    skill = next(s.required_skills for s in load_samples(world / "pool.jsonl", check_images=False)
                 if s.required_skills)[0]
    replies = tmp_path / "replies.jsonl"  # other outputs (preflight, localisation) get the default replies
    replies.write_text(json.dumps({"output": "MissingSkills", "reply": {"skills": [skill]}}) + "\n")
    run_dir, config = tmp_path / "run", _config(tmp_path, world, checkpoint, f"mock/{replies}")
    done = subprocess.run([sys.executable, "-m", "edtune", "run", str(config), "--run-dir", str(run_dir),
                           "--no-progress"],
                          capture_output=True, text=True, timeout=600, env={**os.environ, "PYTHONHASHSEED": "0"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error_driven: stopped (iterations) after 1 iteration(s)" in done.stdout
    preflight = [json.loads(line) for line in (run_dir / "preflight.jsonl").read_text().splitlines()]
    assert preflight and all(c["passed"] for c in preflight[-1]["checks"] if c["check"] != "logprobs")
    analyses = read_jsonl(RunDir(run_dir).file(1, "skills.jsonl"), SkillAnalysis)
    assert analyses and all(a.missing_skills == [skill] for a in analyses)
