"""Reading TOML files: configs, model and judge specs, corpus specs.

`read_toml` is the one reader; every failure is a ConfigError that names the file (a missing file, one
that cannot be read or is not UTF-8, a TOML syntax error with its line and column). Validating the table
is the caller's job. `loads` and `TOMLDecodeError` are the standard library's parser and its error (the
`tomli` backport's on Python 3.10), for TOML text that is not a file of its own (a template's front matter).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from edtune.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib


def read_toml(path: str | Path, what: str = "TOML file") -> dict[str, Any]:
    """The top-level table of the TOML file at `path`; `what` names the kind of file in errors
    ("config file not found: PATH", "PATH: cannot read spec file (Permission denied)")."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {file}") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read {what} ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML ({exc})") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML ({exc})") from exc


loads = tomllib.loads
TOMLDecodeError = tomllib.TOMLDecodeError

__all__ = ["TOMLDecodeError", "loads", "read_toml"]
