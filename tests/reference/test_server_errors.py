"""The reference teacher's server stays quiet when a client drops an idle connection, and only then."""

from __future__ import annotations

import contextlib
import io
from http.server import BaseHTTPRequestHandler

import pytest

from edtune.bench.reference.server import _Server


def _printed(error: BaseException) -> str:
    server = _Server(("127.0.0.1", 0), BaseHTTPRequestHandler)
    out = io.StringIO()
    try:
        with contextlib.redirect_stderr(out):
            try:
                raise error
            except BaseException:
                server.handle_error(None, ("127.0.0.1", 1))
    finally:
        server.server_close()
    return out.getvalue()


@pytest.mark.parametrize("error", [ConnectionResetError(104, "reset"), BrokenPipeError(32, "pipe")])
def test_a_client_closing_its_connection_prints_nothing(error: BaseException) -> None:
    assert _printed(error) == ""


def test_any_other_error_is_still_printed() -> None:
    assert "ValueError: boom" in _printed(ValueError("boom"))
