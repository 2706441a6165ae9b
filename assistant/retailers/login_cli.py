"""`assistant retailer login kroger`: link the household's Kroger account (OAuth2 authorisation code).

Prints the authorize URL; the user opens it and consents; Kroger redirects the browser to the registered
redirect URI. With a loopback redirect URI (http://127.0.0.1:PORT/...) the command listens there and
catches the code itself; otherwise (or with --paste) the user pastes the redirected URL or the code.
Tokens go to `<household>/kroger_tokens.json` with 0600 permissions.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import urlsplit

from ..config import Config
from ..errors import ConfigError, RetailerError
from ..storage.models import utcnow

log = logging.getLogger(__name__)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PAGE = b"<html><body><p>The assistant is linked to Kroger. You can close this tab.</p></body></html>"


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("retailer", help="link the assistant to a real shop")
    sub = p.add_subparsers(dest="retailer_command", metavar="COMMAND")
    login = sub.add_parser("login", help="log in to a shop that needs the user's consent (kroger)")
    login.add_argument("shop", choices=["kroger"], help="the shop to log in to")
    login.add_argument("--paste", action="store_true", help="paste the redirected URL instead of listening for it")
    login.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the redirect (default 300)")
    login.set_defaults(func=_login)
    p.set_defaults(func=lambda args, config: p.print_help() or 2)


async def _login(args: argparse.Namespace, config: Config) -> int:
    await run_login(config, paste=args.paste, timeout_s=args.timeout)
    return 0


async def run_login(
    config: Config,
    *,
    paste: bool = False,
    timeout_s: float = 300.0,
    ask: Callable[[str], str] = input,
    say: Callable[[str], None] = print,
    ready: threading.Event | None = None,
) -> None:
    """The whole login: print the URL, get the code (listener or paste), store the tokens."""
    from .kroger import build_oauth, load_settings

    if config.retailer.adapter != "kroger":
        raise ConfigError(
            f"retailer.adapter is {config.retailer.adapter!r}",
            hint="set retailer.adapter: kroger and its retailer.settings (location_id) in config.yml first",
        )
    settings = load_settings(config)
    oauth = build_oauth(config, settings, utcnow)
    request = oauth.login_request()
    redirect = urlsplit(settings.redirect_uri)
    listen = not paste and redirect.scheme == "http" and redirect.hostname in LOOPBACK
    say("Open this address in a browser and allow the assistant to use your Kroger cart:")
    say(request.url)
    if listen:
        say(f"Waiting for Kroger to send the browser back to {settings.redirect_uri} ...")
        redirected = await asyncio.to_thread(wait_for_redirect, settings.redirect_uri, timeout_s, ready)
    else:
        redirected = await asyncio.to_thread(ask, "Paste the address the browser was sent to (or just the code): ")
    await oauth.finish_login(redirected, request)
    say(f"Logged in to Kroger; tokens stored in {oauth.store.path} (readable only by you).")


def wait_for_redirect(redirect_uri: str, timeout_s: float, ready: threading.Event | None = None) -> str:
    """Listen on the loopback redirect URI until the browser arrives; the full redirected URL."""
    target = urlsplit(redirect_uri)
    caught: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """The request line carries the code: never log it."""

        def do_GET(self) -> None:
            if urlsplit(self.path).path != (target.path or "/"):
                self.send_error(404)
                return
            caught.append(f"{target.scheme}://{target.netloc}{self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

    class Listener(HTTPServer):
        timed_out = False

        def handle_timeout(self) -> None:
            self.timed_out = True

    try:
        server = Listener((target.hostname or "127.0.0.1", target.port or 80), Handler)
    except OSError as err:
        raise RetailerError(
            f"cannot listen on {redirect_uri} ({err.strerror})", hint="free that port, or use --paste"
        ) from err
    if ready is not None:
        ready.set()
    deadline = time.monotonic() + timeout_s
    try:
        while not caught and not server.timed_out and (left := deadline - time.monotonic()) > 0:
            server.timeout = left
            server.handle_request()  # one request (perhaps a favicon), or none before `left` runs out
    finally:
        server.server_close()
    if not caught:
        raise RetailerError(f"no redirect arrived within {timeout_s:g} s", hint="run the login again, or use --paste")
    return caught[0]
