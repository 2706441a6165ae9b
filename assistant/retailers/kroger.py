"""Kroger's public API as a retailer: search products, and "place" = add to the user's Kroger cart.

Checkout is the user's, in Kroger's app or website: the assistant only fills the cart. The public Cart API
cannot read the cart back, remove items, or report an order, so capabilities say: no cancel, no status,
no lookup by key. Idempotency is client-side (see kroger_journal.py).

Published endpoints used (https://developer.kroger.com/reference, "Products" and "Cart"):
  GET /v1/products?filter.term=..&filter.locationId=..&filter.limit=..  -> {"data": [product], "meta": ...}
  GET /v1/products/{id}?filter.locationId=..                          -> {"data": product}
      product: {"productId", "upc", "brand", "description", "items": [{"size", "price": {"regular", "promo"},
               "inventory": {"stockLevel"}, "fulfillment": {"curbside", "delivery", "inStore", ...}}]}
      (price and inventory are only present when a locationId is given)
  PUT /v1/cart/add  {"items": [{"upc", "quantity", "modality": "DELIVERY" | "PICKUP"}]}  -> 204
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal

import httpx

from ..errors import ConfigError, RetailerError, RetailerUnavailable
from ..secrets import reject_secret_settings, require_secret
from ..typed import from_mapping
from .base import CancelResult, CatalogueItem, OrderItem, Quote, QuoteLine, RetailerCapabilities, RetailerOrder
from .kroger_auth import LOGIN_HINT, KrogerOAuth, TokenStore, tls_context
from .kroger_journal import ADDED, JOURNAL_FILE, UNKNOWN, CartAdd, CartJournal

log = logging.getLogger(__name__)
CLIENT_ID_ENV = "ASSISTANT_KROGER_CLIENT_ID"
CLIENT_SECRET_ENV = "ASSISTANT_KROGER_CLIENT_SECRET"
CAPABILITIES = RetailerCapabilities(cancel=False, status=False, lookup_by_key=False, fulfilment="cart")
CURRENCY = "USD"
NOT_CONFIRMED = "I could not confirm whether Kroger added these to your cart; please check the cart in the Kroger app"
_OUT = {"TEMPORARILY_OUT_OF_STOCK"}
_MODALITY_FLAG = {"DELIVERY": "delivery", "PICKUP": "curbside"}


@dataclass(frozen=True)
class KrogerSettings:
    """`retailer.settings` of the `kroger` adapter (client id and secret come from the environment)."""

    location_id: str
    """The store whose prices and stock apply (8 characters, from Kroger's Locations API)."""
    modality: Literal["PICKUP", "DELIVERY"] = "PICKUP"
    """How the cart will be fulfilled."""
    api_url: str = "https://api.kroger.com/v1"
    """Kroger's API base URL."""
    redirect_uri: str = "http://127.0.0.1:8976/callback"
    """The redirect URI registered with the Kroger app (a loopback one lets `login` catch the code)."""
    timeout_s: float = 10.0
    """Timeout of one Kroger call."""

    def validate(self, path: str) -> None:
        if not (len(self.location_id) == 8 and self.location_id.isalnum()):
            raise ConfigError(f"{path}.location_id: expected Kroger's 8-character store id, got {self.location_id!r}")
        for key in ("api_url", "redirect_uri"):
            if not getattr(self, key).startswith(("http://", "https://")):
                raise ConfigError(f"{path}.{key}: expected an http:// or https:// URL")
        if not 0 < self.timeout_s <= 300:
            raise ConfigError(f"{path}.timeout_s: expected seconds between 0 and 300")


class KrogerRetailer:
    """The `Retailer` protocol over Kroger's public Products and Cart APIs."""

    name = "kroger"
    capabilities = CAPABILITIES

    def __init__(
        self, settings: KrogerSettings, oauth: KrogerOAuth, journal: CartJournal, clock: Callable[[], datetime]
    ) -> None:
        self.settings, self.oauth, self.journal, self._clock = settings, oauth, journal, clock
        self._placing = asyncio.Lock()

    def __repr__(self) -> str:
        return f"KrogerRetailer(location_id={self.settings.location_id!r})"

    async def search(self, query: str, limit: int = 10) -> list[CatalogueItem]:
        if not query.strip():
            return []  # Kroger needs a term, brand or product id: there is no "everything"
        params = {
            "filter.term": query.strip(),
            "filter.locationId": self.settings.location_id,
            "filter.limit": max(1, min(limit, 50)),
        }
        data = await self._call("GET", "/products", params=params)
        return [self._item(p) for p in _decode(lambda: list(data["data"]))][:limit]

    async def quote(self, items: list[OrderItem]) -> Quote:
        lines = tuple(await asyncio.gather(*(self._line(i) for i in items)))
        return Quote(lines, sum(l.quantity * l.unit_price_minor for l in lines), CURRENCY, self._clock())

    async def place_order(self, items: list[OrderItem], idempotency_key: str) -> RetailerOrder:
        async with self._placing:
            known = await asyncio.to_thread(self.journal.get, idempotency_key)
            if known is not None:
                return self._replay(known, items)
            quote = await self.quote(items)
            missing = [l.sku for l in quote.lines if not l.available]
            if missing:
                raise RetailerError(f"not available at your Kroger store for {self.settings.modality}: {missing}")
            added = await asyncio.to_thread(self.journal.begin, idempotency_key, quote.lines, CURRENCY, self._clock())
            await self._put_cart(quote.lines, idempotency_key)
            await asyncio.to_thread(self.journal.mark, idempotency_key, ADDED, self._clock())
            return self._order(added)

    async def find_order(self, idempotency_key: str) -> RetailerOrder | None:
        known = await asyncio.to_thread(self.journal.get, idempotency_key)
        if known is None:
            return None
        if known.state != ADDED:
            raise RetailerUnavailable(NOT_CONFIRMED, retry_safe=False)
        return self._order(known)

    async def status(self, retailer_order_id: str) -> RetailerOrder:
        """What the assistant added (state `placed`: in the cart). Kroger never reports checkout or delivery."""
        row_id = retailer_order_id.removeprefix("kroger-cart-")
        key = await asyncio.to_thread(self.journal.key_of, int(row_id)) if row_id.isdigit() else None
        known = await asyncio.to_thread(self.journal.get, key) if key else None
        if known is None or known.state != ADDED:
            raise RetailerError(f"no cart addition {retailer_order_id} was confirmed by Kroger")
        return self._order(known)

    async def cancel(self, retailer_order_id: str) -> CancelResult:
        return CancelResult(False, "Kroger's API cannot take items out of your cart; remove them in the Kroger app")

    async def aclose(self) -> None:
        self.journal.close()

    # --- plumbing -------------------------------------------------------------
    def _replay(self, known: CartAdd, items: list[OrderItem]) -> RetailerOrder:
        if [(l.sku, l.quantity) for l in known.lines] != [(i.sku, i.quantity) for i in items]:
            raise RetailerError(f"idempotency key {known.key} was already used for other items")
        if known.state != ADDED:  # left mid-PUT by a crash, or its answer was lost: never send it twice
            raise RetailerUnavailable(NOT_CONFIRMED, retry_safe=False)
        return self._order(known)

    async def _put_cart(self, lines: tuple[QuoteLine, ...], key: str) -> None:
        body = {"items": [{"upc": l.sku, "quantity": l.quantity, "modality": self.settings.modality} for l in lines]}
        try:
            await self._call("PUT", "/cart/add", json=body, writes=True)
        except RetailerUnavailable as err:
            if err.retry_safe:  # never reached Kroger (or refused before processing): it may be sent again
                await asyncio.to_thread(self.journal.forget, key)
                raise
            await asyncio.to_thread(self.journal.mark, key, UNKNOWN, self._clock())
            log.warning("cart addition %s: outcome unknown (%s)", key, err)
            raise RetailerUnavailable(NOT_CONFIRMED, retry_safe=False) from err
        except RetailerError:
            await asyncio.to_thread(self.journal.forget, key)
            raise

    async def _line(self, item: OrderItem) -> QuoteLine:
        params = {"filter.locationId": self.settings.location_id}
        data = await self._call("GET", f"/products/{item.sku}", params=params)
        product = self._item(_decode(lambda: dict(data["data"])))
        return QuoteLine(item.sku, product.name, item.quantity, product.unit_price_minor, CURRENCY, product.in_stock)

    def _item(self, p: dict[str, Any]) -> CatalogueItem:
        def build() -> CatalogueItem:
            first = (p.get("items") or [{}])[0]
            price = first.get("price") or {}
            amount = price.get("promo") or price.get("regular")
            stock = (first.get("inventory") or {}).get("stockLevel")
            can_fulfil = (first.get("fulfillment") or {}).get(_MODALITY_FLAG[self.settings.modality], True)
            name = " ".join(x for x in (str(p["description"]), str(first.get("size") or "")) if x)
            available = amount is not None and stock not in _OUT and bool(can_fulfil)
            return CatalogueItem(str(p["upc"]), name, str(p.get("brand") or ""), _cents(amount), CURRENCY, available)

        return _decode(build)

    async def _call(self, method: str, path: str, *, writes: bool = False, **kw: Any) -> Any:
        token = await self.oauth.access_token()
        response = await self._send(method, path, token, writes, **kw)
        if response.status_code == 401:  # expired or revoked early: refresh once; a 401 was not processed
            token = await self.oauth.access_token(force_refresh=True, used=token)
            response = await self._send(method, path, token, writes, **kw)
        return _answer(response, method, path, writes)

    async def _send(self, method: str, path: str, token: str, writes: bool, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        url = self.settings.api_url.rstrip("/") + path
        try:
            async with httpx.AsyncClient(
                timeout=self.settings.timeout_s, verify=tls_context(), trust_env=False
            ) as client:
                return await client.request(method, url, headers=headers, **kw)
        except (httpx.ConnectError, httpx.ConnectTimeout) as err:  # the request never left
            raise RetailerUnavailable(f"cannot reach Kroger ({type(err).__name__})", retry_safe=True) from err
        except httpx.TransportError as err:  # sent, answer lost: for a read it is safe, for the cart unknown
            raise RetailerUnavailable(
                f"Kroger's answer was lost ({type(err).__name__})", retry_safe=not writes
            ) from err

    def _order(self, added: CartAdd) -> RetailerOrder:
        total = sum(l.quantity * l.unit_price_minor for l in added.lines)
        return RetailerOrder(
            f"kroger-cart-{added.row_id}", added.key, "placed", added.lines, total, added.currency, added.created_at
        )


def _answer(response: httpx.Response, method: str, path: str, writes: bool) -> Any:
    if response.is_success:
        if response.status_code == 204 or not response.content:
            return {}
        return _decode(lambda: response.json())
    log.info("Kroger %s %s → HTTP %d", method, path, response.status_code)
    if response.status_code in (429, 503):  # refused before processing: Kroger did nothing
        raise RetailerUnavailable(f"Kroger is busy (HTTP {response.status_code}); try again shortly", retry_safe=True)
    if response.status_code >= 500:
        raise RetailerUnavailable(f"Kroger failed (HTTP {response.status_code})", retry_safe=not writes)
    if response.status_code in (401, 403):
        raise RetailerError(f"Kroger refused the login (HTTP {response.status_code})", hint=LOGIN_HINT)
    if response.status_code == 404:
        raise RetailerError(f"Kroger has no such product ({path.rsplit('/', 1)[-1]})")
    raise RetailerError(f"Kroger refused the request (HTTP {response.status_code})")


def _decode(build: Callable[[], Any]) -> Any:
    try:
        return build()
    except (ValueError, KeyError, TypeError, IndexError, AttributeError) as err:
        raise RetailerUnavailable(f"Kroger sent an answer I cannot read ({err})", retry_safe=True) from err


def _cents(amount: Any) -> int:
    if amount is None:
        return 0
    try:
        return int(Decimal(str(amount)).scaleb(2).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except InvalidOperation as err:
        raise ValueError(f"price {amount!r} is not a number") from err


def build_oauth(config: Any, settings: KrogerSettings, clock: Callable[[], datetime]) -> KrogerOAuth:
    """The OAuth client of this household, with credentials from the environment or the secrets file."""
    client_id = require_secret(CLIENT_ID_ENV, config.home, "the kroger retailer")
    client_secret = require_secret(CLIENT_SECRET_ENV, config.home, "the kroger retailer")
    store = TokenStore(config.home)
    return KrogerOAuth(
        settings.api_url, client_id, client_secret, settings.redirect_uri, store, clock, settings.timeout_s
    )


def load_settings(config: Any) -> KrogerSettings:
    reject_secret_settings(config.retailer.settings, "retailer.settings", (CLIENT_ID_ENV, CLIENT_SECRET_ENV))
    return from_mapping(KrogerSettings, config.retailer.settings, "retailer.settings")


def create(config: Any, engine: Any, clock: Callable[[], datetime]) -> KrogerRetailer:
    """Entry point `kroger` of the `assistant.retailers` group: factory(config, engine, clock)."""
    settings = load_settings(config)
    oauth = build_oauth(config, settings, clock)
    return KrogerRetailer(settings, oauth, CartJournal(config.home / JOURNAL_FILE), clock)
