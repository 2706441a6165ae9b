"""Kroger's public API on loopback HTTP, following the published shapes (https://developer.kroger.com/reference):
OAuth2 authorize (answers as if the user consented: 302 to redirect_uri?code=..&state=..) and token
(HTTP Basic client auth; authorization_code, refresh_token grants; refresh tokens rotate), GET /v1/products
(filter.term, filter.locationId, filter.limit), GET /v1/products/{id}, PUT /v1/cart/add -> 204.
The cart, which the real API never shows, is kept in `state.cart` so tests can check what landed in it.

Faults: `fail_next` (statuses for the next API calls), `drop_after_commit` (apply the next PUT, then close
the connection without answering), `revoke()` (the current access token answers 401 from now on).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fake_http import JSONHandler, LoopbackServer


@dataclass
class FakeItem:
    upc: str
    description: str
    brand: str
    regular: float
    promo: float = 0.0
    size: str = ""
    stock_level: str = "HIGH"
    delivery: bool = True


@dataclass
class KrogerState:
    client_id: str
    client_secret: str
    clock: Callable[[], datetime]
    location_id: str = "01400943"
    lifetime_s: int = 1800
    products: dict[str, FakeItem] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # code -> redirect_uri
    access: dict[str, datetime] = field(default_factory=dict)  # token -> expiry
    refresh: set[str] = field(default_factory=set)
    cart: dict[tuple[str, str], int] = field(default_factory=dict)
    grants: list[str] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail_status: list[int] = field(default_factory=list)
    drop_after_commit: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(JSONHandler):
    def do_PUT(self) -> None:
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with state.lock:
            state.requests.append((method, url.path))
            if url.path == "/v1/connect/oauth2/authorize":
                return self._authorize(query)
            if url.path == "/v1/connect/oauth2/token" and method == "POST":
                return self._token({k: v[0] for k, v in parse_qs(raw.decode()).items()})
            bearer = self.headers.get("Authorization", "").removeprefix("Bearer ")
            expiry = state.access.get(bearer)
            if expiry is None or state.clock() >= expiry:
                return self._send(401, {"error": "invalid_token", "error_description": "token expired or invalid"})
            if state.fail_status:
                return self._send(state.fail_status.pop(0), {"errors": {"reason": "injected failure"}})
            self._api(method, url.path, query, raw)

    def _authorize(self, query: dict[str, str]) -> None:
        state = self.server.state
        if query.get("client_id") != state.client_id or query.get("response_type") != "code":
            return self._send(400, {"error": "invalid_request"})
        code = secrets.token_urlsafe(12)
        state.codes[code] = query["redirect_uri"]
        target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        self.send_response(302)
        self.send_header("Location", target)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _token(self, form: dict[str, str]) -> None:
        state = self.server.state
        expected = base64.b64encode(f"{state.client_id}:{state.client_secret}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            return self._send(401, {"error": "invalid_client"})
        grant = form.get("grant_type", "")
        state.grants.append(grant)
        if grant == "authorization_code":
            if state.codes.pop(form.get("code", ""), None) != form.get("redirect_uri"):
                return self._send(400, {"error": "invalid_grant", "error_description": "bad code"})
        elif grant == "refresh_token":
            if form.get("refresh_token") not in state.refresh:
                return self._send(400, {"error": "invalid_grant", "error_description": "refresh token expired"})
            state.refresh.discard(form["refresh_token"])
        else:
            return self._send(400, {"error": "unsupported_grant_type"})
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        state.access[access] = state.clock() + timedelta(seconds=state.lifetime_s)
        state.refresh.add(refresh)
        self._send(200, {"access_token": access, "token_type": "bearer", "expires_in": state.lifetime_s,
                         "refresh_token": refresh})  # fmt: skip

    def _api(self, method: str, path: str, query: dict[str, str], raw: bytes) -> None:
        state = self.server.state
        location = query.get("filter.locationId")
        if method == "GET" and path == "/v1/products":
            term = query.get("filter.term", "").lower()
            found = [p for p in state.products.values() if term in p.description.lower()]
            limit = int(query.get("filter.limit", 10))
            data = [self._product(p, location) for p in found[:limit]]
            return self._send(
                200, {"data": data, "meta": {"pagination": {"start": 0, "limit": limit, "total": len(found)}}}
            )
        if method == "GET" and path.startswith("/v1/products/"):
            p = state.products.get(path.rsplit("/", 1)[-1])
            if p is None:
                return self._send(404, {"errors": {"reason": "Product not found"}})
            return self._send(200, {"data": self._product(p, location)})
        if method == "PUT" and path == "/v1/cart/add":
            for item in json.loads(raw)["items"]:
                if item["upc"] not in state.products or item.get("modality") not in ("DELIVERY", "PICKUP"):
                    return self._send(400, {"errors": {"reason": f"invalid item {item}"}})
            for item in json.loads(raw)["items"]:
                slot = (item["upc"], item["modality"])
                state.cart[slot] = state.cart.get(slot, 0) + int(item["quantity"])
            if state.drop_after_commit:
                state.drop_after_commit -= 1
                self.close_connection = True
                return
            return self._send(204, None)
        self._send(404, {"errors": {"reason": f"no route {method} {path}"}})

    def _product(self, p: FakeItem, location: str | None) -> dict[str, Any]:
        item: dict[str, Any] = {"itemId": p.upc, "size": p.size, "favorite": False}
        if location == self.server.state.location_id:  # price and inventory only for a known store
            item["price"] = {"regular": p.regular, "promo": p.promo}
            item["inventory"] = {"stockLevel": p.stock_level}
            item["fulfillment"] = {"curbside": True, "delivery": p.delivery, "inStore": True, "shipToHome": False}
        return {"productId": p.upc, "upc": p.upc, "brand": p.brand, "description": p.description, "items": [item]}


class FakeKroger:
    """A running fake Kroger API: `url` (the /v1 base), its `state`, `close()`."""

    def __init__(
        self, client_id: str, client_secret: str, clock: Callable[[], datetime], items: list[FakeItem]
    ) -> None:
        self.state = KrogerState(client_id, client_secret, clock, products={i.upc: i for i in items})
        self._server = LoopbackServer(_Handler, self.state, "fake-kroger")
        self.url = f"{self._server.url}/v1"

    def revoke(self) -> None:
        with self.state.lock:
            self.state.access.clear()

    def puts(self) -> int:
        return sum(1 for method, path in self.state.requests if (method, path) == ("PUT", "/v1/cart/add"))

    def close(self) -> None:
        self._server.close()


DEMO_ITEMS = [
    FakeItem("0001111041700", "Kroger 2% Reduced Fat Milk", "Kroger", 3.49, size="1 gal"),
    FakeItem("0001111060903", "Kroger Large White Eggs", "Kroger", 2.99, promo=2.49, size="12 ct"),
    FakeItem("0007225003712", "Private Selection Sourdough Bread", "Private Selection", 4.29, size="24 oz"),
    FakeItem("0001111085030", "Kroger Whole Bean Coffee", "Kroger", 8.99, stock_level="TEMPORARILY_OUT_OF_STOCK"),
    FakeItem("0001111091234", "Kroger Oat Milk", "Kroger", 3.79, delivery=False),
]
