"""A read-only viewer of run directories: `edtune view` serves it, `edtune report --html` writes it as files.

Pages are built only from the run files (and the data sets config.json names) with the jinja2 templates
shipped in `edtune/view/templates`; see `edtune.view.urls` for the page layout.
"""

from edtune.view.site import Site

__all__ = ["Site"]
