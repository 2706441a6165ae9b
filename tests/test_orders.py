"""The order book against the real demo shop on loopback and a real SQLite file: never placed without a
confirmation, never placed twice, interrupted placements settled exactly once, lifecycle by the clock."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.config import PROJECT_ROOT
from assistant.errors import OrderError, RetailerError, RetailerUnavailable
from assistant.history import household_products, import_history
from assistant.orders import Order, OrderBook
from assistant.retailers.base import CancelResult, OrderItem
from assistant.retailers.registry import create_retailer
from assistant.storage.db import open_db
from assistant.storage.models import OrderState
from tests.household import FixedClock
from tests.test_retailer import FRIDAY, IMPORT, Demo, demo_config, make_demo, wait_until

S = OrderState


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Demo]:
    yield from make_demo(tmp_path, monkeypatch)


def book(demo: Demo) -> OrderBook:
    return OrderBook(demo.engine, demo.retailer, demo.clock)


async def proposed(orders: OrderBook, sku: str = "COF-1", quantity: int = 1) -> Order:
    items = [OrderItem(sku, quantity)]
    return orders.propose(items, await orders.retailer.quote(items), "en")


async def confirmed(orders: OrderBook, sku: str = "COF-1", quantity: int = 1) -> Order:
    return orders.confirm((await proposed(orders, sku, quantity)).id)


def states(order: Order) -> list[OrderState]:
    return [e.state for e in order.events]


def household_rows(demo: Demo, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(demo.config.db_path) as conn:
        return conn.execute(sql).fetchall()


async def test_a_proposal_is_stored_and_never_placed_without_a_confirmation(demo: Demo) -> None:
    orders = book(demo)
    order = await proposed(orders, quantity=2)
    assert (order.state, order.total_minor, order.currency, order.source) == (S.PROPOSED, 2980, "EUR", "assistant")
    assert order.delivery_estimate == datetime(2026, 11, 24, 12, tzinfo=UTC)
    assert [(l.sku, l.quantity, l.unit_price_minor) for l in order.lines] == [("COF-1", 2, 1490)]
    assert order.idempotency_key and order.retailer_order_id is None
    with pytest.raises(OrderError, match="only a confirmed order can be placed"):
        await orders.place(order.id)
    assert demo.shop_rows() == 0
    assert orders.get(order.id).state == S.PROPOSED


async def test_yes_commits_confirmed_before_the_shop_is_called_then_places_once(demo: Demo) -> None:
    orders = book(demo)
    order = await confirmed(orders)
    assert household_rows(demo, f"select state from 'order' where id = '{order.id}'") == [("confirmed",)]
    assert demo.shop_rows() == 0
    placed = await orders.place(order.id)
    assert (placed.state, placed.retailer_order_id, placed.total_minor) == (S.PLACED, "D-1001", 1490)
    assert states(placed) == [S.PROPOSED, S.CONFIRMED, S.PLACED]
    with pytest.raises(OrderError):
        await orders.place(order.id)
    # The shop itself returns the same order for the same key, whoever asks again.
    again = await demo.retailer.place_order([OrderItem("COF-1", 1)], placed.idempotency_key or "")
    assert again.retailer_order_id == "D-1001"
    assert demo.shop_rows() == 1


async def test_two_concurrent_placements_of_one_order_make_one_shop_order(demo: Demo) -> None:
    orders = book(demo)
    order = await confirmed(orders)
    results = await asyncio.gather(orders.place(order.id), orders.place(order.id), return_exceptions=True)
    placed = [r for r in results if isinstance(r, Order)]
    assert placed and {r.retailer_order_id for r in placed} == {"D-1001"}
    assert all(isinstance(r, (Order, OrderError)) for r in results)
    assert demo.shop_rows() == 1
    assert states(orders.get(order.id)).count(S.PLACED) == 1


async def test_decline_cancels_a_proposal_only(demo: Demo) -> None:
    orders = book(demo)
    order = await proposed(orders)
    assert orders.decline(order.id).state == S.CANCELLED
    with pytest.raises(OrderError, match="is cancelled; it cannot become confirmed"):
        orders.confirm(order.id)
    with pytest.raises(OrderError):
        orders.decline(order.id)
    placed = await orders.place(orders.confirm((await proposed(orders)).id).id)
    with pytest.raises(OrderError, match="is placed; it cannot become cancelled"):
        orders.decline(placed.id)
    assert demo.shop_rows() == 1


async def test_a_refusal_fails_the_order(demo: Demo) -> None:
    orders = book(demo)
    order = await confirmed(orders)
    shop = demo.retailer.shop
    shop.catalogue["COF-1"] = replace(shop.catalogue["COF-1"], in_stock=False)  # sold out since the quote
    with pytest.raises(RetailerError, match="out of stock"):
        await orders.place(order.id)
    failed = orders.get(order.id)
    assert failed.state == S.FAILED and "out of stock" in failed.events[-1].note
    assert demo.shop_rows() == 0


async def test_a_quote_that_does_not_match_the_items_is_refused(demo: Demo) -> None:
    orders = book(demo)
    quote = await demo.retailer.quote([OrderItem("COF-1", 1)])
    with pytest.raises(OrderError, match="does not match"):
        orders.propose([OrderItem("COF-1", 3)], quote, "en")
    mug = [OrderItem("MUG-1", 1)]
    with pytest.raises(OrderError, match="out of stock"):
        orders.propose(mug, await demo.retailer.quote(mug), "en")
    assert orders.list_orders() == []


# --- interrupted placements ---------------------------------------------------------------------
async def test_timeout_before_the_shop_got_it_stays_confirmed_then_reconcile_places_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for slow in make_demo(tmp_path, monkeypatch, request_delay_ms=60_000, timeout_s=0.3):
        order = await confirmed(book(slow))
        with pytest.raises(RetailerUnavailable):
            await book(slow).place(order.id)
        assert book(slow).get(order.id).state == S.CONFIRMED
        slow.retailer.close()  # the held request dies with the connection; the shop never stored it
        assert slow.shop_rows() == 0
        no_delay = {"catalogue": slow.config.retailer.settings["catalogue"]}
        config = replace(slow.config, retailer=replace(slow.config.retailer, settings=no_delay))
        healthy = create_retailer(config, slow.engine, slow.clock)
        try:
            orders = OrderBook(slow.engine, healthy, slow.clock)
            (settled,) = await orders.reconcile()
            assert (settled.id, settled.state, settled.retailer_order_id) == (order.id, S.PLACED, "D-1001")
            assert "placed after an interruption" in settled.events[-1].note
            assert await orders.reconcile() == []
            assert slow.shop_rows() == 1
        finally:
            healthy.close()  # type: ignore[attr-defined]


async def test_timeout_after_the_shop_got_it_is_recorded_without_a_second_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for slow in make_demo(tmp_path, monkeypatch, response_delay_ms=60_000, timeout_s=0.3):
        orders = book(slow)
        order = await confirmed(orders)
        with pytest.raises(RetailerUnavailable):
            await orders.place(order.id)
        assert orders.get(order.id).state == S.CONFIRMED
        wait_until(lambda: slow.shop_rows() == 1, "the shop to store the order")  # noqa: B023
        (settled,) = await orders.reconcile()  # find_order is not delayed: the shop answers at once
        assert (settled.state, settled.retailer_order_id) == (S.PLACED, "D-1001")
        assert "the shop had received it" in settled.events[-1].note
        assert slow.shop_rows() == 1


async def test_reconcile_leaves_orders_alone_while_the_shop_is_unreachable(demo: Demo) -> None:
    orders = book(demo)
    order = await confirmed(orders)
    demo.retailer.close()
    assert await orders.reconcile() == []
    assert orders.get(order.id).state == S.CONFIRMED


async def test_a_confirmed_order_older_than_a_day_that_the_shop_never_got_fails(demo: Demo) -> None:
    orders = book(demo)
    never_sent = await confirmed(orders)
    sent = await confirmed(orders, "OAT-BARISTA-1L")
    await demo.retailer.place_order([OrderItem("OAT-BARISTA-1L", 1)], sent.idempotency_key or "")
    demo.clock.now = FRIDAY + timedelta(hours=25)
    settled = {o.id: o for o in await orders.reconcile()}
    assert settled[never_sent.id].state == S.FAILED
    assert "too old to place now" in settled[never_sent.id].events[-1].note
    assert settled[sent.id].state == S.PLACED  # the shop had it: recorded, however late
    assert demo.shop_rows() == 1


# --- after placement ----------------------------------------------------------------------------
async def test_refresh_follows_the_shops_lifecycle(demo: Demo) -> None:
    orders = book(demo)
    order = await orders.place((await confirmed(orders)).id)
    assert (await orders.refresh(order.id)).state == S.PLACED
    demo.clock.now = FRIDAY + timedelta(days=3)  # Monday
    assert (await orders.refresh(order.id)).state == S.SHIPPED
    demo.clock.now = datetime(2026, 11, 24, 15, tzinfo=UTC)  # Tuesday, the estimate day
    done = await orders.refresh(order.id)
    assert states(done) == [S.PROPOSED, S.CONFIRMED, S.PLACED, S.SHIPPED, S.DELIVERED]
    assert [e.at for e in done.events][-2:] == [FRIDAY + timedelta(days=3), demo.clock.now]


async def test_cancel_a_placed_order_but_not_a_shipped_one(demo: Demo) -> None:
    orders = book(demo)
    first = await orders.place((await confirmed(orders)).id)
    assert orders.last_cancellable()[0].id == first.id  # type: ignore[index]
    assert await orders.cancel(first.id) == CancelResult(True)
    assert orders.get(first.id).state == S.CANCELLED
    assert (await demo.retailer.status("D-1001")).state == "cancelled"
    assert orders.last_cancellable() is None
    second = await orders.place((await confirmed(orders)).id)
    demo.clock.now = FRIDAY + timedelta(days=3)
    assert await orders.cancel(second.id) == CancelResult(False, "it has already shipped")
    assert orders.get(second.id).state == S.SHIPPED  # learnt from the shop while trying


async def test_cancelling_a_proposal_or_an_unsent_confirmation_never_reaches_the_shop(demo: Demo) -> None:
    orders = book(demo)
    assert await orders.cancel((await proposed(orders)).id) == CancelResult(True)
    unsent = await confirmed(orders)
    assert await orders.cancel(unsent.id) == CancelResult(True)
    assert orders.get(unsent.id).state == S.CANCELLED
    assert await orders.reconcile() == [] and demo.shop_rows() == 0


async def test_last_order_last_placed_and_history(demo: Demo) -> None:
    orders = book(demo)
    last = orders.last_order()
    assert last is not None and last[0].source == "history" and last[0].retailer_order_id == "R-202"
    await proposed(orders)  # a proposal is not an order yet
    assert orders.last_order()[0].retailer_order_id == "R-202"  # type: ignore[index]
    assert orders.last_placed() is None
    placed = await orders.place((await confirmed(orders, "BENCH-1")).id)
    order, lines = orders.last_order()  # type: ignore[misc]
    assert order.id == placed.id and [l.name for l in lines] == ["Garden bench"]
    assert orders.last_placed()[0].id == placed.id  # type: ignore[index]
    assert orders.list_orders()[0].id == placed.id and len(orders.list_orders()) == 2
    assert len(orders.list_orders(include_history=True)) == 5
    bench = {p.sku: p for p in household_products(demo.engine)}["BENCH-1"]  # bought through the assistant
    assert (bench.times_ordered, bench.last_unit_price_minor, bench.name) == (1, 8900, "Garden bench")


# --- a process killed between "yes" and the shop's answer, then the command line ---------------------------
CHILD = """
import asyncio, sys
from assistant.config import load_config
from assistant.orders_cli import open_order_book
from assistant.retailers.base import OrderItem

