"""What the household knows about its orders, as frozen snapshots, and the queries that read them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, exists, literal_column
from sqlmodel import Session, col, select

from .errors import OrderError
from .retailers.base import OrderItem, Quote
from .storage import models as tables
from .storage.models import TRANSITIONS, OrderState

#: `Order.source` of orders the assistant proposed (imported ones are `history`).
ASSISTANT = "assistant"


@dataclass(frozen=True)
class OrderLine:
    """One product line of an order."""

    sku: str
    """The retailer's SKU."""
    name: str
    """Product name as quoted or imported."""
    quantity: int
    """Units."""
    unit_price_minor: int
    """Price of one unit, minor units."""
    currency: str
    """ISO 4217 currency code."""


@dataclass(frozen=True)
class OrderEvent:
    """A state an order entered, and when."""

    state: OrderState
    """The state entered."""
    at: datetime
    """When, aware UTC."""
    note: str
    """Why, in a few words (may be empty)."""


@dataclass(frozen=True)
class Order:
    """An order as the household knows it (read-only snapshot)."""

    id: str
    """Our id (not the retailer's)."""
    source: str
    """`assistant` (proposed by the assistant) or `history` (imported)."""
    state: OrderState
    """Current state."""
    retailer: str
    """Retailer name."""
    retailer_order_id: str | None
    """The retailer's order id once placed (told to the user)."""
    idempotency_key: str | None
    """Key every placement request for this order carries (assistant orders only)."""
    total_minor: int
    """Total, minor units."""
    currency: str
    """ISO 4217 currency code."""
    delivery_estimate: datetime | None
    """Expected delivery, aware UTC."""
    created_at: datetime
    """Order date (history) or proposal time (assistant), aware UTC."""
    updated_at: datetime
    """Last state change, aware UTC."""
    lang: str
    """Conversation language it was proposed in."""
    lines: tuple[OrderLine, ...]
    """Product lines."""
    events: tuple[OrderEvent, ...]
    """State changes, oldest first."""

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": str(self.state),
            "source": self.source,
            "retailer": self.retailer,
            "retailer_order_id": self.retailer_order_id,
            "total_minor": self.total_minor,
            "currency": self.currency,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "delivery_estimate": self.delivery_estimate.isoformat() if self.delivery_estimate else None,
            "lines": [
                {
                    "sku": l.sku,
                    "name": l.name,
                    "quantity": l.quantity,
                    "unit_price_minor": l.unit_price_minor,
                    "currency": l.currency,
                }
                for l in self.lines
            ],
            "events": [{"state": str(e.state), "at": e.at.isoformat()} for e in self.events],
        }


def query_orders(
    engine: Engine,
    *,
    source: str | None = ASSISTANT,
    states: Iterable[OrderState] | None = None,
    confirmed: bool = False,
    limit: int | None = None,
    newest_first: bool = True,
) -> list[Order]:
    """Orders as frozen snapshots, newest first by order date unless told otherwise."""
    stmt = select(tables.Order)
    if source:
        stmt = stmt.where(tables.Order.source == source)
    if states is not None:
        stmt = stmt.where(col(tables.Order.state).in_(list(states)))
    if confirmed:
        stmt = stmt.where(
            exists().where(
                col(tables.OrderEvent.order_id) == tables.Order.id, col(tables.OrderEvent.state) == OrderState.CONFIRMED
            )
        )
    inserted: Any = literal_column('"order".rowid')  # ties (one clock reading) go by insertion order
    if newest_first:
        stmt = stmt.order_by(col(tables.Order.created_at).desc(), inserted.desc())
    else:
        stmt = stmt.order_by(col(tables.Order.created_at), inserted)
    stmt = stmt.limit(limit)
    with Session(engine) as session:
        return snapshots(session, list(session.exec(stmt)))


def snapshots(session: Session, rows: list[tables.Order]) -> list[Order]:
    """Frozen copies of order rows with their lines and events (two queries per 500 orders)."""
    ids = [row.id for row in rows]
    lines: dict[str, list[OrderLine]] = {i: [] for i in ids}
    events: dict[str, list[OrderEvent]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for l in session.exec(
            select(tables.OrderLine).where(col(tables.OrderLine.order_id).in_(chunk)).order_by(col(tables.OrderLine.id))
        ):
            lines[l.order_id].append(OrderLine(l.sku, l.name, l.quantity, l.unit_price_minor, l.currency))
        for e in session.exec(
            select(tables.OrderEvent)
            .where(col(tables.OrderEvent.order_id).in_(chunk))
            .order_by(col(tables.OrderEvent.at), col(tables.OrderEvent.id))
        ):
            events[e.order_id].append(OrderEvent(OrderState(e.state), e.at, e.note))
    return [
        Order(
            r.id,
            r.source,
            OrderState(r.state),
            r.retailer,
            r.retailer_order_id,
            r.idempotency_key,
            r.total_minor,
            r.currency,
            r.delivery_estimate,
            r.created_at,
            r.updated_at,
            r.lang,
            tuple(lines[r.id]),
            tuple(events[r.id]),
        )
        for r in rows
    ]


# --- rules every order change follows (used by the order book) ---------------------------
def transition(
    session: Session, row: tables.Order, to: OrderState, note: str, now: datetime, only_from: OrderState | None = None
) -> None:
    if to not in TRANSITIONS[row.state] or (only_from is not None and row.state != only_from):
        raise OrderError(f"order {row.id} is {row.state}; it cannot become {to}")
    row.state, row.updated_at = to, now
    session.add(tables.OrderEvent(order_id=row.id, state=to, at=now, note=note))
    session.flush()


def check_quote(items: list[OrderItem], quote: Quote) -> None:
    if not items:
        raise OrderError("an order needs at least one item")
    if [(i.sku, i.quantity) for i in items] != [(l.sku, l.quantity) for l in quote.lines]:
        raise OrderError("the quote does not match the items to order; ask the shop for a new quote")
    unavailable = [l.name for l in quote.lines if not l.available]
    if unavailable:
        raise OrderError(f"{', '.join(unavailable)} cannot be ordered now (out of stock)")


def order_items(order: Order) -> list[OrderItem]:
    return [OrderItem(line.sku, line.quantity) for line in order.lines]


def order_key(order: Order) -> str:
    if not order.idempotency_key:
        raise OrderError(f"order {order.id} has no idempotency key; it was not proposed by the assistant")
    return order.idempotency_key
