"""SQLModel tables. Money is integer minor units plus an ISO currency; times are aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

#: Bump when a table changes, and add a step to `db.MIGRATIONS`.
SCHEMA_VERSION = 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(nullable: bool = False) -> Column:  # type: ignore[type-arg]
    return Column(DateTime(timezone=True), nullable=nullable)


class OrderState(StrEnum):
    """Lifecycle of an order. Forward only: proposed → confirmed → placed → shipped → delivered, or cancelled / failed."""

    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    PLACED = "placed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    FAILED = "failed"


#: Allowed transitions; anything else is a bug and raises OrderError.
TRANSITIONS: dict[OrderState, frozenset[OrderState]] = {
    OrderState.PROPOSED: frozenset({OrderState.CONFIRMED, OrderState.CANCELLED}),
    OrderState.CONFIRMED: frozenset({OrderState.PLACED, OrderState.FAILED, OrderState.CANCELLED}),
    OrderState.PLACED: frozenset({OrderState.SHIPPED, OrderState.DELIVERED, OrderState.CANCELLED}),
    OrderState.SHIPPED: frozenset({OrderState.DELIVERED}),
    OrderState.DELIVERED: frozenset(),
    OrderState.CANCELLED: frozenset(),
    OrderState.FAILED: frozenset(),
}


class SchemaInfo(SQLModel, table=True):
    """One row: the schema version the database was last migrated to."""

    id: int = Field(default=1, primary_key=True)
    version: int


class Product(SQLModel, table=True):
    """A product the household has bought, keyed by the retailer's SKU."""

    sku: str = Field(primary_key=True)
    name: str
    brand: str = ""
    retailer: str = ""


class Order(SQLModel, table=True):
    """An order: imported from history, or proposed/placed by the assistant."""

    id: str = Field(primary_key=True)
    source: str = Field(default="assistant", index=True)
    """`history` for imported rows, `assistant` for orders it proposed."""
    retailer: str = ""
    retailer_order_id: str | None = Field(default=None, index=True)
    state: OrderState = Field(default=OrderState.PROPOSED, index=True)
    idempotency_key: str | None = Field(default=None, unique=True)
    currency: str = "EUR"
    total_minor: int = 0
    delivery_estimate: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    lang: str = "en"


class OrderLine(SQLModel, table=True):
    """One product line of an order."""

    __table_args__ = (UniqueConstraint("order_id", "sku", name="uq_order_line_sku"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(foreign_key="order.id", index=True)
    sku: str = Field(index=True)
    name: str
    quantity: int
    unit_price_minor: int
    currency: str


class OrderEvent(SQLModel, table=True):
    """A state change of an order, with when it happened."""

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(foreign_key="order.id", index=True)
    state: OrderState
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    note: str = ""


class HistoryImport(SQLModel, table=True):
    """A history file that was imported, by content hash, so importing it again adds nothing."""

    sha256: str = Field(primary_key=True)
    filename: str
    rows: int
    imported_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
