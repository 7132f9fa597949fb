"""The jinja2 environment of the viewer: templates shipped in `edtune/view/templates`, HTML autoescaped."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from edtune.view import urls


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The shared environment (templates are compiled once per process)."""
    env = Environment(loader=PackageLoader("edtune.view", "templates"), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["pct"] = lambda x: "–" if x is None else f"{100 * x:.1f}%"
    env.filters["num"] = lambda x: "–" if x is None else f"{x:,}"
    env.filters["score"] = lambda x: f"{x:.3f}"
    return env


def render(template: str, here: str, **context: Any) -> str:
    """Render `template` for the page at site path `here`; templates link with `url(site_path)`."""
    return environment().get_template(template).render(
        here=here, url=lambda target: urls.relative(target, here), urls=urls, **context)
