"""`edtune view RUN_DIR...`: browse run directories in a web browser (read-only, 127.0.0.1 only)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def view_command(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories (a partial one is fine), or "
                                                   "folders holding runs (searched recursively).")],
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1; 0 picks a free "
                                      "one.")] = 8765,
) -> None:
    """Serve a read-only viewer of the runs: overview, errors per iteration, each error and what was
    retrieved and trained on for it, pool samples, two runs side by side."""
    from edtune.view import Site
    from edtune.view.server import make_server
    from edtune.view.site import run_roots

    server = make_server(Site(run_roots(run_dirs)), port)
    host, bound = server.server_address[:2]
    typer.echo(f"edtune view: http://{host!s}:{bound}/  (Ctrl-C stops)")
    try:
        server.serve_forever()
    finally:
        server.server_close()


def register(app: typer.Typer) -> None:
    """Attach `view` to the main app."""
    app.command("view")(view_command)
