"""The `grocy` adapter as the app builds it (entry point, config.yml settings, key from the 0600 secrets file),
against a fake Grocy on loopback HTTP."""

from __future__ import annotations

import secrets
from pathlib import Path

from assistant.config import PROJECT_ROOT, load_config
from assistant.retailers.grocy import API_KEY_ENV, GrocyRetailer
from assistant.retailers.registry import create_retailer
from assistant.secrets import SECRETS_FILE_NAME, write_private
from assistant.storage.db import open_db
from tests.fake_grocy import DEMO_PRODUCTS, FakeGrocy, FakeProduct
from tests.household import FixedClock

from .harness import Harness
from .harness_demo import START


async def make(tmp_path: Path) -> Harness:
    key = secrets.token_urlsafe(16)
    grocy = FakeGrocy(key, [FakeProduct(**vars(p)) for p in DEMO_PRODUCTS])
    home = tmp_path / "home"
    write_private(home / SECRETS_FILE_NAME, f"{API_KEY_ENV}={key}\n")
    retailer_config = {"adapter": "grocy", "settings": {"url": grocy.url, "timeout_s": 10}}
    config = load_config(PROJECT_ROOT / "config.yml", overrides={"data_dir": str(home), "retailer": retailer_config})
    engine = open_db(config.db_path)
    retailer = create_retailer(config, engine, FixedClock(START))
    assert isinstance(retailer, GrocyRetailer)

    def set_price(sku: str, unit_price_minor: int) -> None:
        with grocy.state.lock:
            grocy.state.products[int(sku)].last_price = unit_price_minor / 100

    async def close() -> None:
        await retailer.aclose()
        engine.dispose()
        grocy.close()

    return Harness(
        name="grocy", retailer=retailer, skus=["1", "2", "3"], advance=None, set_price=set_price, close=close
    )
