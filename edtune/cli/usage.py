"""Usage errors on the command line: a wrong command, a missing or bad option, an option value a settings
model refuses. Each becomes one line on stderr and exit code 2, never a traceback.

typer either re-exports click's exceptions or carries its own copy of click; both kinds are recognised.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from edtune.data.rows import describe_validation_error
from edtune.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
USAGE_EXIT_CODE = 2
"""Exit code of every usage error (click's own convention)."""


def click_exception_types() -> tuple[type[Exception], ...]:
    """The ClickException classes of the click that typer uses, and of a separately installed click."""
    kinds: list[type[Exception]] = []
    try:
        import click

        kinds.append(click.ClickException)
    except ImportError:  # pragma: no cover - typer without a separate click
        pass
    try:
        from typer._click.exceptions import ClickException  # type: ignore[import-not-found,unused-ignore]

        kinds.append(ClickException)
    except ImportError:  # typer that uses the separate click
        pass
    return tuple(kinds)


def usage_line(exc: Exception) -> str | None:
    """One line for a click exception: the message, then how to get help on the command that failed. None
    when the exception has no message (click has already printed the help, e.g. a group given no command)."""
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    text = " ".join(str(message).split())
    if not text:
        return None
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command_path", None) or "edtune"
    return f"error: {text} (see '{command} --help')"


def usage_exit_code(exc: Exception) -> int:
    """click's exit code for `exc` (2 for usage errors, 1 for others such as an unreadable file)."""
    code = getattr(exc, "exit_code", USAGE_EXIT_CODE)
    return code if isinstance(code, int) else USAGE_EXIT_CODE


def validate_options(model: type[M], values: dict[str, Any], *, options: dict[str, str] | None = None) -> M:
    """`model` built from command-line option values; ConfigError in one line naming the option when a value
    is refused. `options` maps a field to its option where the names differ (default `--field-name`)."""
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        message, loc = describe_validation_error(exc)
        field = (loc or "").split(".")[0]
        option = (options or {}).get(field) or f"--{field.replace('_', '-')}"
        message = message.removeprefix("Value error, ")
        raise ConfigError(f"invalid {option}: {' '.join(message.split())}" if field else
                          f"invalid options: {' '.join(message.split())}") from exc
