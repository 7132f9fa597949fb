"""A missing, partial, killed or damaged run directory is shown as such, never a server error."""

from __future__ import annotations

import json
from pathlib import Path

from edtune.jsonl import append_jsonl, read_jsonl
from edtune.loop.ownership import TAKEOVERS_NAME, RunOwner
from edtune.loop.rundir import RunDir
from edtune.records import Judgment
from edtune.view import Site
from edtune.view.static import write_site
from view.helpers import copy_run


def all_pages(site: Site) -> dict[str, str]:
    pages = {}
    for path in site.paths():
        page = site.page(path)
        assert page is not None, path
        if path.endswith(".html"):
            pages[path] = page[0].decode()
    return pages


def test_a_missing_directory_and_an_empty_one(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    site = Site([tmp_path / "missing", tmp_path / "empty"])
    pages = all_pages(site)
    assert set(pages) == {"index.html", "r0/index.html", "r1/index.html", "compare/r0-r1.html"}
    assert pages["index.html"].count("not a run (config.json missing or unreadable)") == 2
    assert "does not exist" in pages["r0/index.html"] and "config.json" in pages["r1/index.html"]
    assert site.page("r0/001/errors-p1.html") is None


def test_a_run_killed_mid_way(finished_run: Path, tmp_path: Path) -> None:
    run = copy_run(finished_run, tmp_path / "run")
    rd = RunDir(run)
    rd.metrics_path.unlink()
    state = json.loads(rd.state_path.read_text())
    rd.state_path.write_text(json.dumps(state | {"stopped": None, "done": state["done"][:5]}))
    for name in ("skills.jsonl", "selection.jsonl", "quotas.jsonl", "test_outputs.jsonl", "test_judgments.jsonl"):
        rd.file(2, name).unlink()
    judged = rd.file(2, "val_judgments.jsonl")
    judged.write_text(judged.read_text()[:-40])  # a torn last line, as a kill leaves it
    pages = all_pages(Site([run]))
    overview = pages["r0/index.html"]
    assert "partial: still going, or killed before its end" in overview and "metrics.json missing" in overview
    assert "no metrics.json yet" in overview and "iterations/001/metrics.json" in overview
    errors = pages["r0/002/errors-p1.html"]
    complete = read_jsonl(judged, Judgment)
    assert len(complete) == 7 and errors.count('class="error-link"') == sum(j.outcome != "correct" for j in complete)
    assert "No skill analysis for this error." in next(v for k, v in pages.items() if k.startswith("r0/002/e/"))
    write_site([run], tmp_path / "site")


def test_a_takeover_of_a_killed_run_is_shown(finished_run: Path, tmp_path: Path) -> None:
    run = copy_run(finished_run, tmp_path / "run")
    killed = RunOwner(pid=4242, host="gpu-7", since="2025-01-01T00:00:00+00:00")
    append_jsonl(run / TAKEOVERS_NAME, [RunOwner(pid=99, host="gpu-8", stale_owner=killed)])
    overview = all_pages(Site([run]))["r0/index.html"]
    assert "process 99 on gpu-8 took the run over from process\n4242 on gpu-7" in overview


def test_damaged_files_are_named_on_the_page(finished_run: Path, tmp_path: Path) -> None:
    run = copy_run(finished_run, tmp_path / "run")
    rd = RunDir(run)
    rd.metrics_path.write_text("{not json")
    (run / "usage.json").write_text("[]")
    (run / "env.json").write_text("{}")
    locations = rd.file(1, "locations.jsonl")
    lines = locations.read_text().splitlines()
    locations.write_text("\n".join([lines[0], '{"sample_id": 3}', *lines[1:]]) + "\n")
    config = json.loads((run / "config.json").read_text())
    config["data"]["pool"]["path"] = str(tmp_path / "gone.jsonl")
    (run / "config.json").write_text(json.dumps(config))
    pages = all_pages(Site([run]))
    overview = pages["r0/index.html"]
    assert "metrics.json: " in overview and "env.json: " in overview
    error = next(v for k, v in pages.items() if k.startswith("r0/001/e/"))
    assert "iterations/001/locations.jsonl: " in error and "Not localised in this iteration." in error
    assert "pool data: data file not found" in error and "(not in the pool file)" in error


def test_a_run_whose_config_is_unreadable(finished_run: Path, tmp_path: Path) -> None:
    run = copy_run(finished_run, tmp_path / "run")
    (run / "config.json").write_text('{"method": 3}')
    pages = all_pages(Site([run]))
    assert "not a run (config.json missing or unreadable)" in pages["r0/index.html"]
    assert "config.json: " in pages["r0/index.html"]


def test_run_roots_stop_at_run_directories(tmp_path: Path) -> None:
    from edtune.view.site import run_roots

    for name in ("a", "b/seed0"):
        (tmp_path / "runs" / name / "adapters" / "001").mkdir(parents=True)
        (tmp_path / "runs" / name / "config.json").write_text("{}")
        (tmp_path / "runs" / name / "adapters" / "001" / "config.json").write_text("{}")
    found = run_roots([tmp_path / "runs", tmp_path / "gone", tmp_path / "runs" / "a"])
    assert found == [tmp_path / "runs" / "a", tmp_path / "runs" / "b" / "seed0", tmp_path / "gone",
                     tmp_path / "runs" / "a"]
