"""The reference store's HTTP API (FastAPI) over the demo shop's behaviour (`DemoShop`).

Endpoints: GET /health, GET /products?q=&limit=, PUT /products/{sku}/price, POST /quote, POST /orders,
GET /orders?idempotency_key=, GET /orders/{id}, POST /orders/{id}/cancel; the schema is at /openapi.json.
Every error is `{"error": {"code": ..., "message": ...}}`. With a token, every endpoint but /health
and the schema wants `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException

from .base import CatalogueItem, OrderItem
from .demo_shop import DemoShop, ShopRefusal
from .store_schema import (
    CancelOut,
    ErrorOut,
    ItemsIn,
    OrderIn,
    OrderOut,
    PriceIn,
    ProductOut,
    ProductsOut,
    QuoteOut,
)
from .wire import cancel_to_json, item_to_json, order_to_json, quote_to_json

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
_bearer = HTTPBearer(auto_error=False, description="The token of `assistant store serve` (ASSISTANT_RETAILER_TOKEN).")
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (400, 401, 404, 409, 413, 422, 503)}


def build_app(shop: DemoShop) -> FastAPI:
    """The store's ASGI app, serving `shop`."""

    def authorised(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
        given = credentials.credentials if credentials else ""
        if shop.token and not hmac.compare_digest(given.encode(), shop.token.encode()):
            raise ShopRefusal(401, "unauthorised", "missing or wrong bearer token")

    app = FastAPI(title="assistant reference store", version="1", docs_url=None, redoc_url=None)
    _errors(app)
    guarded: list[Any] = [Depends(authorised)]

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "shop": "demo"}

    @app.get("/products", response_model=ProductsOut, responses=_ERRORS, dependencies=guarded)
    def products(q: str = "", limit: Annotated[int, Query(ge=0, le=1000)] = 10) -> Any:
        found = shop.search(q, limit)
        return {
            "products": [
                item_to_json(CatalogueItem(p.sku, p.name, p.brand, p.unit_price_minor, p.currency, p.in_stock))
                for p in found
            ]
        }

    @app.put("/products/{sku}/price", response_model=ProductOut, responses=_ERRORS, dependencies=guarded)
    def set_price(sku: str, body: PriceIn) -> Any:
        p = shop.set_price(sku, body.unit_price_minor)
        return item_to_json(CatalogueItem(p.sku, p.name, p.brand, p.unit_price_minor, p.currency, p.in_stock))

    @app.post("/quote", response_model=QuoteOut, responses=_ERRORS, dependencies=guarded)
    def quote(body: ItemsIn) -> Any:
        return quote_to_json(shop.quote(_items(body))[0])

    @app.post("/orders", response_model=OrderOut, responses=_ERRORS, dependencies=guarded, status_code=201)
    def place(body: OrderIn) -> Any:
        if not shop.hold(shop.request_delay_s):
            raise ShopRefusal(503, "stopping", "the shop is stopping; the order was not stored")
        order, created = shop.place(body.idempotency_key, _items(body))
        if not shop.hold(shop.response_delay_s):
            raise ShopRefusal(503, "stopping", "the shop stopped before answering; ask for the order by its key")
        return JSONResponse(order_to_json(order), status_code=201 if created else 200)

    @app.get("/orders", response_model=OrderOut, responses=_ERRORS, dependencies=guarded)
    def find(idempotency_key: str) -> Any:
        return order_to_json(shop.find(idempotency_key))

    @app.get("/orders/{order_id}", response_model=OrderOut, responses=_ERRORS, dependencies=guarded)
    def status(order_id: str) -> Any:
        return order_to_json(shop.status(order_id))

    @app.post("/orders/{order_id}/cancel", response_model=CancelOut, responses=_ERRORS, dependencies=guarded)
    def cancel(order_id: str) -> Any:
        return cancel_to_json(shop.cancel(order_id))

    return app


def _items(body: ItemsIn) -> list[OrderItem]:
    return [OrderItem(i.sku, i.quantity) for i in body.items]


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _errors(app: FastAPI) -> None:
    """Every failure answers with the same error JSON."""

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Any:
        length = request.headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_BODY:
            return _error(413, "too_large", f"request body too large (at most {MAX_BODY} bytes)")
        return await call_next(request)

    @app.exception_handler(ShopRefusal)
    async def refused(request: Request, exc: ShopRefusal) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        if any(p.get("type") == "json_invalid" for p in problems):
            return _error(400, "bad_json", "request body is not JSON")
        text = "; ".join(f"{'.'.join(str(x) for x in p['loc'][1:]) or 'body'}: {p['msg']}" for p in problems[:3])
        return _error(400, "bad_request", text)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code in (404, 405):
            return _error(404, "no_such_endpoint", f"no endpoint {request.method} {request.url.path}")
        return _error(exc.status_code, "http_error", str(exc.detail))
