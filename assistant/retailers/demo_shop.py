"""The demo shop: a small JSON HTTP shop on loopback, so any household can be tried end to end.

It sells its catalogue plus every product of the household's history that the catalogue lacks, at
the last price paid. Delivery estimates and the order lifecycle follow an injectable clock. Simulated
network latency: `request_delay_ms` holds an order request before the shop commits it,
`response_delay_ms` holds the answer after it has (tests kill the assistant inside these windows).

Endpoints: GET /health, GET /products?q=&limit=, POST /quote, POST /orders, GET /orders?idempotency_key=,
GET /orders/{id}, POST /orders/{id}/cancel. Errors: {"error": {"code": ..., "message": ...}}.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import unicodedata
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from ..history import HistoryProduct
from .base import CancelResult, CatalogueItem, OrderItem, Quote, QuoteLine, RetailerOrder
from .demo_catalogue import ShopProduct, delivery_estimate, lifecycle_state
from .demo_store import ShopOrder, ShopStore
from .http import NOT_FOUND
from .wire import cancel_to_json, item_to_json, order_to_json, quote_to_json

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
#: Most lines in one request, and most units of one line.
MAX_LINES, MAX_QUANTITY = 50, 1000
_MAX_BODY = 64 * 1024


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
        self._server: _Server | None = None

    # --- behaviour ---------------------------------------------------------
    def products(self) -> dict[str, ShopProduct]:
        """The catalogue, plus the household's products it lacks at the last price paid."""
        stocked = dict(self.catalogue)
        for p in self.household():
            stocked.setdefault(p.sku, ShopProduct(p.sku, p.name, p.brand, p.last_unit_price_minor, p.currency))
        return stocked

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
    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1:`port` (0: any free port) in a daemon thread; returns the base URL."""
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.shop = self
        server = self._server
        threading.Thread(target=lambda: server.serve_forever(poll_interval=0.1), name="demo-shop", daemon=True).start()
        log.info("demo shop listening on %s (state in %s)", self.url, self.store.path)
        return self.url

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the demo shop is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        """Stop serving; requests held in simulated latency are dropped uncommitted."""
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    shop: DemoShop


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "DemoShop/1"

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("demo shop: " + format, *args)

    def _handle(self, method: str) -> None:
        shop = self.server.shop
        url = urlsplit(self.path)
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        try:
            if parts != ["health"] and not self._authorised(shop):
                raise ShopRefusal(401, "unauthorised", "missing or wrong bearer token")
            status, payload = _route(shop, method, parts, parse_qs(url.query), self._body)
        except ShopRefusal as refusal:
            status, payload = refusal.status, {"error": {"code": refusal.code, "message": refusal.message}}
        placed = method == "POST" and parts == ["orders"] and status in (200, 201)
        if placed and not shop.hold(shop.response_delay_s):
            return  # stopping: the connection drops unanswered, as when a network fails
        self._send(status, payload)

    def _authorised(self, shop: DemoShop) -> bool:
        if not shop.token:
            return True
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {shop.token}".encode())

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if length > _MAX_BODY:
            raise ShopRefusal(413, "too_large", "request body too large")
        try:
            return json.loads(self.rfile.read(length) or b"{}")
        except ValueError as err:
            raise ShopRefusal(400, "bad_json", f"request body is not JSON: {err}") from None

    def _send(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up waiting (its timeout): what was stored stays stored, and the client
            # finds it by idempotency key.
            log.info("client left before the answer to %s %s", self.command, self.path)


def _route(
    shop: DemoShop, method: str, parts: list[str], query: dict[str, list[str]], body: Callable[[], Any]
) -> tuple[int, Any]:
    arg = {k: v[-1] for k, v in query.items()}
    match method, parts:
        case "GET", ["health"]:
            return 200, {"status": "ok", "shop": "demo"}
        case "GET", ["products"]:
            limit = arg.get("limit", "10")
            if not limit.isdigit():
                raise ShopRefusal(400, "bad_request", f"limit must be a whole number, got {limit!r}")
            return 200, {"products": [item_to_json(_item(p)) for p in shop.search(arg.get("q", ""), int(limit))]}
        case "POST", ["quote"]:
            return 200, quote_to_json(shop.quote(_items(body()))[0])
        case "POST", ["orders"]:
            data = body()
            key = data.get("idempotency_key") if isinstance(data, dict) else None
            if not isinstance(key, str) or not 8 <= len(key) <= 200:
                raise ShopRefusal(400, "bad_request", "idempotency_key must be a string of 8 to 200 characters")
            items = _items(data)
            if not shop.hold(shop.request_delay_s):
                raise ShopRefusal(503, "stopping", "the demo shop is stopping")
            order, created = shop.place(key, items)
            return (201 if created else 200), order_to_json(order)
        case "GET", ["orders"] if "idempotency_key" in arg:
            return 200, order_to_json(shop.find(arg["idempotency_key"]))
        case "GET", ["orders", order_id]:
            return 200, order_to_json(shop.status(order_id))
        case "POST", ["orders", order_id, "cancel"]:
            return 200, cancel_to_json(shop.cancel(order_id))
    raise ShopRefusal(404, "no_such_endpoint", f"no endpoint {method} /{'/'.join(parts)}")


def _items(data: Any) -> list[OrderItem]:
    raw = data.get("items") if isinstance(data, dict) else None
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_LINES:
        raise ShopRefusal(400, "bad_request", f"items must be a list of 1 to {MAX_LINES} {{sku, quantity}} objects")
    items = []
    for n, item in enumerate(raw):
        sku = item.get("sku") if isinstance(item, dict) else None
        quantity = item.get("quantity") if isinstance(item, dict) else None
        if not isinstance(sku, str) or not sku.strip():
            raise ShopRefusal(400, "bad_request", f"items[{n}].sku must be a non-empty string")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 < quantity <= MAX_QUANTITY:
            message = f"items[{n}].quantity must be a whole number from 1 to {MAX_QUANTITY}"
            raise ShopRefusal(400, "bad_request", message)
        items.append(OrderItem(sku, quantity))
    if len({i.sku for i in items}) < len(items):
        raise ShopRefusal(400, "bad_request", "each sku may appear only once; put the total quantity on one line")
    return items


def _item(p: ShopProduct) -> CatalogueItem:
    return CatalogueItem(p.sku, p.name, p.brand, p.unit_price_minor, p.currency, p.in_stock)
