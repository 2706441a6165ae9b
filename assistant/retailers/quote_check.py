"""Has a quote changed since it was read to the user? Then the user is asked again, never charged silently."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .base import Quote, QuoteLine

Reason = Literal["out_of_stock", "substituted", "price_up"]


@dataclass(frozen=True)
class QuoteChange:
    """Why the order cannot be placed as the user heard it."""

    reason: Reason
    """`out_of_stock`, `substituted` (another product or quantity) or `price_up`."""
    quote: Quote
    """The shop's quote now."""
    told_total_minor: int
    """The total the user agreed to, minor units."""


def quote_change(told: Sequence[QuoteLine], told_total_minor: int, now: Quote) -> QuoteChange | None:
    """The change that needs a new yes, or None (same lines and no dearer; a lower price needs none)."""
    if any(not line.available for line in now.lines):
        return QuoteChange("out_of_stock", now, told_total_minor)
    heard = [(l.sku, l.name, l.quantity, l.currency) for l in told]
    if heard != [(l.sku, l.name, l.quantity, l.currency) for l in now.lines]:
        return QuoteChange("substituted", now, told_total_minor)
    if now.total_minor > told_total_minor:
        return QuoteChange("price_up", now, told_total_minor)
    return None
