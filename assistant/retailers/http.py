"""A retailer reached over JSON HTTP (the demo shop, or any shop speaking the same small API).

One httpx client per call: the assistant makes a handful of shop calls per conversation, and a
client bound to no event loop works the same from the voice loop, the CLI and each test's loop.
Timeouts, refused connections, 5xx and unreadable answers raise `RetailerUnavailable` (the outcome
is unknown; an order sent with an idempotency key may be sent again); 429 and 503 raise
`RetailerBusy` with the `Retry-After` wait; other 4xx answers are refusals and raise `RetailerError`
with the shop's own message.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any
from urllib.parse import quote as url_quote

import httpx

from ..errors import RetailerError, RetailerUnavailable
from .base import CancelResult, CatalogueItem, OrderItem, Quote, RetailerOrder
from .retry import RetailerBusy, parse_retry_after
from .wire import cancel_from_json, item_from_json, items_to_json, order_from_json, quote_from_json

log = logging.getLogger(__name__)
#: Error code a shop answers with when it has no order for an idempotency key.
NOT_FOUND = "order_not_found"
_TLS: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    """One verifying TLS context for every call (building one costs more than the call itself)."""
    global _TLS
    if _TLS is None:
        _TLS = ssl.create_default_context()
    return _TLS


class HTTPRetailer:
    """The `Retailer` protocol over JSON HTTP."""

    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = 10.0, name: str = "http") -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name
        self._token = token
        self._timeout = httpx.Timeout(timeout_s)
        self._timeout_s = timeout_s

    def __repr__(self) -> str:  # never shows the token
        return f"HTTPRetailer({self.base_url!r}, name={self.name!r})"

    async def search(self, query: str, limit: int = 10) -> list[CatalogueItem]:
        data = await self._call("GET", "/products", params={"q": query, "limit": limit})
        return self._decode(lambda: [item_from_json(p, f"products[{n}]") for n, p in enumerate(data["products"])])

    async def quote(self, items: list[OrderItem]) -> Quote:
        data = await self._call("POST", "/quote", json={"items": items_to_json(items)})
        return self._decode(lambda: quote_from_json(data))

    async def place_order(self, items: list[OrderItem], idempotency_key: str) -> RetailerOrder:
        body = {"items": items_to_json(items), "idempotency_key": idempotency_key}
        data = await self._call("POST", "/orders", json=body, headers={"Idempotency-Key": idempotency_key})
        return self._decode(lambda: order_from_json(data))

    async def find_order(self, idempotency_key: str) -> RetailerOrder | None:
        data = await self._call("GET", "/orders", params={"idempotency_key": idempotency_key}, not_found_ok=True)
        return None if data is None else self._decode(lambda: order_from_json(data))

    async def status(self, retailer_order_id: str) -> RetailerOrder:
        data = await self._call("GET", f"/orders/{url_quote(retailer_order_id, safe='')}")
        return self._decode(lambda: order_from_json(data))

    async def cancel(self, retailer_order_id: str) -> CancelResult:
        data = await self._call("POST", f"/orders/{url_quote(retailer_order_id, safe='')}/cancel")
        return self._decode(lambda: cancel_from_json(data))

    async def aclose(self) -> None:
        """Nothing to release: clients live for one call."""

    def close(self) -> None:
        """Nothing to release: clients live for one call."""

    # --- plumbing ---------------------------------------------------------
    async def _call(
        self, method: str, path: str, *, not_found_ok: bool = False, headers: dict[str, str] | None = None, **kw: Any
    ) -> Any:
        headers = {"Accept": "application/json", **(headers or {})}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        url = self.base_url + path
        try:
            async with httpx.AsyncClient(timeout=self._timeout, verify=_tls(), trust_env=False) as client:
                response = await client.request(method, url, headers=headers, **kw)
        except httpx.TimeoutException as err:
            raise RetailerUnavailable(
                f"the {self.name} shop did not answer within {self._timeout_s:g} s", retry_safe=True
            ) from err
        except httpx.TransportError as err:
            raise RetailerUnavailable(
                f"cannot reach the {self.name} shop at {self.base_url} ({err})", retry_safe=True
            ) from err
        return self._answer(response, method, path, not_found_ok)

    def _answer(self, response: httpx.Response, method: str, path: str, not_found_ok: bool) -> Any:
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.is_success:
            if not isinstance(data, dict):
                raise RetailerUnavailable(
                    f"the {self.name} shop sent an answer that is not JSON ({method} {path})", retry_safe=True
                )
            return data
        error = data.get("error") if isinstance(data, dict) else None
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else None
        if response.status_code == 404 and not_found_ok and code == NOT_FOUND:
            return None
        message = str(message or f"HTTP {response.status_code} {response.reason_phrase}")
        log.info("%s %s → %d %s", method, path, response.status_code, message)
        if response.status_code in (429, 503):
            wait = parse_retry_after(response.headers.get("Retry-After"))
            raise RetailerBusy(f"the {self.name} shop is busy: {message}", retry_after_s=wait)
        if response.status_code >= 500:
            raise RetailerUnavailable(f"the {self.name} shop failed: {message}", retry_safe=True)
        if response.status_code in (401, 403):
            raise RetailerError(
                f"the {self.name} shop refused the credentials: {message}", hint="check ASSISTANT_RETAILER_TOKEN"
            )
        raise RetailerError(message)

    def _decode(self, build: Any) -> Any:
        """An unreadable answer leaves the outcome unknown (an order may exist): unavailable, not refused."""
        try:
            return build()
        except (ValueError, KeyError, TypeError) as err:
            raise RetailerUnavailable(
                f"the {self.name} shop sent an answer I cannot read: {err}", retry_safe=True
            ) from err
