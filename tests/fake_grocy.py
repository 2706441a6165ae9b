"""A Grocy instance on loopback HTTP, following the shapes of Grocy's published OpenAPI document
(https://github.com/grocy/grocy/blob/master/grocy.openapi.json, served at /api/openapi/specification):
GROCY-API-KEY auth, `query[]` filter conditions (`=`, `~` LIKE), {"error_message"} errors, the generic
/api/objects/{entity} routes, /api/stock, /api/stock/products/{id} (last_price, avg_price), /api/system/config.

Faults for tests: `fail_next(status)` answers the next request with an error; `drop_after_commit`
commits the next write and then closes the connection without answering (the client times out).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.fake_http import JSONHandler, LoopbackServer


@dataclass
class FakeProduct:
    id: int
    name: str
    last_price: float | None = None
    avg_price: float | None = None
    stock: float = 0.0
    active: int = 1


@dataclass
class GrocyState:
    api_key: str
    currency: str = "EUR"
    products: dict[int, FakeProduct] = field(default_factory=dict)
    shopping_list: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_row: int = 1
    requests: list[tuple[str, str]] = field(default_factory=list)
    fail_status: list[int] = field(default_factory=list)
    drop_after_commit: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _matches(obj: dict[str, Any], condition: str) -> bool:
    for op in ("!=", "~", "="):
        name, sep, value = condition.partition(op)
        if sep:
            have = "" if obj.get(name) is None else str(obj.get(name))
            if op == "~":  # Grocy: LIKE '%value%' (SQLite LIKE is case-insensitive for ASCII)
                return value.lower() in have.lower()
            return (have == value) == (op == "=")
    raise ValueError(f"bad condition {condition!r}")


class _Handler(JSONHandler):
    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        with state.lock:
            state.requests.append((method, url.path))
            if self.headers.get("GROCY-API-KEY") != state.api_key:
                return self._send(401, {"error_message": "Unauthorized"})
            if state.fail_status:
                return self._send(state.fail_status.pop(0), {"error_message": "injected failure"})
            try:
                status, answer = self._route(method, url.path, query, body)
            except LookupError as err:
                return self._send(400, {"error_message": str(err)})
            if method != "GET" and state.drop_after_commit:
                state.drop_after_commit -= 1
                self.close_connection = True
                return  # committed, never answered
            self._send(status, answer)

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        state = self.server.state
        parts = path.removeprefix("/api/").split("/")
        if (method, parts) == ("GET", ["system", "config"]):
            return 200, {"CURRENCY": state.currency, "BASE_URL": "/"}
        if (method, parts) == ("GET", ["stock"]):
            return 200, [
                {"product_id": p.id, "amount": p.stock, "amount_opened": 0, "product": self._product(p)}
                for p in state.products.values()
                if p.stock > 0
            ]
        if method == "GET" and parts[:2] == ["stock", "products"] and len(parts) == 3:
            p = state.products.get(int(parts[2])) if parts[2].isdigit() else None
            if p is None:
                raise LookupError("Product does not exist")
            return 200, {"product": self._product(p), "stock_amount": p.stock, "last_price": p.last_price,
                         "avg_price": p.avg_price, "last_purchased": None}  # fmt: skip
        if parts[0] == "objects" and len(parts) in (2, 3):
            return self._objects(method, parts[1], parts[2] if len(parts) == 3 else None, query, body)
        return 404, {"error_message": f"no route {method} {path}"}

    def _objects(self, method: str, entity: str, obj_id: str | None, query: dict[str, list[str]], body: Any) -> Any:
        state = self.server.state
        if entity == "products" and method == "GET" and obj_id is None:
            found = [self._product(p) for p in state.products.values()]
            return 200, self._filter(found, query)
        if entity != "shopping_list":
            return 404, {"error_message": f"entity {entity} not served by the fake"}
        if method == "GET" and obj_id is None:
            return 200, self._filter(list(state.shopping_list.values()), query)
        if method == "POST" and obj_id is None:
            if int(body["product_id"]) not in state.products:
                raise LookupError("FOREIGN KEY constraint failed: product_id")
            row = {"id": state.next_row, "shopping_list_id": body.get("shopping_list_id", 1), "done": 0}
            row |= {"product_id": int(body["product_id"]), "amount": body.get("amount", 0), "note": body.get("note")}
            state.shopping_list[row["id"]] = row
            state.next_row += 1
            return 200, {"created_object_id": row["id"]}
        row_id = int(obj_id or 0)
        if row_id not in state.shopping_list:
            return 404, {"error_message": "Object not found"}
        if method == "GET":
            return 200, state.shopping_list[row_id]
        if method == "DELETE":
            del state.shopping_list[row_id]
            return 204, None
        return 405, {"error_message": "method not allowed"}

    @staticmethod
    def _product(p: FakeProduct) -> dict[str, Any]:
        return {"id": p.id, "name": p.name, "active": p.active, "qu_id_stock": 1, "qu_id_purchase": 1}

    @staticmethod
    def _filter(objs: list[dict[str, Any]], query: dict[str, list[str]]) -> list[dict[str, Any]]:
        for condition in query.get("query[]", []):
            objs = [o for o in objs if _matches(o, condition)]
        if "order" in query:
            objs.sort(key=lambda o: str(o.get(query["order"][0].split(":")[0], "")))
        if "limit" in query:
            objs = objs[: int(query["limit"][0])]
        return objs


class FakeGrocy:
    """A running fake Grocy: `url`, its `state`, `close()`."""

    def __init__(self, api_key: str, products: list[FakeProduct], currency: str = "EUR") -> None:
        self.state = GrocyState(api_key=api_key, currency=currency, products={p.id: p for p in products})
        self._server = LoopbackServer(_Handler, self.state, "fake-grocy")
        self.url = self._server.url

    def posts(self) -> int:
        return sum(1 for method, _ in self.state.requests if method == "POST")

    def close(self) -> None:
        self._server.close()


DEMO_PRODUCTS = [
    FakeProduct(1, "Whole milk 1 l", last_price=1.15, avg_price=1.1, stock=2),
    FakeProduct(2, "Oat drink 1 l", last_price=1.99, stock=0),
    FakeProduct(3, "Coffee beans 1 kg", last_price=14.9, avg_price=14.5, stock=1),
    FakeProduct(4, "Sourdough bread", avg_price=3.2),
    FakeProduct(5, "Dish soap", last_price=None, avg_price=None),
    FakeProduct(6, "Old crackers", last_price=2.0, active=0),
]
