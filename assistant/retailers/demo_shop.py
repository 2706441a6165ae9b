"""The demo shop's behaviour (the reference store): catalogue, quotes, orders by idempotency key, lifecycle.

It sells its catalogue plus every product of the household's history that the catalogue lacks, at
the last price paid. Delivery estimates and the order lifecycle follow an injectable clock. Simulated
network latency: `request_delay_ms` holds an order request before the shop commits it,
`response_delay_ms` holds the answer after it has (tests kill the assistant inside these windows).

`start()` serves it over HTTP on 127.0.0.1 (FastAPI + uvicorn, see store_app.py for the endpoints);
`assistant store serve` runs it as its own process.
"""

from __future__ import annotations

import json
import logging
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..history import HistoryProduct
from .base import CancelResult, CatalogueItem, OrderItem, Quote, QuoteLine, RetailerOrder
from .demo_catalogue import ShopProduct, delivery_estimate, lifecycle_state
from .demo_store import ShopOrder, ShopStore
from .http import NOT_FOUND

if TYPE_CHECKING:
    from .store_server import ThreadedServer

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


class ShopRefusal(Exception):
    """A request the shop answers with an HTTP error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class DemoShop:
    """The shop's behaviour, independent of HTTP; `start()` serves it on 127.0.0.1."""

    def __init__(
        self,
        catalogue: dict[str, ShopProduct],
        store: ShopStore,
        *,
        clock: Clock,
        household: Callable[[], list[HistoryProduct]] | None = None,
        token: str | None = None,
        request_delay_ms: int = 0,
        response_delay_ms: int = 0,
    ) -> None:
        self.catalogue, self.store, self.clock = catalogue, store, clock
        self.household = household or (lambda: [])
        self.token = token
        self.request_delay_s, self.response_delay_s = request_delay_ms / 1000, response_delay_ms / 1000
        self.stopping = threading.Event()
        self._server: ThreadedServer | None = None

    # --- behaviour ---------------------------------------------------------
    def products(self) -> dict[str, ShopProduct]:
        """The catalogue, plus the household's products it lacks at the last price paid."""
        stocked = dict(self.catalogue)
        for p in self.household():
            stocked.setdefault(p.sku, ShopProduct(p.sku, p.name, p.brand, p.last_unit_price_minor, p.currency))
        return stocked

    def set_price(self, sku: str, unit_price_minor: int) -> ShopProduct:
        """Change a catalogue product's price from now on (orders already placed keep theirs)."""
        if sku not in self.catalogue:
            raise ShopRefusal(404, "unknown_sku", f"the demo shop's catalogue has no sku {sku}")
        if not 0 <= unit_price_minor <= 10_000_000:
            raise ShopRefusal(400, "bad_request", "unit_price_minor must be a whole number from 0 to 10000000")
        self.catalogue[sku] = replace(self.catalogue[sku], unit_price_minor=unit_price_minor)
        return self.catalogue[sku]

    def search(self, query: str, limit: int) -> list[ShopProduct]:
        words = _fold(query).split()
        scored = []
        for p in self.products().values():
            text = _fold(f"{p.name} {p.brand} {p.sku}")
            score = sum(word in text for word in words)
            if score or not words:
                scored.append((-score, p.name, p))
        return [p for *_, p in sorted(scored, key=lambda s: (s[0], s[1]))][:limit]

    def quote(self, items: list[OrderItem]) -> tuple[Quote, list[ShopProduct]]:
        stocked = self.products()
        unknown = [i.sku for i in items if i.sku not in stocked]
        if unknown:
            raise ShopRefusal(404, "unknown_sku", f"the demo shop does not sell sku {', '.join(unknown)}")
        products = [stocked[i.sku] for i in items]
        currencies = sorted({p.currency for p in products})
        if len(currencies) > 1:
            raise ShopRefusal(
                422,
                "mixed_currencies",
                f"these products are priced in {' and '.join(currencies)}; order them separately",
            )
        lines = tuple(
            QuoteLine(p.sku, p.name, i.quantity, p.unit_price_minor, p.currency, p.in_stock)
            for p, i in zip(products, items, strict=True)
        )
        estimate = delivery_estimate(self.clock(), max(p.delivery_days for p in products))
        total = sum(line.quantity * line.unit_price_minor for line in lines)
        return Quote(lines, total, currencies[0], estimate), products

    def place(self, key: str, items: list[OrderItem]) -> tuple[RetailerOrder, bool]:
        """The order for `key`: new (True), or the one already placed with it (False)."""
        canonical = json.dumps(sorted((i.sku, i.quantity) for i in items))
        existing = self.store.by_key(key)
        if existing is None:
            quote, products = self.quote(items)
            missing = [p.name for p in products if not p.in_stock]
            if missing:
                raise ShopRefusal(409, "out_of_stock", f"{', '.join(missing)} is out of stock")
            now = self.clock()
            order = ShopOrder(
                "", key, canonical, quote.lines, quote.total_minor, quote.currency, now, quote.delivery_estimate, None
            )
            existing, created = self.store.add(order)
        else:
            created = False
        if existing.items != canonical:
            raise ShopRefusal(
                409,
                "idempotency_key_reused",
                f"idempotency key {key} was already used for a different order ({existing.retailer_order_id})",
            )
        return self._public(existing), created

    def find(self, key: str) -> RetailerOrder:
        order = self.store.by_key(key)
        if order is None:
            raise ShopRefusal(404, NOT_FOUND, "no order was placed with this idempotency key")
        return self._public(order)

    def status(self, retailer_order_id: str) -> RetailerOrder:
        return self._public(self._stored(retailer_order_id))

    def cancel(self, retailer_order_id: str) -> CancelResult:
        state = self._public(self._stored(retailer_order_id)).state
        if state == "placed":
            self.store.cancel(retailer_order_id, self.clock())
            return CancelResult(True)
        reasons = {"shipped": "it has already shipped", "delivered": "it was already delivered"}
        return CancelResult(state == "cancelled", reasons.get(state, "it was already cancelled"))

    def _stored(self, retailer_order_id: str) -> ShopOrder:
        order = self.store.by_id(retailer_order_id)
        if order is None:
            raise ShopRefusal(404, "unknown_order", f"the demo shop has no order {retailer_order_id}")
        return order

    def _public(self, order: ShopOrder) -> RetailerOrder:
        state = lifecycle_state(order.placed_at, order.delivery_estimate, self.clock(), order.cancelled_at is not None)
        return RetailerOrder(
            order.retailer_order_id,
            order.idempotency_key,
            state,
            order.lines,
            order.total_minor,
            order.currency,
            order.delivery_estimate,
        )

    def hold(self, seconds: float) -> bool:
        """Simulated latency; False if the shop is stopping meanwhile."""
        return not (seconds and self.stopping.wait(seconds))

    # --- serving -----------------------------------------------------------
    def start(self, port: int = 0, *, wait: bool = True) -> str:
        """Serve on 127.0.0.1:`port` (0: any free port) in a daemon thread; returns the base URL.
        Without `wait` it returns once the port listens, while the web framework loads in the thread."""
        from .store_server import ThreadedServer

        def make_app() -> Any:
            from .store_app import build_app

            return build_app(self)

        server = ThreadedServer(make_app, "demo-shop")
        self.stopping.clear()
        server.start(port, wait=wait)
        self._server = server
        log.info("demo shop listening on %s (state in %s)", self.url, self.store.path)
        return self.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the demo shop is not started")
        return self._server.url

    def close(self) -> None:
        """Stop serving; requests held in simulated latency are dropped uncommitted."""
        self.stopping.set()
        if self._server is not None:
            self._server.stop()
            self._server = None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _item(p: ShopProduct) -> CatalogueItem:
    return CatalogueItem(p.sku, p.name, p.brand, p.unit_price_minor, p.currency, p.in_stock)
