"""Pages of the viewer built from a small real run directory."""

from __future__ import annotations

import posixpath
import re
import warnings
from pathlib import Path
from urllib.parse import unquote

from loop.fakes import COUNTING_SKILL

from edtune.jsonl import read_jsonl
from edtune.loop.rundir import RunDir
from edtune.retrieval.select import ChosenSample
from edtune.teacher.records import StepLocation
from edtune.view import Site, urls
from edtune.view.static import write_site
from view.helpers import copy_run


def text(site: Site, path: str) -> str:
    page = site.page(path)
    assert page is not None, path
    return page[0].decode()


def test_every_page_of_a_run_renders(finished_run: Path) -> None:
    site = Site([finished_run])
    paths = list(site.paths())
    assert all(site.page(p) is not None for p in paths)
    errors = [p for p in paths if "/e/" in p]
    assert len(errors) == sum(len(site.runs[0].iteration(i).errors) for i in (1, 2, 3, 4)) > 0
    assert any(p.startswith("r0/img/val/") for p in paths) and any(p.startswith("r0/img/pool/") for p in paths)


def test_overview_shows_method_accuracy_usage_and_versions(finished_run: Path) -> None:
    html = text(Site([finished_run]), "r0/index.html")
    assert 'id="method">error_driven<' in html and "finished: iterations" in html
    assert html.count('class="errors-link"') == 4 and "teacher.localise" in html and "teacher.skills" in html
    assert "torch 2" in html and "12 of 12" in html


def test_error_page_highlights_the_located_step_and_lists_what_was_retrieved(finished_run: Path) -> None:
    site = Site([finished_run])
    location = read_jsonl(RunDir(finished_run).file(1, "locations.jsonl"), StepLocation)[0]
    html = text(site, urls.error("r0", 1, location.sample_id))
    located = re.findall(r'<li data-step="(\d+)" class="located"', html)
    assert located == [str(location.step)] and html.count('class="located"') == 1
    chosen = read_jsonl(RunDir(finished_run).file(1, "selection.jsonl"), ChosenSample)
    assert COUNTING_SKILL in html and all(c.sample_id in html for c in chosen)
    assert f"{chosen[0].score:.3f}" in html and "the count is wrong" in html
    sources = re.findall(r'src="([^"]+)"', html)
    assert len(sources) == 1 + len(chosen)
    for src in sources:
        image = site.page(posixpath.normpath(posixpath.join("r0/001/e", src)))
        assert image is not None and image[1] == "image/png" and image[0].startswith(b"\x89PNG")
    assert "before (the adapter that made this error)" in html


def test_errors_are_filtered_and_paginated(finished_run: Path, tmp_path: Path) -> None:
    run = copy_run(finished_run, tmp_path / "run")
    extra = "".join(f'{{"sample_id":"extra-{n:04d}","outcome":"unscored","reason":"error: x","judge":"exact"}}\n'
                    for n in range(250))
    with RunDir(run).file(1, "val_judgments.jsonl").open("a") as handle:
        handle.write(extra)
    site = Site([run])
    first = text(site, urls.errors("r0", 1))
    assert "page 1 of 3" in first and first.count('class="error-link"') == urls.PAGE_SIZE
    last = text(site, urls.errors("r0", 1, page=3))
    assert last.count('class="error-link"') == 258 - 200
    assert site.page(urls.errors("r0", 1, page=4)) is None
    unscored = text(site, urls.errors("r0", 1, "judge-unscored", 3))
    assert unscored.count('class="error-link"') == 50
    skill = text(site, urls.errors("r0", 1, urls.skill_filter(COUNTING_SKILL)))
    assert skill.count('class="error-link"') == 8 and "extra-" not in skill
    assert text(site, urls.errors("r0", 1, "loc-found")).count('class="error-link"') == 8
    assert site.page(urls.errors("r0", 1, "loc-nowhere")) is None
    assert site.page(urls.error("r0", 1, "extra-0001")) is not None


def test_pool_sample_page_says_what_pulled_it_in(finished_run: Path) -> None:
    chosen = read_jsonl(RunDir(finished_run).file(2, "selection.jsonl"), ChosenSample)[0]
    html = text(Site([finished_run]), urls.pool_sample("r0", chosen.sample_id))
    assert re.search(r'<td class="n">2</td><td><a [^>]+>' + COUNTING_SKILL, html)
    assert 'class="error-link"' in html and "Required skills" in html
    assert Site([finished_run]).page(urls.pool_sample("r0", "no-such-sample")) is None


def test_two_runs_side_by_side(finished_run: Path, random_run: Path) -> None:
    site = Site([finished_run, random_run])
    assert 'href="compare/r0-r1.html"' in text(site, "index.html")
    html = text(site, "compare/r0-r1.html")
    assert "(error_driven)" in html and "(random)" in html and "samples chosen by both" in html


