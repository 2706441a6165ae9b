"""Build the configured retailer adapter: `demo` (the local demo shop), `http`, or an entry point.

Each adapter validates `retailer.settings` into its own dataclass, so an unknown or invalid key
fails with its path. Tokens come from the environment, never from config.yml.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ..config import Config
from ..errors import ConfigError
from ..money import check_currency
from ..storage.models import utcnow
from ..typed import from_mapping
from .base import Retailer
from .demo_catalogue import load_catalogue
from .demo_shop import DemoShop
from .demo_store import ShopStore
from .http import HTTPRetailer

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
#: Environment variable holding the bearer token of the `http` adapter (and of `assistant store serve`).
TOKEN_ENV = "ASSISTANT_RETAILER_TOKEN"
#: Entry-point group of third-party adapters: `name = "package.module:factory"`, factory(config, engine, clock).
ENTRY_POINT_GROUP = "assistant.retailers"
SETTINGS_PATH = "retailer.settings"
#: The demo shop's state file, in the household folder.
DEMO_STATE_FILE = "demo_retailer.sqlite"


@dataclass(frozen=True)
class DemoSettings:
    """`retailer.settings` of the `demo` adapter."""

    catalogue: str = "data/demo/catalogue.csv"
    """Catalogue CSV (relative to the config file)."""
    currency: str = "EUR"
    """Currency of catalogue rows that leave theirs empty."""
    request_delay_ms: int = 0
    """Simulated latency before the shop commits an order."""
    response_delay_ms: int = 0
    """Simulated latency after the shop committed an order, before it answers."""
    timeout_s: float = 10.0
    """The assistant's timeout for one shop call."""

    def validate(self, path: str) -> None:
        try:
            check_currency(self.currency)
        except ValueError as err:
            raise ConfigError(f"{path}.currency: {err}") from err
        for key in ("request_delay_ms", "response_delay_ms"):
            if not 0 <= getattr(self, key) <= 600_000:
                raise ConfigError(f"{path}.{key}: expected milliseconds from 0 to 600000")
        if not 0 < self.timeout_s <= 300:
            raise ConfigError(f"{path}.timeout_s: expected seconds between 0 and 300")


@dataclass(frozen=True)
class HTTPSettings:
    """`retailer.settings` of the `http` adapter (the token comes from ASSISTANT_RETAILER_TOKEN)."""

    url: str
    """Base URL of the shop's API, e.g. http://127.0.0.1:8765."""
    timeout_s: float = 10.0
    """Timeout of one shop call."""
    name: str = "http"
    """Name the shop is called by in messages."""

    def validate(self, path: str) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"{path}.url: expected an http:// or https:// URL, got {self.url!r}")
        if not 0 < self.timeout_s <= 300:
            raise ConfigError(f"{path}.timeout_s: expected seconds between 0 and 300")


class LocalDemoRetailer(HTTPRetailer):
    """An HTTPRetailer that owns the in-process demo shop it talks to; closing it stops the shop."""

    def __init__(self, shop: DemoShop, token: str, timeout_s: float) -> None:
        super().__init__(shop.url, token=token, timeout_s=timeout_s, name="demo")
        self.shop = shop

    def close(self) -> None:
        self.shop.close()

    async def aclose(self) -> None:
        self.shop.close()


def create_retailer(config: Config, engine: Engine, clock: Clock = utcnow) -> Retailer:
    """The adapter named by `retailer.adapter`, ready to use."""
    adapter = config.retailer.adapter
    if adapter == "demo":
        settings = from_mapping(DemoSettings, config.retailer.settings, SETTINGS_PATH)
        token = secrets.token_urlsafe(24)
        shop = build_demo_shop(config, engine, clock, settings, token=token)
        shop.start(wait=False)  # the web framework loads while the rest of the app starts
        return LocalDemoRetailer(shop, token, settings.timeout_s)
    if adapter == "http":
        http = from_mapping(HTTPSettings, config.retailer.settings, SETTINGS_PATH)
        return HTTPRetailer(http.url, token=os.environ.get(TOKEN_ENV) or None, timeout_s=http.timeout_s, name=http.name)
    return _from_entry_point(adapter, config, engine, clock)


def build_demo_shop(
    config: Config, engine: Engine, clock: Clock, settings: DemoSettings, *, token: str | None
) -> DemoShop:
    """The demo shop of this household (not started): its catalogue, its state file, the household's products."""
    from ..history import household_products

    catalogue = load_catalogue(config.resolve(settings.catalogue), settings.currency)
    return DemoShop(
        catalogue,
        ShopStore(config.home / DEMO_STATE_FILE),
        clock=clock,
        household=lambda: household_products(engine),
        token=token,
        request_delay_ms=settings.request_delay_ms,
        response_delay_ms=settings.response_delay_ms,
    )


def _from_entry_point(adapter: str, config: Config, engine: Engine, clock: Clock) -> Retailer:
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if adapter not in found:
        known = ", ".join(sorted({"demo", "http", *found}))
        raise ConfigError(f"retailer.adapter: unknown adapter {adapter!r} (expected one of: {known})")
    try:
        factory = found[adapter].load()
        retailer = factory(config, engine, clock)
    except ConfigError:
        raise
    except Exception as err:  # a third-party package failed to load: say which one
        raise ConfigError(f"retailer.adapter: adapter {adapter!r} failed to load ({err})") from err
    if not isinstance(retailer, Retailer):
        raise ConfigError(f"retailer.adapter: {adapter!r} did not build a retailer (got {type(retailer).__name__})")
    return retailer


# --- `assistant store serve` (alias: `assistant shop serve`) ---------------------------
def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    for command, about in (("store", "the reference store (HTTP)"), ("shop", "alias of `store`")):
        p = subparsers.add_parser(command, help=about)
        sub = p.add_subparsers(dest="store_command", metavar="COMMAND")
        serve = sub.add_parser(
            "serve", help="serve the reference store on 127.0.0.1 until Ctrl-C (for the `http` adapter)"
        )
        serve.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0: any free port)")
        serve.add_argument("--catalogue", type=Path, help="catalogue CSV (default: retailer.settings.catalogue)")
        serve.set_defaults(func=_serve)
        p.set_defaults(func=lambda args, config, p=p: p.print_help() or 2)


def _serve(args: argparse.Namespace, config: Config) -> int:
    from ..storage.db import open_db

    raw: dict[str, Any] = dict(config.retailer.settings) if config.retailer.adapter == "demo" else {}
    if args.catalogue:
        raw["catalogue"] = str(args.catalogue.resolve())
    settings = from_mapping(DemoSettings, raw, SETTINGS_PATH)
    if not 0 <= args.port < 65536:
        raise ConfigError(f"--port: expected a port number from 0 to 65535, got {args.port}")
    shop = build_demo_shop(config, open_db(config.db_path), utcnow, settings, token=os.environ.get(TOKEN_ENV) or None)
    try:
        url = shop.start(args.port)
    except OSError as err:
        raise ConfigError(f"--port {args.port}: cannot listen on it ({err.strerror})") from err
    auth = f"bearer token from {TOKEN_ENV}" if shop.token else f"no token (set {TOKEN_ENV} to require one)"
    print(
        f"Reference store serving household {config.home} at {url} ({auth}); API schema at {url}/openapi.json;"
        " Ctrl-C to stop",
        flush=True,
    )
    try:
        threading.Event().wait()
    finally:
        shop.close()
    return 0
