"""The `kroger` adapter as the app builds it (entry point, client credentials from the 0600 secrets file,
tokens from a real authorisation-code login), against a fake Kroger API on loopback HTTP."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx

from assistant.config import PROJECT_ROOT, Config, load_config
from assistant.retailers.kroger import CLIENT_ID_ENV, CLIENT_SECRET_ENV, KrogerRetailer
from assistant.retailers.registry import create_retailer
from assistant.secrets import SECRETS_FILE_NAME, write_private
from assistant.storage.db import open_db
from tests.fake_kroger import DEMO_ITEMS, FakeItem, FakeKroger
from tests.household import FixedClock

from .harness import Harness
from .harness_demo import START


def kroger_config(home: Path, kroger: FakeKroger, **settings: object) -> Config:
    """A household set up for the fake Kroger: secrets file (0600) and retailer settings."""
    state = kroger.state
    write_private(
        home / SECRETS_FILE_NAME, f"{CLIENT_ID_ENV}={state.client_id}\n{CLIENT_SECRET_ENV}='{state.client_secret}'\n"
    )
    retailer = {"adapter": "kroger", "settings": {"location_id": state.location_id, "api_url": kroger.url, **settings}}
    return load_config(PROJECT_ROOT / "config.yml", overrides={"data_dir": str(home), "retailer": retailer})


async def log_in(retailer: KrogerRetailer) -> None:
    """The user's consent, as the browser would carry it: authorize → 302 → redirected URL with the code."""
    request = retailer.oauth.login_request()
    async with httpx.AsyncClient(trust_env=False) as client:
        answer = await client.get(request.url, follow_redirects=False)
    await retailer.oauth.finish_login(answer.headers["Location"], request)


def fake_kroger(clock: FixedClock) -> FakeKroger:
    return FakeKroger(
        f"assistant-{secrets.token_hex(4)}", secrets.token_urlsafe(24), clock, [FakeItem(**vars(i)) for i in DEMO_ITEMS]
    )


async def make(tmp_path: Path) -> Harness:
    clock = FixedClock(START)
    kroger = fake_kroger(clock)
    config = kroger_config(tmp_path / "home", kroger)
    engine = open_db(config.db_path)
    retailer = create_retailer(config, engine, clock)
    assert isinstance(retailer, KrogerRetailer)
    await log_in(retailer)

    def set_price(sku: str, unit_price_minor: int) -> None:
        with kroger.state.lock:
            item = kroger.state.products[sku]
            item.regular, item.promo = unit_price_minor / 100, 0.0

    async def close() -> None:
        await retailer.aclose()
        engine.dispose()
        kroger.close()

    skus = [i.upc for i in DEMO_ITEMS[:3]]
    return Harness(name="kroger", retailer=retailer, skus=skus, advance=None, set_price=set_price, close=close)