def test_two_template_versions_side_by_side(finished_run: Path, tmp_path: Path) -> None:
    edited = copy_run(finished_run, tmp_path / "edited")
    path = RunDir(edited).file(1, "locations.jsonl")
    records = read_jsonl(path, StepLocation)
    path.write_text("".join(r.model_copy(update={"template_hash": "f" * 64}).model_dump_json() + "\n" for r in records))
    html = text(Site([finished_run, edited]), "compare/r0-r1.html")
    old = f"{records[0].template}@{records[0].template_hash[:12]}"
    assert old in html and f"{records[0].template}@ffffffffffff" in html and "(they differ)" in html
    same = text(Site([finished_run, copy_run(finished_run, tmp_path / "same")]), "compare/r0-r1.html")
    assert old in same and "(they differ)" not in same


def test_static_site_links_all_resolve(finished_run: Path, random_run: Path, tmp_path: Path) -> None:
    index = write_site([finished_run.parent, random_run], tmp_path / "site")
    pages = list((tmp_path / "site").rglob("*.html"))
    assert index.is_file() and len(pages) > 20
    for page in pages:
        for link in re.findall(r'(?:href|src)="([^"#]+)"', page.read_text()):
            assert (page.parent / unquote(link)).resolve().is_file(), (page, link)


def test_progress_runs_show_their_clusters(view_world: Path, tmp_path: Path) -> None:
    from loop.fakes import FamilyStudent, progress_config, run_progress

    from edtune.retrieval.base import TinyCorpusWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TinyCorpusWarning)
        run_progress(view_world, tmp_path / "run", FamilyStudent(), progress_config(view_world))
    site = Site([tmp_path / "run"])
    assert all(site.page(p) is not None for p in site.paths())
    assert "selection &amp; progress" in text(site, "r0/index.html")
    html = text(site, urls.selection("r0", 2))
    assert "cluster_accuracy.jsonl" in html and "cluster-" in html and "<th>quota</th>" in html


def test_hits_page_recomputes_bm25_and_says_what_became_of_each_hit(finished_run: Path) -> None:
    site = Site([finished_run])
    html = text(site, urls.hits("r0", 2, COUNTING_SKILL))
    rows = re.findall(r'<tr><td class="n">(\d+)</td>\s*<td>(?:<a [^>]+>)?([\w-]+)(?:</a>)?</td>.*?'
                      r'<td class="n">([\d.]+)</td><td[^>]*>([^<]+)</td></tr>', html, re.S)
    fates = {sample_id: (int(rank), score, fate) for rank, sample_id, score, fate in rows}
    for c in read_jsonl(RunDir(finished_run).file(2, "selection.jsonl"), ChosenSample):
        assert fates[c.sample_id] == (c.rank, f"{c.score:.3f}", "chosen")
    for c in read_jsonl(RunDir(finished_run).file(1, "selection.jsonl"), ChosenSample):
        assert fates[c.sample_id][2] == "chosen in iteration 1 (excluded)"
    assert any(f[2] == "not chosen (quotas filled)" for f in fates.values())
    assert site.page(urls.hits("r0", 2, "a skill nobody named")) is None
    error = text(site, urls.error("r0", 2, next(iter(site.runs[0].iteration(2).error_slugs().values()))))
    assert 'class="hits-link"' in error


def test_answer_switch_evidence_shows_the_probabilities_after_each_step(finished_run: Path, tmp_path: Path) -> None:
    run = copy_run(finished_run, tmp_path / "run")
    path = RunDir(run).file(1, "locations.jsonl")
    first, *rest = read_jsonl(path, StepLocation)
    n = first.n_steps
    evidence = {"kind": "answer_switch", "letters": ["A", "B"], "gold": "A", "wrong": "B",
                "probabilities": [{"A": 0.9 - 0.3 * k, "B": 0.1 + 0.3 * k} for k in range(n + 1)],
                "letters_seen": [2] * (n + 1), "margins": [0.6 * k - 0.8 for k in range(n + 1)], "delta": 0.1,
                "lam": 1, "prior": None, "rule": "switch", "switch_prefix": 2}
    switched = StepLocation.model_validate(first.model_dump() | {"method": "answer_switch", "step": 2,
                                                                 "evidence": evidence})
    path.write_text("".join(r.model_dump_json() + "\n" for r in [switched, *rest]))
    html = text(Site([run]), urls.error("r0", 1, first.sample_id))
    table = html[html.index('<table id="switch">'):]
    table = table[:table.index("</table>")]
    assert table.count("<tr") == n + 2 and "<th>P(B)</th>" in table and "0.600" in table
    assert "Method <b>answer_switch</b>" in html and re.findall(r'data-step="(\d+)" class="located"', html) == ["2"]
