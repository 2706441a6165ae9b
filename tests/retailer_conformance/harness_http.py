"""The `http` adapter against the reference store, served on real loopback HTTP with a bearer token."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

from assistant.retailers.demo_catalogue import load_catalogue
from assistant.retailers.demo_shop import DemoShop
from assistant.retailers.demo_store import ShopStore
from assistant.retailers.http import HTTPRetailer
from tests.household import FixedClock

from .harness import Harness
from .harness_demo import CATALOGUE, START


async def make(tmp_path: Path) -> Harness:
    clock = FixedClock(START)
    token = secrets.token_urlsafe(16)
    catalogue = load_catalogue(CATALOGUE, "EUR")
    shop = DemoShop(catalogue, ShopStore(tmp_path / "store.sqlite"), clock=clock, token=token)
    retailer = HTTPRetailer(shop.start(), token=token, timeout_s=10, name="reference store")

    def advance(delta: timedelta) -> None:
        clock.now += delta

    def set_price(sku: str, unit_price_minor: int) -> None:
        shop.set_price(sku, unit_price_minor)

    async def close() -> None:
        await retailer.aclose()
        shop.close()

    stocked = [p.sku for p in catalogue.values() if p.in_stock]
    return Harness(
        name="http",
        retailer=retailer,
        skus=stocked[-3:],
        advance=advance,
        set_price=set_price,
        close=close,
    )
