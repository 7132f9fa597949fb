"""The viewer's pages by path, for the server (one page on demand) and the static writer (every page).

Paths are those of `edtune.view.urls`. A path that names nothing (an unknown run, iteration, error or
sample, an image outside its root) gives None, which the server answers with 404. A run file that cannot
be read never fails a page: it is named on the page instead (`RunFiles.problems`).
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path

from edtune.view import urls
from edtune.view.images import image_file, image_ref
from edtune.view.pages_compare import compare_page
from edtune.view.pages_error import error_page
from edtune.view.pages_errors import errors_page as _errors_page
from edtune.view.pages_errors import filters, page_count
from edtune.view.pages_hits import hits_page, retriever
from edtune.view.pages_run import index_page, overview_page, selection_page
from edtune.view.pages_sample import sample_page, selected_ids
from edtune.view.runfiles import RunFiles

Page = tuple[bytes, str]
"""A page's bytes and its content type."""

_HTML = "text/html; charset=utf-8"
_RUN = r"(r\d+)"
_ITER = _RUN + r"/(\d{3})"


class Site:
    """The pages over a list of run directories; run n is `r<n>` in paths."""

    def __init__(self, run_dirs: Sequence[Path]) -> None:
        self.roots = [Path(p) for p in run_dirs]
        self.runs = [RunFiles(root, f"r{n}") for n, root in enumerate(self.roots)]
        self._stamps = [self._stamp(root) for root in self.roots]

    @staticmethod
    def _stamp(root: Path) -> tuple[float, ...]:
        names = ("config.json", "state.json", "metrics.json", "usage.json", "env.json")
        return tuple((root / n).stat().st_mtime if (root / n).is_file() else 0.0 for n in names)

    def run(self, key: str) -> RunFiles | None:
        """The run named `key`, read again when one of its top-level files changed (a run still going)."""
        n = int(key[1:])
        if n >= len(self.runs):
            return None
        stamp = self._stamp(self.roots[n])
        if stamp != self._stamps[n]:
            self.runs[n], self._stamps[n] = RunFiles(self.roots[n], key), stamp
        return self.runs[n]

    def page(self, path: str) -> Page | None:
        """The page at site path `path` (no leading slash), or None when it names nothing."""
        if path in ("", "index.html"):
            return _html(index_page([r for r in (self.run(x.key) for x in self.runs) if r is not None]))
        if path == "style.css":
            return resources.files("edtune.view").joinpath("templates/style.css").read_bytes(), "text/css"
        if match := re.fullmatch(r"compare/" + _RUN + "-" + _RUN + r"\.html", path):
            a, b = self.run(match[1]), self.run(match[2])
            return _html(compare_page(a, b)) if a is not None and b is not None else None
        if not (match := re.fullmatch(_RUN + r"/(.+)", path)) or (run := self.run(match[1])) is None:
            return None
        return _run_page(run, match[2])

    def paths(self) -> Iterator[str]:
        """Every page and image path the site has (what `edtune report --html` writes)."""
        yield from ("index.html", "style.css")
        for a, b in ((a, b) for n, a in enumerate(self.runs) for b in self.runs[n + 1:]):
            yield urls.compare(a.key, b.key)
        for run in self.runs:
            yield from _run_paths(run)


def run_roots(paths: Sequence[Path]) -> list[Path]:
    """The run directories at `paths`: a path holding config.json is one, a folder with run directories
    below it (one per method and seed) gives those (the search stops at a run directory), and any other
    path is kept as given so its page can say what is wrong with it (missing, or a run killed before
    config.json was written)."""
    found: list[Path] = []
    for path in map(Path, paths):
        below = _below(path)
        found.extend(below or [path])
    return found


def _below(path: Path) -> list[Path]:
    if (path / "config.json").is_file():
        return [path]
    if not path.is_dir():
        return []
    return [run for child in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
            for run in _below(child)]


def _html(text: str | None) -> Page | None:
    return None if text is None else (text.encode("utf-8"), _HTML)


def _iteration(run: RunFiles, text: str) -> int | None:
    i = int(text)
    return i if i in run.iterations() else None


def _run_page(run: RunFiles, rest: str) -> Page | None:
    if rest == "index.html":
        return _html(overview_page(run))
    if match := re.fullmatch(r"img/(\w+)/(.+)", rest):
        image = image_file(run, match[1], match[2])
        return None if image is None else (image.read_bytes(), mimetypes.guess_type(image.name)[0] or "image/png")
    if match := re.fullmatch(r"pool/([^/]+)\.html", rest):
        sample_id = selected_ids(run).get(match[1], match[1])
        return _html(sample_page(run, sample_id))
    if not (match := re.fullmatch(r"(\d{3})/(.+)", rest)) or (i := _iteration(run, match[1])) is None:
        return None
    page = match[2]
    if page == "selection.html":
        return _html(selection_page(run, i))
    if found := re.fullmatch(r"errors(?:-(.+?))?-p(\d+)\.html", page):
        return _html(_errors_page(run, i, found[1] or "", int(found[2])))
    if found := re.fullmatch(r"hits/([^/]+)\.html", page):
        return _html(hits_page(run, i, found[1]))
    if found := re.fullmatch(r"e/([^/]+)\.html", page):
        ids = run.iteration(i).error_slugs()
        return _html(error_page(run, i, ids[found[1]])) if found[1] in ids else None
    return None


def _run_paths(run: RunFiles) -> Iterator[str]:
    yield urls.overview(run.key)
    for i in (i for i in run.iterations() if i > 0):
        files = run.iteration(i)
        yield urls.selection(run.key, i)
        counts = {"": len(files.errors)} | {f.key: f.count for group in filters(files).values() for f in group}
        for key, total in counts.items():
            yield from (urls.errors(run.key, i, key, p) for p in range(1, page_count(total) + 1))
        yield from _hits_paths(run, i)
        for row in files.errors:
            yield urls.error(run.key, i, row.sample_id)
            sample = run.val.get(row.sample_id)
            yield from _images(run, "val", sample.images if sample else [])
    for sample_id in sorted(set(selected_ids(run).values())):
        yield urls.pool_sample(run.key, sample_id)
        sample = run.pool_samples([sample_id]).get(sample_id)
        yield from _images(run, "pool", sample.images if sample else [])


def _hits_paths(run: RunFiles, i: int) -> Iterator[str]:
    for skill in run.iteration(i).errors_by_skill():
        yield urls.hits(run.key, i, skill)
        found = retriever(run)
        top_k = run.config.retrieval.top_k if run.config is not None else 0
        ids = [h.sample_id for h in found.search([skill], top_k)[0]] if found is not None else []
        for sample in run.pool_samples(ids).values():
            yield from _images(run, "pool", sample.images)


def _images(run: RunFiles, split: str, relatives: list[str]) -> Iterator[str]:
    for rel in relatives:
        ref = image_ref(run, split, rel)
        if ref.path is not None:
            yield ref.path
