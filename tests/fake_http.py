"""What the fake shops on loopback HTTP (tests/fake_grocy.py, tests/fake_kroger.py) have in common: a JSON
request handler that sends GET and POST to one `_serve(method)`, and a threaded server on a free port that
hands the handler the fake's `state`."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class StateServer(ThreadingHTTPServer):
    daemon_threads = True
    state: Any
    """The fake's state, shared by every request."""


class JSONHandler(BaseHTTPRequestHandler):
    """Quiet (tests read the fake's recorded requests); a subclass implements `_serve` and adds the other
    methods its API has (`do_PUT`, `do_DELETE`)."""

    server: StateServer

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        raise NotImplementedError

    def _send(self, status: int, answer: Any) -> None:
        """`answer` as JSON with `status`; no body for None."""
        data = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        if answer is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class LoopbackServer:
    """`handler` served on 127.0.0.1 at a free port from a daemon thread: `url`, `close()`."""

    def __init__(self, handler: type[JSONHandler], state: Any, name: str) -> None:
        self._httpd = StateServer(("127.0.0.1", 0), handler)
        self._httpd.state = state
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), name=name, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
