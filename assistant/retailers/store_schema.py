"""Request and response models of the reference store's HTTP API (they make its OpenAPI schema).

Requests are validated strictly (a quantity of "2" or true is refused); answers are the JSON of
`wire.py`, which these models describe.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Most lines in one request, and most units of one line.
MAX_LINES, MAX_QUANTITY = 50, 1000


class ItemIn(BaseModel):
    """One line to quote or order."""

    model_config = ConfigDict(strict=True)
    sku: str = Field(min_length=1, max_length=200, description="The shop's SKU.")
    quantity: int = Field(ge=1, le=MAX_QUANTITY, description="Units, 1 to 1000.")


class ItemsIn(BaseModel):
    """Lines to quote: each SKU once."""

    model_config = ConfigDict(strict=True)
    items: list[ItemIn] = Field(min_length=1, max_length=MAX_LINES)

    @model_validator(mode="after")
    def _one_line_per_sku(self) -> ItemsIn:
        if len({i.sku for i in self.items}) < len(self.items):
            raise ValueError("each sku may appear only once; put the total quantity on one line")
        return self


class OrderIn(ItemsIn):
    """Lines to order, with the key that makes repeating the request safe."""

    idempotency_key: str = Field(
        min_length=8, max_length=200, description="Same key, same order: a repeated request never orders twice."
    )


class PriceIn(BaseModel):
    """A product's new price."""

    model_config = ConfigDict(strict=True)
    unit_price_minor: int = Field(ge=0, le=10_000_000, description="Price of one unit, minor units.")


class ProductOut(BaseModel):
    """A product the shop sells."""

    sku: str
    name: str
    brand: str
    unit_price_minor: int
    currency: str = Field(description="ISO 4217 code.")
    in_stock: bool


class ProductsOut(BaseModel):
    """Search results, best first."""

    products: list[ProductOut]


class LineOut(BaseModel):
    """A quoted or ordered line."""

    sku: str
    name: str
    quantity: int
    unit_price_minor: int
    currency: str
    available: bool


class QuoteOut(BaseModel):
    """Price, availability and delivery estimate."""

    lines: list[LineOut]
    total_minor: int
    currency: str
    delivery_estimate: str = Field(description="ISO 8601 date-time with offset (UTC).")


class OrderOut(BaseModel):
    """An order as the shop knows it."""

    retailer_order_id: str
    idempotency_key: str
    state: Literal["placed", "shipped", "delivered", "cancelled"]
    lines: list[LineOut]
    total_minor: int
    currency: str
    delivery_estimate: str


class CancelOut(BaseModel):
    """Whether the shop cancelled the order, and why not."""

    cancelled: bool
    reason: str


class ErrorBody(BaseModel):
    """What went wrong: `code` is stable, `message` is for people."""

    code: str
    message: str


class ErrorOut(BaseModel):
    """Every error answer."""

    error: ErrorBody
