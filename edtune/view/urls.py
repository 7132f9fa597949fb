"""The viewer's page paths. The server and the static folder use the same paths, so every link is a
relative link that works under `edtune view` and when the folder written by `edtune report --html` is
opened from disk.

    index.html                                  the runs given (and links to compare two)
    style.css
    <run>/index.html                            run overview
    <run>/<NNN>/errors[-<filter>]-p<page>.html   errors of iteration NNN, one filter at a time
    <run>/<NNN>/selection.html                  the samples chosen in iteration NNN and the quotas
    <run>/<NNN>/e/<sample>.html                 one error
    <run>/<NNN>/hits/<skill>.html               every BM25 hit of one missing skill, and its fate
    <run>/pool/<sample>.html                    one pool sample
    <run>/img/<split>/<image path>              an image of a data set, below that data set's image root
    compare/<run>-<run>.html                    two runs side by side

`<filter>` is `skill-<slug>`, `loc-<outcome>`, `judge-<outcome>` or `teacher-failed`.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

PAGE_SIZE = 100
"""Errors per page of an errors list."""

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


def slug(text: str) -> str:
    """A file-name-safe, stable name for an id or a skill: the text itself when it is already safe, else
    its safe characters plus a short hash (so two texts never share a slug in practice)."""
    if _SAFE.fullmatch(text) and not text.endswith("."):
        return text
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:60]
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return f"{cleaned}-{digest}" if cleaned else digest


def overview(run: str) -> str:
    return f"{run}/index.html"


def errors(run: str, iteration: int, filter_: str = "", page: int = 1) -> str:
    """An errors-list page; `filter_` as in the module docstring ("" for all errors)."""
    middle = f"-{filter_}" if filter_ else ""
    return f"{run}/{iteration:03d}/errors{middle}-p{page}.html"


def skill_filter(skill: str) -> str:
    return f"skill-{slug(skill)}"


def selection(run: str, iteration: int) -> str:
    return f"{run}/{iteration:03d}/selection.html"


def hits(run: str, iteration: int, skill: str) -> str:
    return f"{run}/{iteration:03d}/hits/{slug(skill)}.html"


def error(run: str, iteration: int, sample_id: str) -> str:
    return f"{run}/{iteration:03d}/e/{slug(sample_id)}.html"


def pool_sample(run: str, sample_id: str) -> str:
    return f"{run}/pool/{slug(sample_id)}.html"


def image(run: str, split: str, relative: str) -> str:
    """The URL path of an image; `relative` must already be normalised below the image root."""
    return f"{run}/img/{split}/{relative}"


def compare(run_a: str, run_b: str) -> str:
    return f"compare/{run_a}-{run_b}.html"


def relative(target: str, current: str) -> str:
    """`target` as a link from the page at `current` (both normalised site paths), percent-quoted: up to
    the site root, then down to `target`."""
    return "../" * current.count("/") + quote(target, safe="/._-~")
