"""The loop against the reference teacher over HTTP, chosen by spec strings: answer-switch where the
sample has options, the run's SQLite cache and call log, and a resume that sends no request again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edtune.bench.reference import reference_teacher
from edtune.bench.shapes import ShapesConfig, generate_world, write_world
from edtune.jsonl import read_jsonl
from edtune.loop import adapt
from edtune.loop.rundir import RunDir
from edtune.teacher.records import StepLocation
from loop.fakes import FamilyStudent


class Crash(Exception):
    """Stands in for the process dying."""


@pytest.fixture(scope="module")
def spatial_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("spatial") / "shapes"
    config = ShapesConfig(seed=1, pool_size=120, val_size=10, test_size=6, base_size=10, tasks=["spatial"])
    write_world(generate_world(config), out)
    return out


def test_spec_string_teacher_with_cache_and_resume(spatial_world: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = tmp_path / "run"
    with reference_teacher(spatial_world) as server:
        spec = f"openai-compatible/{server.model}@{server.base_url}"
        monkeypatch.setenv("OPENAI_API_KEY", "unused-by-a-local-server")

        def start() -> None:
            adapt(FamilyStudent(), spatial_world / "spatial_val.jsonl", spatial_world / "pool.jsonl", teacher=spec,
                  judge=spec, test=spatial_world / "spatial_test.jsonl", budget=8, iterations=2, run_dir=run_dir,
                  show_bars=False)

        original = RunDir.mark_done

        def crash_after_skills(self: RunDir, key: str) -> None:
            original(self, key)
            if key == "001/skills":
                raise Crash(key)

        monkeypatch.setattr(RunDir, "mark_done", crash_after_skills)
        with pytest.raises(Crash):
            start()
        before = {task: counts.requests for task, counts in server.stats().tasks.items()}
        monkeypatch.setattr(RunDir, "mark_done", original)
        # Forget the results of iteration 1's teacher stages: only the SQLite cache can now spare the calls.
        rd = RunDir(run_dir)
        state = rd.state()
        state.done = [key for key in state.done if key not in ("001/locate", "001/skills")]
        rd.state_path.write_text(state.model_dump_json())
        for name in ("locations.jsonl", "skills.jsonl"):
            rd.file(1, name).unlink()
        start()
        after = {task: counts.requests for task, counts in server.stats().tasks.items()}

    locations = read_jsonl(rd.file(1, "locations.jsonl"), StepLocation)
    val = {s["id"]: s for s in map(json.loads, (spatial_world / "spatial_val.jsonl").read_text().splitlines())}
    assert locations and all(loc.method == ("answer_switch" if val[loc.sample_id]["choices"] else "direct")
                             for loc in locations)
    assert {"answer_switch", "direct"} >= {loc.method for loc in locations}
    # Iteration 1's redone calls were all answered from the cache (zero tokens), and the server saw no
    # teacher request after the crash (iteration 2's errors repeat iteration 1's requests, also cached);
    # the judge went on with the test set, which it had not judged yet.
    assert after.pop("judge") > before.pop("judge")
    redo = [loc for loc in locations if loc.calls]
    assert redo and all(loc.usage.total_tokens == 0 for loc in redo)
    assert after == before and before["answer_switch"] > 0 and before["first_wrong_step"] > 0
    usage = json.loads(rd.usage_path.read_text())["stages"]
    assert usage["teacher.localise"]["cached_calls"] >= len(redo)
    assert usage["teacher.skills"]["calls"] > 0 and usage["judge"]["calls"] > 0
    assert rd.cache_path.is_file()
