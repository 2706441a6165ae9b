"""The `demo` adapter as the app builds it: the demo shop started in this process, on loopback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from assistant.config import PROJECT_ROOT, load_config
from assistant.retailers.demo_catalogue import load_catalogue
from assistant.retailers.registry import LocalDemoRetailer, create_retailer
from assistant.storage.db import open_db
from tests.household import FixedClock

from .harness import Harness

CATALOGUE = PROJECT_ROOT / "data" / "demo" / "catalogue.csv"
#: A Monday morning, so business-day delivery dates are easy to follow.
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def make(tmp_path: Path) -> Harness:
    retailer_config = {"adapter": "demo", "settings": {"catalogue": str(CATALOGUE)}}
    config = load_config(
        PROJECT_ROOT / "config.yml", overrides={"data_dir": str(tmp_path / "home"), "retailer": retailer_config}
    )
    engine = open_db(config.db_path)
    clock = FixedClock(START)
    retailer = create_retailer(config, engine, clock)
    assert isinstance(retailer, LocalDemoRetailer)

    def advance(delta: timedelta) -> None:
        clock.now += delta

    def set_price(sku: str, unit_price_minor: int) -> None:
        retailer.shop.set_price(sku, unit_price_minor)

    async def close() -> None:
        await retailer.aclose()
        engine.dispose()

    stocked = [p.sku for p in load_catalogue(CATALOGUE, "EUR").values() if p.in_stock]
    return Harness(
        name="demo",
        retailer=retailer,
        skus=stocked[:3],
        advance=advance,
        set_price=set_price,
        close=close,
    )
