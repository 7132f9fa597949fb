"""`edtune view`: the site served read-only on 127.0.0.1 by the standard library's HTTP server.

Only GET and HEAD are answered; a path that names nothing is a 404. The server binds the loopback
interface only, so the run files are never exposed to the network.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from edtune.view.site import Site

HOST = "127.0.0.1"
"""The only interface the viewer listens on."""


def _handler(site: Site, lock: threading.Lock) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, body: bool) -> None:
            path = unquote(urlsplit(self.path).path).lstrip("/")
            try:
                with lock:  # the run files are read and cached by one request at a time
                    page = site.page(path)
            except Exception as exc:  # a viewer bug: answer it instead of dropping the connection
                self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR, f"viewer error: {type(exc).__name__}: {exc}"[:300])
                return
            if page is None:
                self.send_error(HTTPStatus.NOT_FOUND, "no such page in these runs")
                return
            content, kind = page
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if body:
                self.wfile.write(content)

        def do_GET(self) -> None:
            self._answer(body=True)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def make_server(site: Site, port: int = 0) -> ThreadingHTTPServer:
    """A server for `site` on 127.0.0.1:`port` (0 = any free port; see `server_address`), not yet serving."""
    return ThreadingHTTPServer((HOST, port), _handler(site, threading.Lock()))


def serve_in_thread(site: Site, port: int = 0) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Start serving `site` in a daemon thread; stop with `server.shutdown()` then `server.server_close()`."""
    server = make_server(site, port)
    thread = threading.Thread(target=server.serve_forever, name="edtune-view", daemon=True)
    thread.start()
    return server, thread
