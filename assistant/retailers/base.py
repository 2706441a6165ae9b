"""The retailer adapter interface and the typed values that cross it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class CatalogueItem:
    """A product the retailer sells."""

    sku: str
    """The retailer's stock-keeping unit."""
    name: str
    """Display name, e.g. "Lavazza Qualità Rossa coffee beans 1 kg"."""
    brand: str
    """Brand, may be empty."""
    unit_price_minor: int
    """Current price of one unit, in minor units."""
    currency: str
    """ISO 4217 currency code."""
    in_stock: bool = True
    """Whether it can be ordered now."""


@dataclass(frozen=True)
class OrderItem:
    """A line to quote or order."""

    sku: str
    """The retailer's SKU."""
    quantity: int
    """Number of units, at least 1."""


@dataclass(frozen=True)
class QuoteLine:
    """One quoted line."""

    sku: str
    """The retailer's SKU."""
    name: str
    """Display name."""
    quantity: int
    """Number of units."""
    unit_price_minor: int
    """Price of one unit, minor units."""
    currency: str
    """ISO 4217 currency code."""
    available: bool
    """Whether this line can be delivered."""


@dataclass(frozen=True)
class Quote:
    """What an order would cost and when it would arrive."""

    lines: tuple[QuoteLine, ...]
    """Quoted lines, in request order."""
    total_minor: int
    """Sum of quantity × unit price."""
    currency: str
    """ISO 4217 currency code."""
    delivery_estimate: datetime
    """Expected delivery time, aware UTC."""


@dataclass(frozen=True)
class RetailerOrder:
    """An order as the retailer knows it."""

    retailer_order_id: str
    """The retailer's own order id (told to the user)."""
    idempotency_key: str
    """The key it was placed with."""
    state: str
    """`placed`, `shipped`, `delivered` or `cancelled`."""
    lines: tuple[QuoteLine, ...]
    """Ordered lines."""
    total_minor: int
    """Total charged, minor units."""
    currency: str
    """ISO 4217 currency code."""
    delivery_estimate: datetime
    """Expected delivery, aware UTC."""


@dataclass(frozen=True)
class CancelResult:
    """Outcome of a cancellation request."""

    cancelled: bool
    """True if the retailer cancelled the order."""
    reason: str = ""
    """Why not, when it did not."""


@dataclass(frozen=True)
class RetailerCapabilities:
    """What a shop allows, so callers (and the conformance suite) expect only what it can do.
    An adapter without a `capabilities` attribute has all of them: use `capabilities_of(retailer)`."""

    cancel: bool = True
    """The shop can cancel an order (at least before it ships)."""
    status: bool = True
    """The shop reports an order's state as it moves (placed → shipped → delivered)."""
    lookup_by_key: bool = True
    """`find_order(key)` asks the shop itself, so an order whose answer was lost can be recovered."""
    fulfilment: str = "delivery"
    """What "placing" means: `delivery` (the shop delivers), `cart` (fills a cart the user checks out),
    or `list` (puts it on a shopping list)."""


def capabilities_of(retailer: object) -> RetailerCapabilities:
    """The adapter's capabilities, or all of them when it declares none."""
    found = getattr(retailer, "capabilities", None)
    return found if isinstance(found, RetailerCapabilities) else RetailerCapabilities()


@runtime_checkable
class Retailer(Protocol):
    """A shop the assistant can order from. Every call is async; errors are `RetailerError`s."""

    name: str
    """Short adapter name, e.g. `demo`."""

    async def search(self, query: str, limit: int = 10) -> list[CatalogueItem]:
        """Products matching a free-text query, best first."""
        ...

    async def quote(self, items: list[OrderItem]) -> Quote:
        """Current price, availability and delivery estimate for these items."""
        ...

    async def place_order(self, items: list[OrderItem], idempotency_key: str) -> RetailerOrder:
        """Place an order. The same key always returns the same order and never creates a second one;
        the same key with different items raises `RetailerError`."""
        ...

    async def find_order(self, idempotency_key: str) -> RetailerOrder | None:
        """The order placed with this key, or None if the retailer never received it."""
        ...

    async def status(self, retailer_order_id: str) -> RetailerOrder:
        """Current state of an order."""
        ...

    async def cancel(self, retailer_order_id: str) -> CancelResult:
        """Ask the retailer to cancel; says honestly whether it did."""
        ...
