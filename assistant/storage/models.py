"""SQLModel tables. Money is integer minor units plus an ISO currency; times are aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, DateTime, Dialect, Enum, Index, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel

#: Bump when a table changes, and add a step to `db.MIGRATIONS`.
SCHEMA_VERSION = 1


def utcnow() -> datetime:
    """The real clock: now, aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as naive UTC (SQLite keeps no offset) and read back aware UTC.

    A naive datetime is refused on write: it would be read back as UTC whatever it meant.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: store aware UTC datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Column(UTCDateTime(), nullable=nullable, index=index)


class OrderState(StrEnum):
    """Lifecycle of an order, forward only: proposed → confirmed → placed → shipped → delivered,
    or cancelled / failed."""

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
#: States in which an order was really bought (they count as purchases in the household's history).
BOUGHT = frozenset({OrderState.PLACED, OrderState.SHIPPED, OrderState.DELIVERED})


def _state_column(index: bool = False) -> Any:
    """The state as its lower-case value (`'confirmed'`), checked by the database."""
    kind = Enum(
        OrderState,
        values_callable=lambda e: [m.value for m in e],
        native_enum=False,
        create_constraint=True,
        validate_strings=True,
        length=16,
        name="order_state",
    )
    return Column(kind, nullable=False, index=index)


class SchemaInfo(SQLModel, table=True):
    """One row: the schema version the database was last migrated to."""

    id: int = Field(default=1, primary_key=True)
    version: int


class Product(SQLModel, table=True):
    """A product the household has bought, keyed by the retailer's SKU; name and brand from its latest order."""

    sku: str = Field(primary_key=True)
    name: str
    brand: str = ""
    retailer: str = ""
    last_ordered: datetime | None = Field(default=None, sa_column=_ts(nullable=True))


class Order(SQLModel, table=True):
    """An order: imported from history, or proposed/placed by the assistant."""

    __table_args__ = (
        UniqueConstraint("source", "retailer", "retailer_order_id", name="uq_order_retailer_id"),
        CheckConstraint("total_minor >= 0", name="ck_order_total"),
        CheckConstraint("length(currency) = 3", name="ck_order_currency"),
        Index("ix_order_source_created", "source", "created_at"),
    )

    id: str = Field(primary_key=True)
    source: str = Field(default="assistant", index=True)
    """`history` for imported rows, `assistant` for orders it proposed."""
    retailer: str = ""
    retailer_order_id: str | None = Field(default=None, index=True)
    state: OrderState = Field(default=OrderState.PROPOSED, sa_column=_state_column(index=True))
    idempotency_key: str | None = Field(default=None, unique=True)
    currency: str = "EUR"
    total_minor: int = 0
    delivery_estimate: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    """When the order was made: the order date for imported history, the proposal time for the assistant's."""
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    lang: str = "en"


class OrderLine(SQLModel, table=True):
    """One product line of an order."""

    __table_args__ = (
        UniqueConstraint("order_id", "sku", name="uq_order_line_sku"),
        CheckConstraint("quantity >= 1", name="ck_line_quantity"),
        CheckConstraint("unit_price_minor >= 0", name="ck_line_price"),
        CheckConstraint("length(currency) = 3", name="ck_line_currency"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(foreign_key="order.id", index=True, ondelete="CASCADE")
    sku: str = Field(index=True)
    name: str
    quantity: int
    unit_price_minor: int
    currency: str


class OrderEvent(SQLModel, table=True):
    """A state change of an order, with when it happened."""

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(foreign_key="order.id", index=True, ondelete="CASCADE")
    state: OrderState = Field(sa_column=_state_column())
    at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    note: str = ""


class HistoryImport(SQLModel, table=True):
    """A history file that was imported, by content hash, so importing it again adds nothing."""

    sha256: str = Field(primary_key=True)
    filename: str
    rows: int
    """Order lines the file added (rows already present were skipped)."""
    imported_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
