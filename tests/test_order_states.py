"""Property tests of the order state machine: any interleaving of proposals, yeses, noes, placements
that fail in any way, restarts, status checks and cancellations keeps the books straight.

The shop here is a test fake with scripted faults (lost request, lost answer, refusal), so hypothesis
can run thousands of steps; the real store's behaviour under the same faults is in test_retailer_faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import tempfile
from collections.abc import Coroutine
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, precondition, rule

from assistant.errors import OrderError, RetailerError, RetailerUnavailable
from assistant.orders import OrderBook
from assistant.retailers.base import CancelResult, OrderItem, Quote, QuoteLine, RetailerOrder
from assistant.retailers.retry import RetryPolicy
from assistant.storage.db import open_db
from assistant.storage.models import BOUGHT, TRANSITIONS, OrderState

T = TypeVar("T")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FAULTS = st.sampled_from(["ok", "ok", "lost_request", "lost_answer", "refuse"])


class ScriptedShop:
    """A shop with one order per idempotency key, whose next calls fail as scripted."""

    name = "scripted"

    def __init__(self) -> None:
        self.orders: dict[str, RetailerOrder] = {}
        self.faults: list[str] = []

    def _fault(self) -> str:
        return self.faults.pop(0) if self.faults else "ok"

    async def search(self, query: str, limit: int = 10) -> list[Any]:
        return []

    async def quote(self, items: list[OrderItem]) -> Quote:
        lines = tuple(QuoteLine(i.sku, i.sku.lower(), i.quantity, 250, "EUR", True) for i in items)
        return Quote(lines, sum(l.quantity * 250 for l in lines), "EUR", NOW + timedelta(days=2))

    async def place_order(self, items: list[OrderItem], idempotency_key: str) -> RetailerOrder:
        fault = self._fault()
        if fault == "lost_request":
            raise RetailerUnavailable("lost on the way", retry_safe=True)
        if fault == "refuse" and idempotency_key not in self.orders:
            raise RetailerError("refused")
        quote = await self.quote(items)
        order = self.orders.setdefault(
            idempotency_key,
            RetailerOrder(
                f"S-{len(self.orders) + 1}",
                idempotency_key,
                "placed",
                quote.lines,
                quote.total_minor,
                "EUR",
                quote.delivery_estimate,
            ),
        )
        if fault == "lost_answer":
            raise RetailerUnavailable("answer lost", retry_safe=True)
        return order

    async def find_order(self, idempotency_key: str) -> RetailerOrder | None:
        if self._fault() in ("lost_request", "lost_answer"):
            raise RetailerUnavailable("lost", retry_safe=True)
        return self.orders.get(idempotency_key)

    def _by_id(self, retailer_order_id: str) -> RetailerOrder:
        return next(o for o in self.orders.values() if o.retailer_order_id == retailer_order_id)

    async def status(self, retailer_order_id: str) -> RetailerOrder:
        return self._by_id(retailer_order_id)

    async def cancel(self, retailer_order_id: str) -> CancelResult:
        order = self._by_id(retailer_order_id)
        if order.state != "placed":
            return CancelResult(order.state == "cancelled", f"it is {order.state}")
        self.orders[order.idempotency_key] = replace(order, state="cancelled")
        return CancelResult(True)

    def ship(self) -> None:
        for key, order in self.orders.items():
            step = {"placed": "shipped", "shipped": "delivered"}.get(order.state)
            if step:
                self.orders[key] = replace(order, state=step)


async def _no_sleep(seconds: float) -> None:
    return None


class OrderBookMachine(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="order-states-"))
        self.engine = open_db(self.dir / "assistant.sqlite")
        self.shop = ScriptedShop()
        policy = RetryPolicy(attempts=2, base_delay_s=0, max_delay_s=0, call_timeout_s=5, deadline_s=10)
        self.book = OrderBook(self.engine, self.shop, lambda: NOW, policy=policy, sleep=_no_sleep)  # type: ignore[arg-type]
        self.loop = asyncio.new_event_loop()
        self.confirmed: set[str] = set()
        self.told_ordered: set[str] = set()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    @rule(target=orders, sku=st.sampled_from(["A", "B", "C"]), quantity=st.integers(1, 3))
    def propose(self, sku: str, quantity: int) -> str:
        items = [OrderItem(sku, quantity)]
        return self.book.propose(items, self.run(self.shop.quote(items)), "en").id

    @rule(order_id=orders)
    def decline(self, order_id: str) -> None:
        try:
            self.book.decline(order_id)
        except OrderError:
            assert self.book.get(order_id).state != OrderState.PROPOSED

    @rule(order_id=orders, faults=st.lists(FAULTS, max_size=3))
    def yes_and_place(self, order_id: str, faults: list[str]) -> None:
        try:
            self.book.confirm(order_id)
        except OrderError:
            assert self.book.get(order_id).state != OrderState.PROPOSED
            return
        self.confirmed.add(order_id)
        self.shop.faults = faults
        try:
            placed = self.run(self.book.place(order_id))
        except RetailerUnavailable:
            assert self.book.get(order_id).state == OrderState.CONFIRMED  # "I could not confirm it yet"
        except RetailerError:
            assert self.book.get(order_id).state == OrderState.FAILED  # "not ordered"
        else:
            assert placed.state in BOUGHT
            self.told_ordered.add(order_id)
        self.shop.faults = []

    @rule(faults=st.lists(FAULTS, max_size=4))
    def restart(self, faults: list[str]) -> None:
        self.shop.faults = faults
        self.run(self.book.reconcile())
        self.shop.faults = []

    @rule()
    def the_shop_ships(self) -> None:
        self.shop.ship()

    @rule(order_id=orders)
    def refresh(self, order_id: str) -> None:
        with contextlib.suppress(RetailerError):
            self.run(self.book.refresh(order_id))

    @precondition(lambda self: bool(self.confirmed))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.confirmed)))
        result = self.run(self.book.cancel(order_id))
        order = self.book.get(order_id)
        assert result.cancelled == (order.state == OrderState.CANCELLED) or not result.cancelled
        if result.cancelled:
            assert order.state == OrderState.CANCELLED
        else:
            assert result.reason

    @invariant()
    def books_are_straight(self) -> None:
        for order in self.book.list_orders():
            states = [e.state for e in order.events]
            assert states[0] == OrderState.PROPOSED
            assert all(b in TRANSITIONS[a] for a, b in itertools.pairwise(states)), states
            at_shop = self.shop.orders.get(order.idempotency_key or "")
            if order.id not in self.confirmed:
                assert at_shop is None, "an order the user never confirmed reached the shop"
            if order.state in BOUGHT:
                assert at_shop is not None and at_shop.retailer_order_id == order.retailer_order_id
            if order.state == OrderState.FAILED:
                assert at_shop is None
        assert len({o.retailer_order_id for o in self.shop.orders.values()}) == len(self.shop.orders)
        for order_id in self.told_ordered:  # never a false "done"
            assert self.book.get(order_id).idempotency_key in self.shop.orders

    def teardown(self) -> None:
        try:
            self.run(self.book.reconcile())  # a healthy restart settles everything
            for order in self.book.list_orders():
                assert order.state != OrderState.CONFIRMED, order.events
                at_shop = self.shop.orders.get(order.idempotency_key or "")
                if order.state in BOUGHT:
                    assert at_shop is not None
        finally:
            self.loop.close()
            self.engine.dispose()
            shutil.rmtree(self.dir, ignore_errors=True)


OrderBookMachine.TestCase.settings = settings(
    max_examples=40, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestOrderStates = OrderBookMachine.TestCase
