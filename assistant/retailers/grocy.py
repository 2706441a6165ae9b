"""Grocy (self-hosted household stock manager) as a retailer: "placing" an order puts it on Grocy's shopping list.

For households that shop in person. Follows Grocy's published REST API (OpenAPI document served by every
instance at /api/openapi/specification; source: https://github.com/grocy/grocy/blob/master/grocy.openapi.json):
  GET  /api/objects/products?query[]=name~TERM&order=name&limit=N   products (search)
  GET  /api/stock/products/{productId}                              name, stock amount, last_price/avg_price
  GET  /api/stock                                                   what the household has at home
  GET  /api/system/config                                           CURRENCY
  GET  /api/objects/shopping_list?query[]=note~KEY                  list rows carrying an order's key
  POST /api/objects/shopping_list  {product_id, amount, note, shopping_list_id} -> {"created_object_id": N}
  DELETE /api/objects/shopping_list/{id}                            cancel
Auth is the GROCY-API-KEY header. Errors are {"error_message": "..."} (Error400/Error500).

Rows are added with the generic objects endpoint, not /api/stock/shoppinglist/add-product, because
add-product merges into an existing row of the same product and replaces its note, which would erase
the key of an earlier order. Each row's note carries `[assistant order=KEY line=i/n price=MINOR CUR]`:
before adding, the adapter looks the key up, so a retry after a timeout adds only the lines Grocy does
not have yet, and `find_order` works from Grocy alone. Prices: a product's `last_price` (else
`avg_price`) per stock unit; a product Grocy knows no price for is quoted at 0 (logged) — putting it on
a list costs nothing, and the real price is paid at the till.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import httpx

from ..errors import ConfigError, RetailerError, RetailerUnavailable
from ..money import check_currency, minor_digits
from ..secrets import Secret, reject_secret_settings, require_secret
from ..typed import from_mapping
from .base import (
    CancelResult,
    CatalogueItem,
    OrderItem,
    Quote,
    QuoteLine,
    RetailerCapabilities,
    RetailerOrder,
)

log = logging.getLogger(__name__)
#: One verifying TLS context for every call: building one costs more than a loopback call itself.
tls_context = functools.cache(ssl.create_default_context)
API_KEY_ENV = "ASSISTANT_GROCY_API_KEY"
CAPABILITIES = RetailerCapabilities(cancel=True, status=False, lookup_by_key=True, fulfilment="list")
_MARK = re.compile(r"\[assistant order=(?P<key>[^\s\]]+) line=(?P<i>\d+)/(?P<n>\d+) price=(?P<p>\d+) (?P<c>[A-Z]{3})\]")
_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass(frozen=True)
class GrocySettings:
    """`retailer.settings` of the `grocy` adapter (the API key comes from ASSISTANT_GROCY_API_KEY)."""

    url: str
    """Base URL of the Grocy instance, e.g. http://grocy.local:9283 (without /api)."""
    timeout_s: float = 10.0
    """Timeout of one Grocy call."""
    shopping_list_id: int = 1
    """Which of Grocy's shopping lists orders go on (1 is the default list)."""
    currency: str = ""
    """ISO 4217 code of Grocy's prices; empty: Grocy's own CURRENCY setting."""

    def validate(self, path: str) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"{path}.url: expected an http:// or https:// URL, got {self.url!r}")
        if not 0 < self.timeout_s <= 300:
            raise ConfigError(f"{path}.timeout_s: expected seconds between 0 and 300")
        if self.shopping_list_id < 1:
            raise ConfigError(f"{path}.shopping_list_id: expected a list id of 1 or more")
        if self.currency:
            try:
                check_currency(self.currency)
            except ValueError as err:
                raise ConfigError(f"{path}.currency: {err}") from err


@dataclass(frozen=True)
class StockLevel:
    """How much of a product the household has at home, as Grocy counts it."""

    sku: str
    """Grocy's product id."""
    name: str
    """Product name."""
    amount: float
    """Amount in stock, in the product's stock unit."""


@dataclass(frozen=True)
class _Row:
    """One shopping-list row that belongs to an order."""

    row_id: int
    line: int
    lines: int
    key: str
    sku: str
    quantity: int
    price: int
    currency: str
    done: bool


