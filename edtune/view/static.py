"""`edtune report --html`: every page of the site written as files that open from disk with no server."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from edtune.atomic import atomic_write_bytes
from edtune.view.site import Site, run_roots


def write_site(run_dirs: Sequence[Path], out: Path) -> Path:
    """Write the viewer's pages over `run_dirs` (see `run_roots`) below `out`; returns `out/index.html`.

    Every path comes from `Site.paths`, which only yields normalised paths below the site root (images
    are named by their path below their image root), so nothing is written outside `out`.
    """
    site = Site(run_roots(run_dirs))
    root = out.resolve()
    for path in site.paths():
        page = site.page(path)
        if page is None:
            continue
        target = (root / path).resolve()
        if not target.is_relative_to(root):
            raise ValueError(f"refusing to write {path!r} outside {root}")
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, page[0], durable=False)
    return root / "index.html"
