"""Serve an ASGI app with uvicorn on 127.0.0.1 in a daemon thread of this process (start, url, stop).

The socket is bound and listening before `start` returns, so the URL is usable at once; with
`wait=False` the web framework is imported and started in the thread meanwhile (about 0.5 s on a
2-core machine), and early connections wait in the listen backlog instead of delaying the caller.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
#: How long a stopping server waits for requests still in flight.
GRACE_S = 2


class ThreadedServer:
    """One uvicorn server on its own event loop in a daemon thread."""

    def __init__(self, make_app: Callable[[], Any], name: str) -> None:
        self.make_app, self.name = make_app, name
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._port = 0

    def start(self, port: int = 0, *, wait: bool = True, timeout_s: float = 30.0) -> str:
        """Listen on 127.0.0.1:`port` (0: any free port); returns the base URL (with `wait`, once it serves)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        self._port = sock.getsockname()[1]
        self._thread = threading.Thread(target=self._run, args=(sock,), name=self.name, daemon=True)
        self._thread.start()
        if wait:
            self.wait_ready(timeout_s)
        return self.url

    def _run(self, sock: socket.socket) -> None:
        try:
            import uvicorn

            config = uvicorn.Config(
                self.make_app(), log_config=None, access_log=False, lifespan="off", timeout_graceful_shutdown=GRACE_S
            )
            self._server = uvicorn.Server(config)
        except Exception as err:  # reported by wait_ready; the socket closes so clients fail fast
            log.error("the %s server cannot start: %s", self.name, err)
            self._failed = err
            sock.close()
            self._ready.set()
            return
        self._ready.set()
        self._server.run(sockets=[sock])

    def wait_ready(self, timeout_s: float) -> None:
        """Block until the server accepts requests; OSError if it cannot start."""
        deadline = time.monotonic() + timeout_s
        if not self._ready.wait(timeout_s) or self._failed is not None:
            raise OSError(f"the {self.name} server did not start: {self._failed or 'timed out'}")
        while not self._server.started:
            if self._thread is None or not self._thread.is_alive() or time.monotonic() > deadline:
                raise OSError(f"the {self.name} server did not start within {timeout_s:g} s")
            time.sleep(0.002)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    def stop(self) -> None:
        """Ask the server to finish (requests in flight get GRACE_S) and wait for its thread."""
        if self._thread is None:
            return
        self._ready.wait(30)
        if self._server is not None:
            self._server.should_exit = True
        self._thread.join(GRACE_S + 3)
        if self._thread.is_alive():
            log.warning("the %s server did not stop within %d s", self.name, GRACE_S + 3)
        self._server = self._thread = None