async def main():
    async with open_order_book(load_config(sys.argv[1])) as book:
        items = [OrderItem("COF-1", 1)]
        order = book.propose(items, await book.retailer.quote(items), "en")
        await book.place(book.confirm(order.id).id)

asyncio.run(main())
"""


@pytest.mark.parametrize("shop_has_it", [False, True], ids=["killed before the shop got it", "before it answered"])
def test_killed_between_yes_and_the_shop_then_reconciled_by_the_cli(
    shop_has_it: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    household_config = demo_config(tmp_path, monkeypatch)  # writes the catalogue, sets ASSISTANT_HOME
    import_history(open_db(household_config.db_path), IMPORT / "household.csv", clock=FixedClock())
    home, catalogue = household_config.home, household_config.retailer.settings["catalogue"]
    env = {**os.environ, "ASSISTANT_HOME": str(home)}

    def config(**delay: int) -> Path:
        path = tmp_path / f"config-{len(delay)}.yml"
        path.write_text(json.dumps({"retailer": {"adapter": "demo", "settings": {"catalogue": catalogue, **delay}}}))
        return path

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "assistant", "--config", str(config()), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=PROJECT_ROOT,
        )

    delay = {"response_delay_ms": 60_000} if shop_has_it else {"request_delay_ms": 60_000}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(config(**delay))], env=env, cwd=PROJECT_ROOT)
    try:
        household, shop = home / "assistant.sqlite", home / "demo_retailer.sqlite"
        wait_until(lambda: rows(household, "select id from 'order' where state = 'confirmed'"), "the confirmation")
        if shop_has_it:
            wait_until(lambda: rows(shop, "select * from shop_order"), "the shop to store the order")
        else:
            assert not rows(shop, "select * from shop_order")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    (order_id,) = rows(household, "select id from 'order'")[0]

    reconciled = cli("orders", "reconcile")
    assert reconciled.returncode == 0, reconciled.stderr
    assert reconciled.stdout.strip() == f"Order {order_id}: now placed (D-1001)"
    assert cli("orders", "reconcile").stdout.strip() == "Nothing to reconcile."
    assert len(rows(shop, "select * from shop_order")) == 1
    (listed,) = json.loads(cli("orders", "list", "--json").stdout)
    assert set(listed) == {
        "id",
        "state",
        "source",
        "retailer",
        "retailer_order_id",
        "total_minor",
        "currency",
        "created_at",
        "updated_at",
        "delivery_estimate",
        "lines",
        "events",
    }
    assert (listed["id"], listed["state"], listed["retailer_order_id"]) == (order_id, "placed", "D-1001")
    assert listed["lines"] == [
        {
            "sku": "COF-1",
            "name": "Lavazza Qualità Rossa coffee beans 1 kg",
            "quantity": 1,
            "unit_price_minor": 1490,
            "currency": "EUR",
        }
    ]
    assert [e["state"] for e in listed["events"]] == ["proposed", "confirmed", "placed"]
    assert datetime.fromisoformat(listed["delivery_estimate"]) > datetime.fromisoformat(listed["created_at"])
    assert len(json.loads(cli("orders", "list", "--json", "--all").stdout)) == 4  # + the 3 imported orders
    assert "D-1001" in cli("orders", "list").stdout


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:  # not created yet
            return []