class GrocyRetailer:
    """The `Retailer` protocol over a Grocy instance's REST API."""

    name = "grocy"
    capabilities = CAPABILITIES

    def __init__(self, settings: GrocySettings, api_key: Secret, clock: Callable[[], datetime]) -> None:
        self.settings = settings
        self.base_url = settings.url.rstrip("/") + "/api"
        self._key = api_key
        self._clock = clock
        self._currency = settings.currency
        self._placing = asyncio.Lock()  # Grocy cannot add-if-absent atomically: one placement at a time

    def __repr__(self) -> str:  # never shows the key
        return f"GrocyRetailer({self.base_url!r})"

    # --- Retailer -----------------------------------------------------------
    async def search(self, query: str, limit: int = 10) -> list[CatalogueItem]:
        params: list[tuple[str, str | int]] = [("order", "name"), ("limit", max(1, limit) * 2)]
        if query.strip():
            params.append(("query[]", f"name~{query.strip()}"))
        products = await self._call("GET", "/objects/products", params=params)
        active = [p for p in products if str(p.get("active", 1)) != "0"][:limit]
        lines = await asyncio.gather(*(self._line(OrderItem(str(p["id"]), 1)) for p in active))
        return [CatalogueItem(l.sku, l.name, "", l.unit_price_minor, l.currency, True) for l in lines]

    async def stock(self) -> list[StockLevel]:
        """What the household has at home (GET /api/stock)."""
        entries = await self._call("GET", "/stock")
        return [
            StockLevel(str(e["product_id"]), str((e.get("product") or {}).get("name", "")), float(e["amount"]))
            for e in entries
        ]

    async def quote(self, items: list[OrderItem]) -> Quote:
        lines = tuple(await asyncio.gather(*(self._line(i) for i in items)))
        return _quote(lines, await self._currency_code(), self._clock())

    async def place_order(self, items: list[OrderItem], idempotency_key: str) -> RetailerOrder:
        _check_key(idempotency_key)
        async with self._placing:
            rows = await self._rows(idempotency_key)
            _check_same_items(rows, items, idempotency_key)
            present = {r.line for r in rows}
            if len(present) < len(items):
                quote = await self.quote(items)
                for n, line in enumerate(quote.lines, start=1):
                    if n not in present:
                        await self._add_row(line, n, len(items), idempotency_key)
                rows = await self._rows(idempotency_key)
            return self._order(rows)

    async def find_order(self, idempotency_key: str) -> RetailerOrder | None:
        _check_key(idempotency_key)
        rows = await self._rows(idempotency_key)
        if not rows:
            return None
        if len({r.line for r in rows}) < rows[0].lines:
            # Interrupted while adding: placing again with the same key adds only the missing lines.
            log.warning("order %s is only partly on the Grocy list; placing it again completes it", idempotency_key)
            return None
        return self._order(rows)

    async def status(self, retailer_order_id: str) -> RetailerOrder:
        rows = await self._rows_by_id(retailer_order_id)
        if not rows:
            raise RetailerError(f"order {retailer_order_id} is no longer on the Grocy shopping list")
        return self._order(rows)

    async def cancel(self, retailer_order_id: str) -> CancelResult:
        rows = [r for r in await self._rows_by_id(retailer_order_id) if not r.done]
        if not rows:
            return CancelResult(False, "it is no longer on the Grocy shopping list (bought or removed)")
        for row in rows:
            await self._call("DELETE", f"/objects/shopping_list/{row.row_id}", empty=True)
        return CancelResult(True)

    async def aclose(self) -> None:
        """Nothing to release: clients live for one call."""

    # --- Grocy calls ----------------------------------------------------------
    async def _line(self, item: OrderItem) -> QuoteLine:
        if not item.sku.isdigit():
            raise RetailerError(f"Grocy product ids are numbers, got {item.sku!r}")
        details = await self._call("GET", f"/stock/products/{item.sku}")
        product = details.get("product") or {}
        currency = await self._currency_code()
        price = details.get("last_price")
        if price in (None, ""):
            price = details.get("avg_price")
        if price in (None, ""):
            log.info("Grocy knows no price for product %s; quoting it at 0", item.sku)
        return QuoteLine(item.sku, str(product.get("name", "")), item.quantity, _minor(price, currency), currency, True)

    async def _currency_code(self) -> str:
        if not self._currency:
            config = await self._call("GET", "/system/config")
            code = str(config.get("CURRENCY") or "").upper()
            try:
                self._currency = check_currency(code)
            except ValueError as err:
                raise RetailerError(
                    f"Grocy's CURRENCY setting is not usable: {err}", hint="set retailer.settings.currency"
                ) from err
        return self._currency

    async def _add_row(self, line: QuoteLine, n: int, total: int, key: str) -> None:
        mark = f"[assistant order={key} line={n}/{total} price={line.unit_price_minor} {line.currency}]"
        body = {
            "product_id": int(line.sku),
            "amount": line.quantity,
            "shopping_list_id": self.settings.shopping_list_id,
            "note": f"Added by the voice assistant {mark}",
        }
        created = await self._call("POST", "/objects/shopping_list", json=body)
        log.info("order %s line %d/%d is shopping-list row %s", key, n, total, created.get("created_object_id"))

    async def _rows(self, key: str) -> list[_Row]:
        found = await self._call("GET", "/objects/shopping_list", params=[("query[]", f"note~order={key} ")])
        rows = [r for r in (_row(obj) for obj in found) if r is not None and r.key == key]
        return sorted(rows, key=lambda r: (r.line, r.row_id))

    async def _rows_by_id(self, retailer_order_id: str) -> list[_Row]:
        ids = retailer_order_id.removeprefix("grocy:").split("+")
        if not retailer_order_id.startswith("grocy:") or not all(i.isdigit() for i in ids):
            raise RetailerError(f"{retailer_order_id!r} is not a Grocy order id (expected grocy:12+13)")
        rows = []
        for row_id in ids:
            obj = await self._call("GET", f"/objects/shopping_list/{row_id}", missing_ok=True)
            row = _row(obj) if obj else None
            if row is not None:
                rows.append(row)
        return rows

    def _order(self, rows: list[_Row]) -> RetailerOrder:
        first: dict[int, _Row] = {}
        for row in rows:  # a duplicated line (two racing processes) counts once: the oldest row
            first.setdefault(row.line, row)
        kept = [first[n] for n in sorted(first)]
        lines = tuple(QuoteLine(r.sku, "", r.quantity, r.price, r.currency, True) for r in kept)
        quote = _quote(lines, kept[0].currency, self._clock())
        state = "delivered" if all(r.done for r in kept) else "placed"
        order_id = "grocy:" + "+".join(str(r.row_id) for r in kept)
        return RetailerOrder(
            order_id, kept[0].key, state, lines, quote.total_minor, quote.currency, quote.delivery_estimate
        )

    async def _call(self, method: str, path: str, *, empty: bool = False, missing_ok: bool = False, **kw: Any) -> Any:
        headers = {"GROCY-API-KEY": self._key.reveal(), "Accept": "application/json"}
        try:
            async with httpx.AsyncClient(
                timeout=self.settings.timeout_s, verify=tls_context(), trust_env=False
            ) as client:
                response = await client.request(method, self.base_url + path, headers=headers, **kw)
        except httpx.TimeoutException as err:
            raise RetailerUnavailable(
                f"Grocy did not answer within {self.settings.timeout_s:g} s", retry_safe=True
            ) from err
        except httpx.TransportError as err:
            raise RetailerUnavailable(f"cannot reach Grocy at {self.settings.url} ({err})", retry_safe=True) from err
        return _answer(response, method, path, empty=empty, missing_ok=missing_ok)


