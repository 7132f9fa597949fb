"""`edtune report --html`: every page of the site written as files that open from disk with no server."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edtune.view.site import Site, run_roots


def write_site(run_dirs: Sequence[Path], out: Path) -> Path:
    """Write the viewer's pages over `run_dirs` (see `run_roots`) below `out`; returns `out/index.html`.

    Every path comes from `Site.paths`, which only yields normalised paths below the site root (images
    are named by their path below their image root), so nothing is written outside `out`. Files are
    written in place: the folder is a view to regenerate, not a record.
    """
    site = Site(run_roots(run_dirs))
    root = out.resolve()
    seen: set[str] = set()
    for path in site.paths():
        if path in seen:
            continue
        seen.add(path)
        page = site.page(path)
        if page is None:
            continue
        target = (root / path).resolve()
        if not target.is_relative_to(root):
            raise ValueError(f"refusing to write {path!r} outside {root}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(page[0])
    return root / "index.html"
