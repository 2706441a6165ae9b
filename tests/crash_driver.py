"""A process that places one order and can be killed at a chosen step (run by tests/test_crash.py).

    python -m tests.crash_driver place STEP DB URL TOKEN SKU DECLINED_SKU
    python -m tests.crash_driver reconcile DB URL TOKEN

`place` proposes DECLINED_SKU and declines it, proposes SKU, says yes and places it, printing
`at <step>` when it reaches STEP; at `before_send` and `before_record` it then waits to be killed
(the pause sits in a retailer wrapper, at the boundary between the order book and the shop).
`reconcile` is the restart: it settles interrupted orders and prints the orders as JSON.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from assistant.orders import OrderBook
from assistant.retailers.base import OrderItem, RetailerOrder
from assistant.retailers.http import HTTPRetailer
from assistant.storage.db import open_db


def say(text: str) -> None:
    print(text, flush=True)


class PausingRetailer(HTTPRetailer):
    """The HTTP adapter, stopping for good at one step of placement."""

    def __init__(self, url: str, token: str, step: str) -> None:
        super().__init__(url, token=token, timeout_s=120, name="store")
        self.step = step

    async def place_order(self, items: list[OrderItem], idempotency_key: str) -> RetailerOrder:
        if self.step == "before_send":
            say("at before_send")
            await asyncio.sleep(3600)
        say("at in_flight")
        order = await super().place_order(items, idempotency_key)
        if self.step == "before_record":
            say("at before_record")
            await asyncio.sleep(3600)
        return order


async def place(step: str, db: str, url: str, token: str, sku: str, declined_sku: str) -> None:
    retailer = PausingRetailer(url, token, step)
    book = OrderBook(open_db(Path(db)), retailer)
    for wanted, yes in ((declined_sku, False), (sku, True)):
        items = [OrderItem(wanted, 1)]
        order = book.propose(items, await retailer.quote(items), "en")
        if not yes:
            book.decline(order.id)
            continue
        book.confirm(order.id)
        say("confirmed")
        placed = await book.place(order.id)
        say(f"placed {placed.retailer_order_id}")


async def reconcile(db: str, url: str, token: str) -> None:
    book = OrderBook(open_db(Path(db)), HTTPRetailer(url, token=token, timeout_s=30, name="store"))
    await book.reconcile()
    orders: list[dict[str, Any]] = [o.as_json() | {"key": o.idempotency_key} for o in book.list_orders()]
    say(json.dumps(orders))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    asyncio.run(place(*args) if command == "place" else reconcile(*args))