def _answer(response: httpx.Response, method: str, path: str, *, empty: bool, missing_ok: bool) -> Any:
    if response.status_code == 404 and missing_ok:
        return None
    try:
        data = None if response.status_code == 204 or (empty and not response.content) else response.json()
    except ValueError as err:
        raise RetailerUnavailable(f"Grocy sent an answer that is not JSON ({method} {path})", retry_safe=True) from err
    if response.is_success:
        return data
    message = data.get("error_message") if isinstance(data, dict) else None
    message = str(message or f"HTTP {response.status_code} {response.reason_phrase}")
    log.info("Grocy %s %s → %d %s", method, path, response.status_code, message)
    if response.status_code in (401, 403):
        raise RetailerError(f"Grocy refused the API key: {message}", hint=f"check {API_KEY_ENV}")
    if response.status_code >= 500 or response.status_code == 429:
        raise RetailerUnavailable(f"Grocy failed: {message}", retry_safe=True)
    raise RetailerError(f"Grocy refused: {message}")


def _row(obj: dict[str, Any]) -> _Row | None:
    match = _MARK.search(str(obj.get("note") or ""))
    if match is None:
        return None
    amount = float(obj.get("amount") or 0)
    return _Row(
        row_id=int(obj["id"]),
        line=int(match["i"]),
        lines=int(match["n"]),
        key=match["key"],
        sku=str(obj.get("product_id")),
        quantity=int(amount) if amount.is_integer() else round(amount),
        price=int(match["p"]),
        currency=match["c"],
        done=str(obj.get("done", 0)) not in ("0", "", "False", "false"),
    )


def _check_key(key: str) -> None:
    if not _KEY.match(key):
        raise RetailerError(f"idempotency key {key!r} cannot be stored in a Grocy note (letters, digits, .:_- only)")


def _check_same_items(rows: list[_Row], items: list[OrderItem], key: str) -> None:
    wanted = {n: (i.sku, i.quantity) for n, i in enumerate(items, start=1)}
    for row in rows:
        if row.lines != len(items) or wanted.get(row.line) != (row.sku, row.quantity):
            raise RetailerError(f"idempotency key {key} was already used for other items on the Grocy list")


def _quote(lines: tuple[QuoteLine, ...], currency: str, now: datetime) -> Quote:
    # Putting items on a list is immediate: the "delivery" is the list being updated now.
    return Quote(lines, sum(l.quantity * l.unit_price_minor for l in lines), currency, now)


def _minor(price: Any, currency: str) -> int:
    if price in (None, ""):
        return 0
    try:
        value = Decimal(str(price))
    except InvalidOperation as err:
        raise RetailerUnavailable(f"Grocy sent a price that is not a number: {price!r}", retry_safe=True) from err
    return max(0, int(value.scaleb(minor_digits(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP)))


def create(config: Any, engine: Any, clock: Callable[[], datetime]) -> GrocyRetailer:
    """Entry point `grocy` of the `assistant.retailers` group: factory(config, engine, clock)."""
    reject_secret_settings(config.retailer.settings, "retailer.settings", (API_KEY_ENV,))
    settings = from_mapping(GrocySettings, config.retailer.settings, "retailer.settings")
    return GrocyRetailer(settings, require_secret(API_KEY_ENV, config.home, "the grocy retailer"), clock)
