"""The order book: proposal → confirmation → placement with an idempotency key, and crash recovery.

An order is placed only from `confirmed`, and `confirmed` is committed (WAL, synchronous=FULL)
before the shop is called. The shop gets the order's idempotency key every time, so asking again
after a crash or a timeout can never create a second order. Every state change goes through
`_change`, which enforces `TRANSITIONS` and writes an OrderEvent.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from .errors import OrderError, RetailerError, RetailerUnavailable
from .history import record_product
from .order_records import (
    ASSISTANT,
    Order,
    OrderEvent,
    OrderLine,
    check_quote,
    order_items,
    order_key,
    query_orders,
    snapshots,
    transition,
)
from .retailers.base import CancelResult, OrderItem, Quote, QuoteLine, Retailer, RetailerOrder
from .retailers.quote_check import QuoteChange, quote_change
from .retailers.retry import RetryPolicy, Sleep, with_retries
from .storage import models as tables
from .storage.db import write_session
from .storage.models import BOUGHT, TRANSITIONS, OrderState, utcnow

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
T = TypeVar("T")
__all__ = ["ASSISTANT", "STALE_AFTER", "Order", "OrderBook", "OrderEvent", "OrderLine", "query_orders", "register"]
#: A confirmed order the shop has not received after this long is marked failed instead of placed late.
STALE_AFTER = timedelta(hours=24)


class OrderBook:
    """Orders of one household, placed with one retailer."""

    def __init__(
        self,
        engine: Engine,
        retailer: Retailer,
        clock: Clock = utcnow,
        *,
        policy: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.engine, self.retailer, self.clock = engine, retailer, clock
        self.policy, self._sleep = policy or RetryPolicy(), sleep

    async def _safely(self, call: Callable[[], Awaitable[T]], what: str) -> T:
        """A shop call that is safe to repeat (a read, or an order with its key): timeouts and retries."""
        return await with_retries(call, self.policy, what, sleep=self._sleep)

    # --- the conversation's steps -------------------------------------------
    def propose(self, items: list[OrderItem], quote: Quote, lang: str) -> Order:
        """Record a proposal from a quote (nothing is ordered yet)."""
        check_quote(items, quote)
        now = self.clock()
        with write_session(self.engine) as session:
            row = tables.Order(
                id=f"A-{uuid.uuid4().hex[:16]}",
                source=ASSISTANT,
                retailer=self.retailer.name,
                state=OrderState.PROPOSED,
                idempotency_key=str(uuid.uuid4()),
                currency=quote.currency,
                total_minor=quote.total_minor,
                delivery_estimate=quote.delivery_estimate,
                created_at=now,
                updated_at=now,
                lang=lang,
            )
            session.add(row)
            session.flush()
            for line in quote.lines:
                session.add(
                    tables.OrderLine(
                        order_id=row.id,
                        sku=line.sku,
                        name=line.name,
                        quantity=line.quantity,
                        unit_price_minor=line.unit_price_minor,
                        currency=line.currency,
                    )
                )
            session.add(tables.OrderEvent(order_id=row.id, state=OrderState.PROPOSED, at=now))
            session.commit()
            return snapshots(session, [row])[0]

    def decline(self, order_id: str, note: str = "declined") -> Order:
        """The user said no (or never answered, or the quote changed): proposed → cancelled."""
        return self._change(order_id, OrderState.CANCELLED, note, only_from=OrderState.PROPOSED)

    async def quote_changed(self, order_id: str) -> QuoteChange | None:
        """Ask the shop again before placing a proposal: a higher price, another product or a line out of
        stock needs a new yes (None: place it as the user heard it). RetailerError if the shop cannot say."""
        order = self.get(order_id)
        quote = await self._safely(lambda: self.retailer.quote(order_items(order)), f"a new quote for {order_id}")
        told = [QuoteLine(l.sku, l.name, l.quantity, l.unit_price_minor, l.currency, True) for l in order.lines]
        return quote_change(told, order.total_minor, quote)

    def confirm(self, order_id: str) -> Order:
        """The user said yes: proposed → confirmed, committed before any shop call."""
        return self._change(order_id, OrderState.CONFIRMED, "confirmed by the user", only_from=OrderState.PROPOSED)

    async def place(self, order_id: str) -> Order:
        """Send a confirmed order to the shop. RetailerUnavailable: it stays confirmed (reconcile settles it);
        another RetailerError: it failed. Both are re-raised."""
        order = self.get(order_id)
        if order.state != OrderState.CONFIRMED:
            raise OrderError(f"order {order_id} is {order.state}: only a confirmed order can be placed")
        try:
            placed = await self._safely(
                lambda: self.retailer.place_order(order_items(order), order_key(order)), f"placing order {order_id}"
            )
        except RetailerUnavailable as err:
            log.warning("order %s sent, not acknowledged (%s); it stays confirmed", order_id, err)
            raise
        except RetailerError as err:
            self._change(order_id, OrderState.FAILED, f"refused by the shop: {err.message}")
            raise
        result = self._record_placed(order_id, placed, "placed")
        if result.state == OrderState.CANCELLED:  # cancelled while the request was in flight
            await self.retailer.cancel(placed.retailer_order_id)
        return result

    async def reconcile(self) -> list[Order]:
        """Settle every confirmed order (run at start): record what the shop has, place what it never got
        (once, same key), fail what is too old. Orders the shop cannot be asked about stay confirmed."""
        changed = []
        for order in query_orders(self.engine, source=ASSISTANT, states={OrderState.CONFIRMED}, newest_first=False):
            try:
                changed.append(await self._settle(order))
            except RetailerError as err:
                log.warning("cannot settle order %s now: %s", order.id, err)
        return changed

    async def _settle(self, order: Order) -> Order:
        found = await self._safely(lambda: self.retailer.find_order(order_key(order)), f"finding order {order.id}")
        if found is not None:
            return self._record_placed(order.id, found, "the shop had received it")
        confirmed_at = next((e.at for e in reversed(order.events) if e.state == OrderState.CONFIRMED), order.updated_at)
        if self.clock() - confirmed_at > STALE_AFTER:
            return self._change(order.id, OrderState.FAILED, "the shop never received it; too old to place now")
        try:
            placed = await self._safely(
                lambda: self.retailer.place_order(order_items(order), order_key(order)), f"placing order {order.id}"
            )
        except RetailerUnavailable:
            raise
        except RetailerError as err:
            return self._change(order.id, OrderState.FAILED, f"refused by the shop: {err.message}")
        return self._record_placed(order.id, placed, "placed after an interruption")

    async def refresh(self, order_id: str) -> Order:
        """Ask the shop where an order is (a confirmed one is settled first)."""
        order = self.get(order_id)
        if order.state == OrderState.CONFIRMED:
            return await self._settle(order)
        if order.state not in (OrderState.PLACED, OrderState.SHIPPED) or not order.retailer_order_id:
            return order
        shop_id = order.retailer_order_id
        return self._follow(order_id, await self._safely(lambda: self.retailer.status(shop_id), f"status of {shop_id}"))

    async def cancel(self, order_id: str) -> CancelResult:
        """Cancel an order if the shop still can; says honestly when it cannot (or cannot be reached)."""
        order = self.get(order_id)
        if order.state == OrderState.PROPOSED:
            self.decline(order_id)
            return CancelResult(True)
        try:
            return await self._cancel_at_shop(order)
        except RetailerError as err:
            log.warning("cancelling order %s: %s", order_id, err)
            if isinstance(err, RetailerUnavailable):
                return CancelResult(False, "I couldn't reach the shop, so it is not cancelled yet; try again soon")
            return CancelResult(False, err.message)

    async def _cancel_at_shop(self, order: Order) -> CancelResult:
        if order.state == OrderState.CONFIRMED:
            found = await self._safely(lambda: self.retailer.find_order(order_key(order)), f"finding order {order.id}")
            if found is None:
                self._change(order.id, OrderState.CANCELLED, "cancelled before the shop received it")
                return CancelResult(True)
            order = self._record_placed(order.id, found, "the shop had received it")
        if order.state == OrderState.PLACED and order.retailer_order_id:
            result = await self.retailer.cancel(order.retailer_order_id)
            if result.cancelled:
                self._change(order.id, OrderState.CANCELLED, "cancelled at the shop")
            else:
                await self.refresh(order.id)  # learn why: usually it has shipped
            return result
        reasons = {
            OrderState.SHIPPED: "it has already shipped",
            OrderState.DELIVERED: "it was already delivered",
            OrderState.FAILED: "it was never placed",
        }
        return CancelResult(order.state == OrderState.CANCELLED, reasons.get(order.state, "it was already cancelled"))

    # --- questions ------------------------------------------------------------
    def get(self, order_id: str) -> Order:
        with Session(self.engine) as session:
            row = session.get(tables.Order, order_id)
            if row is None:
                raise OrderError(f"no order {order_id}")
            return snapshots(session, [row])[0]

    def last_order(self) -> tuple[Order, list[OrderLine]] | None:
        """The newest order really made (imported or placed, not a proposal), by order date."""
        return _with_lines(query_orders(self.engine, source=None, states=BOUGHT | {OrderState.CONFIRMED}, limit=1))

    def last_placed(self) -> tuple[Order, list[OrderLine]] | None:
        """The newest assistant order the user confirmed (whatever happened to it since)."""
        return _with_lines(query_orders(self.engine, source=ASSISTANT, confirmed=True, limit=1))

    def last_cancellable(self) -> tuple[Order, list[OrderLine]] | None:
        """The newest assistant order the shop may still cancel."""
        return _with_lines(query_orders(self.engine, source=ASSISTANT, states={OrderState.PLACED}, limit=1))

    async def unsettled(self, sku: str) -> Order | None:
        """A confirmed order with `sku` that the shop has not acknowledged, after asking it once more.

        Proposing the same product again while such an order is in flight could order it twice.
        """
        for order in query_orders(self.engine, source=ASSISTANT, states={OrderState.CONFIRMED}):
            if any(line.sku == sku for line in order.lines):
                try:
                    order = await self._settle(order)
                except RetailerError as err:
                    log.warning("order %s still unsettled: %s", order.id, err)
                if order.state == OrderState.CONFIRMED:
                    return order
        return None

    def list_orders(self, include_history: bool = False) -> list[Order]:
        """The assistant's orders (and imported ones with `include_history`), newest first."""
        return query_orders(self.engine, source=None if include_history else ASSISTANT)

    # --- state changes ------------------------------------------------------------
    def _change(
        self, order_id: str, to: OrderState, note: str, *, only_from: OrderState | None = None, **fields: Any
    ) -> Order:
        """The one way an order changes state: checks TRANSITIONS, writes an OrderEvent, commits."""
        with write_session(self.engine) as session:
            row = session.get(tables.Order, order_id)
            if row is None or row.source != ASSISTANT:
                raise OrderError(f"no order {order_id} placed through the assistant")
            transition(session, row, to, note, self.clock(), only_from)
            for name, value in fields.items():
                setattr(row, name, value)
            session.commit()
            return snapshots(session, [row])[0]

    def _record_placed(self, order_id: str, placed: RetailerOrder, note: str) -> Order:
        """The shop has the order: confirmed → placed (→ its current state), with its id, total and date."""
        with write_session(self.engine) as session:
            row = session.get(tables.Order, order_id)
            if row is None:
                raise OrderError(f"no order {order_id}")
            if row.state != OrderState.CONFIRMED:  # recorded already (a concurrent call), or cancelled meanwhile
                log.warning("order %s is %s; the shop reports %s", order_id, row.state, placed.retailer_order_id)
                row.retailer_order_id = row.retailer_order_id or placed.retailer_order_id
                session.commit()
                return snapshots(session, [row])[0]
            now = self.clock()
            if placed.total_minor != row.total_minor:
                log.warning("order %s: shop charged %d, quoted %d", order_id, placed.total_minor, row.total_minor)
            transition(session, row, OrderState.PLACED, f"{note} ({placed.retailer_order_id})", now)
            row.retailer_order_id, row.total_minor = placed.retailer_order_id, placed.total_minor
            row.currency, row.delivery_estimate = placed.currency, placed.delivery_estimate
            if placed.state != OrderState.PLACED:
                transition(session, row, OrderState(placed.state), "reported by the shop", now)
            for line in placed.lines:
                record_product(session, line.sku, line.name, None, row.retailer, row.created_at)
            session.commit()
            return snapshots(session, [row])[0]

    def _follow(self, order_id: str, shop: RetailerOrder) -> Order:
        """Bring a placed/shipped order to the state the shop reports, where that is a legal step."""
        with write_session(self.engine) as session:
            row = session.get(tables.Order, order_id)
            if row is None:
                raise OrderError(f"no order {order_id}")
            target = OrderState(shop.state)
            if target != row.state and target in TRANSITIONS[row.state]:
                transition(session, row, target, "reported by the shop", self.clock())
            elif target != row.state:
                log.warning("order %s is %s; shop says %s: kept", order_id, row.state, target)
            row.delivery_estimate = shop.delivery_estimate
            session.commit()
            return snapshots(session, [row])[0]


def _with_lines(orders: list[Order]) -> tuple[Order, list[OrderLine]] | None:
    return (orders[0], list(orders[0].lines)) if orders else None


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """`assistant orders list|reconcile` (defined in orders_cli, which also builds the shop)."""
    from .orders_cli import register as register_commands

    register_commands(subparsers)
