"""A household, the reference store behind the fault proxy, and an order book: shared by the fault tests
and bench/orders.py."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from assistant.config import PROJECT_ROOT
from assistant.errors import RetailerError, RetailerUnavailable
from assistant.orders import OrderBook
from assistant.retailers.base import OrderItem
from assistant.retailers.demo_catalogue import load_catalogue
from assistant.retailers.demo_shop import DemoShop
from assistant.retailers.demo_store import ShopStore
from assistant.retailers.http import HTTPRetailer
from assistant.retailers.retry import RetryPolicy
from assistant.storage.db import open_db
from tests.fault_proxy import FaultProxy

CATALOGUE = PROJECT_ROOT / "data" / "demo" / "catalogue.csv"
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
#: Quick retries so a test takes seconds; the shape (backoff, deadline, timeouts) is the production one.
FAST = RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.05, call_timeout_s=2.0, deadline_s=5.0)


@dataclass
class Rig:
    """Store + proxy + adapter + household order book."""

    shop: DemoShop
    proxy: FaultProxy
    retailer: HTTPRetailer
    engine: Engine
    book: OrderBook
    skus: list[str]

    def shop_orders(self, key: str | None = None) -> int:
        if key is None:
            return self.shop.store.count()
        return int(self.shop.store.by_key(key) is not None)

    async def close(self) -> None:
        await self.proxy.close()
        self.shop.close()
        self.engine.dispose()


async def make_rig(
    tmp_path: Path, *, timeout_s: float = 0.5, policy: RetryPolicy = FAST, slow_s: float = 0.0, **book: object
) -> Rig:
    catalogue = load_catalogue(CATALOGUE, "EUR")
    shop = DemoShop(catalogue, ShopStore(tmp_path / "store.sqlite"), clock=lambda: MONDAY, token="fault-token")
    proxy = FaultProxy(shop.start(), slow_s=slow_s, hang_s=timeout_s * 4)
    retailer = HTTPRetailer(await proxy.start(), token="fault-token", timeout_s=timeout_s, name="faulty")
    engine = open_db(tmp_path / "assistant.sqlite")
    orders = OrderBook(engine, retailer, lambda: MONDAY, policy=policy, **book)  # type: ignore[arg-type]
    skus = [p.sku for p in catalogue.values() if p.in_stock]
    return Rig(shop, proxy, retailer, engine, orders, skus)


async def say_yes(rig: Rig, sku: str, quantity: int = 1) -> tuple[str, str]:
    """Propose from a quote (read without faults), confirm, place: (order id, what the user is told):
    `ordered`, `not ordered` or `unconfirmed` ("I could not confirm it yet; I will check and tell you")."""
    items = [OrderItem(sku, quantity)]
    saved = rig.proxy.paths
    rig.proxy.paths = ("/orders",)  # the quote is read before the yes; faults aim at placement
    try:
        quote = await rig.retailer.quote(items)
    finally:
        rig.proxy.paths = saved
    order = rig.book.propose(items, quote, "en")
    rig.book.confirm(order.id)
    try:
        placed = await rig.book.place(order.id)
    except RetailerUnavailable:
        return order.id, "unconfirmed"
    except RetailerError:
        return order.id, "not ordered"
    return order.id, "ordered" if placed.retailer_order_id else "unconfirmed"


def new_key() -> str:
    return f"fault-{uuid.uuid4()}"
