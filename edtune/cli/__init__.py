"""The `edtune` command line. Each command group lives in its own module with a `register(app)`.

Command modules import heavy packages (torch, transformers) inside the command functions, so
`edtune --help` stays fast. This is the only place that turns exceptions into text for people.
"""

from __future__ import annotations

import signal
import sys
from types import FrameType

import typer

from edtune.errors import DataError, EdtuneError, Interrupted, MissingDependency, UnexpectedModelBehavior, UserError
from edtune.quiet import quiet_libraries

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Error-driven tuning of multimodal models.")


def _register_all() -> None:
    from edtune.cli import annotate, bench, prompts, reference, report, retrieval, run, student, view

    for module in (annotate, bench, prompts, reference, report, retrieval, run, student, view):
        module.register(app)


@app.callback()
def _root() -> None:
    """Error-driven tuning of multimodal models (arXiv 2412.15652) and PROGRESS (arXiv 2506.01085)."""


@app.command()
def version() -> None:
    """Print the installed edtune version."""
    from importlib.metadata import version as _v

    typer.echo(_v("edtune"))


def format_error(exc: EdtuneError) -> str:
    """One line (plus evidence lines where the error carries some) for a person reading a terminal."""
    if isinstance(exc, DataError | MissingDependency):
        return f"error: {exc}"
    if isinstance(exc, UnexpectedModelBehavior):
        raw = (exc.raw_output or "")[:300]
        return f"error: {exc} (model={exc.model}, attempts={len(exc.attempts)})\n  last raw output: {raw!r}"
    if isinstance(exc, UserError):
        return f"error: {exc}"
    return f"error ({type(exc).__name__}): {exc}"


def format_interrupted(exc: Interrupted) -> str:
    """The line printed when SIGINT or SIGTERM stopped a command."""
    if exc.run_dir is None:
        return "interrupted"
    return f"interrupted; resume with edtune resume {exc.run_dir}"


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


def install_signal_handlers() -> None:
    """SIGINT and SIGTERM raise Interrupted in the main thread. SIGINT is taken even when it was inherited
    as ignored (a job started with `cmd &` from a script), so Ctrl-C or `kill -INT` always stops a run
    the same clean way."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)


def main() -> None:
    """Entry point: run the app; known errors and usage errors (a wrong command, a missing or bad option)
    become one clear line and exit code 2; SIGINT / SIGTERM exit 130 / 143 with a line saying how to resume."""
    _register_all()
    quiet_libraries()
    install_signal_handlers()
    try:
        code = app(standalone_mode=False)
    except Interrupted as exc:
        typer.echo(format_interrupted(exc), err=True)
        sys.exit(exc.exit_code)
    except EdtuneError as exc:
        typer.echo(format_error(exc), err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        from edtune.cli.usage import click_exception_types, usage_exit_code, usage_line

        if isinstance(exc, click_exception_types()):
            if (line := usage_line(exc)) is not None:
                typer.echo(line, err=True)
            sys.exit(usage_exit_code(exc))
        raise
    if isinstance(code, int) and code != 0:  # a typer.Exit(code) that click returned instead of raising
        sys.exit(code)
