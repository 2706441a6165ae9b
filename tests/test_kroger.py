"""The Kroger adapter against a fake Kroger API on loopback HTTP: the OAuth2 login (loopback listener and paste),
refresh on expiry and on 401, the 0600 token file, a cart that is never filled twice, the truth after a
lost answer, and no secret in the logs."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from assistant.errors import ConfigError, RetailerError, RetailerUnavailable
from assistant.retailers.base import OrderItem, capabilities_of
from assistant.retailers.kroger import CLIENT_ID_ENV, CLIENT_SECRET_ENV, NOT_CONFIRMED, KrogerRetailer, create
from assistant.retailers.kroger_auth import TOKEN_FILE
from assistant.retailers.kroger_journal import JOURNAL_FILE, CartJournal
from assistant.retailers.login_cli import run_login
from assistant.secrets import SECRETS_FILE_ENV
from tests.fake_kroger import FakeKroger
from tests.household import FixedClock
from tests.retailer_conformance.harness_demo import START
from tests.retailer_conformance.harness_kroger import fake_kroger, kroger_config, log_in

MILK, EGGS, BREAD, COFFEE, OAT = "0001111041700", "0001111060903", "0007225003712", "0001111085030", "0001111091234"


@dataclass
class Setup:
    kroger: FakeKroger
    clock: FixedClock
    home: Path
    shop: KrogerRetailer

    def restart(self) -> KrogerRetailer:
        """The adapter as a restarted assistant builds it: same household files."""
        return create(kroger_config(self.home, self.kroger), None, self.clock)


@pytest.fixture
async def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Setup]:
    for name in (CLIENT_ID_ENV, CLIENT_SECRET_ENV, SECRETS_FILE_ENV, "ASSISTANT_HOME"):
        monkeypatch.delenv(name, raising=False)
    clock = FixedClock(START)
    kroger = fake_kroger(clock)
    home = tmp_path / "home"
    shop = create(kroger_config(home, kroger), None, clock)
    yield Setup(kroger, clock, home, shop)
    await shop.aclose()
    kroger.close()


async def test_login_through_the_loopback_listener_stores_tokens_readable_only_by_the_owner(setup: Setup) -> None:
    said: list[str] = []
    ready = threading.Event()
    config = kroger_config(setup.home, setup.kroger, redirect_uri=f"http://127.0.0.1:{_free_port()}/callback")
    login = asyncio.create_task(run_login(config, timeout_s=30, say=said.append, ready=ready))
    await asyncio.to_thread(ready.wait, 30)
    url = said[1]
    assert url.startswith(setup.kroger.url + "/connect/oauth2/authorize?")
    assert "scope=cart.basic%3Awrite+product.compact" in url and "response_type=code" in url
    async with httpx.AsyncClient(trust_env=False) as browser:  # the user consents; Kroger redirects the browser
        page = await browser.get(url, follow_redirects=True)
    assert "You can close this tab" in page.text
    await login
    tokens = setup.home / TOKEN_FILE
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    assert setup.kroger.state.grants == ["authorization_code"]
    assert [p.sku for p in await setup.shop.search("milk")] == [MILK, OAT]


async def test_login_by_pasting_the_redirected_url_checks_its_state(setup: Setup) -> None:
    said: list[str] = []

    def paste(prompt: str) -> str:
        answer = httpx.get(said[1], follow_redirects=False)
        return answer.headers["Location"]

    await run_login(kroger_config(setup.home, setup.kroger), paste=True, ask=paste, say=said.append)
    assert (setup.home / TOKEN_FILE).exists()
    with pytest.raises(RetailerError, match="state does not match"):
        await run_login(
            kroger_config(setup.home, setup.kroger),
            paste=True,
            ask=lambda prompt: "http://127.0.0.1:8976/callback?code=abc&state=forged",
            say=said.append,
        )


async def test_an_expired_token_is_refreshed_before_the_call(setup: Setup) -> None:
    await log_in(setup.shop)
    setup.clock.now += timedelta(minutes=31)
    assert await setup.shop.search("eggs")
    assert setup.kroger.state.grants == ["authorization_code", "refresh_token"]
    assert await setup.shop.search("bread")
    assert setup.kroger.state.grants.count("refresh_token") == 1, "the new token is reused until it expires"


async def test_a_401_refreshes_once_and_retries(setup: Setup) -> None:
    await log_in(setup.shop)
    setup.kroger.revoke()  # the server forgets the access token early
    assert [p.sku for p in await setup.shop.search("eggs")] == [EGGS]
    assert setup.kroger.state.grants == ["authorization_code", "refresh_token"]


async def test_an_expired_refresh_token_asks_the_user_to_log_in_again(setup: Setup) -> None:
    with pytest.raises(RetailerError, match="not logged in") as err:
        await setup.shop.search("milk")
    assert "assistant retailer login kroger" in str(err.value)
    await log_in(setup.shop)
    setup.kroger.revoke()
    setup.kroger.state.refresh.clear()
    with pytest.raises(RetailerError, match="refused the login") as err:
        await setup.shop.search("milk")
    assert not isinstance(err.value, RetailerUnavailable) and "assistant retailer login kroger" in str(err.value)


async def test_a_token_file_others_can_read_is_refused_with_the_chmod(setup: Setup) -> None:
    await log_in(setup.shop)
    os.chmod(setup.home / TOKEN_FILE, 0o644)
    with pytest.raises(ConfigError, match=f"chmod 600 {setup.home / TOKEN_FILE}"):
        await setup.shop.search("milk")


async def test_search_and_quote_use_the_store_price_promo_first_and_say_what_is_unavailable(setup: Setup) -> None:
    await log_in(setup.shop)
    (eggs,) = await setup.shop.search("eggs")
    assert (eggs.name, eggs.brand, eggs.unit_price_minor, eggs.currency) == (
        "Kroger Large White Eggs 12 ct",
        "Kroger",
        249,
        "USD",
    )
    quote = await setup.shop.quote([OrderItem(MILK, 2), OrderItem(COFFEE, 1), OrderItem(OAT, 1)])
    assert [(l.unit_price_minor, l.available) for l in quote.lines] == [(349, True), (899, False), (379, True)]
    assert await setup.shop.search("") == []
    with pytest.raises(RetailerError, match="no such product"):
        await setup.shop.quote([OrderItem("0000000000000", 1)])


async def test_the_cart_gets_each_key_once(setup: Setup) -> None:
    await log_in(setup.shop)
    order = await setup.shop.place_order([OrderItem(MILK, 2), OrderItem(BREAD, 1)], "key-1")
    again = await setup.restart().place_order([OrderItem(MILK, 2), OrderItem(BREAD, 1)], "key-1")
    assert again == order and setup.kroger.puts() == 1
    assert setup.kroger.state.cart == {(MILK, "PICKUP"): 2, (BREAD, "PICKUP"): 1}
    assert await setup.shop.find_order("key-1") == order
    assert await setup.restart().status(order.retailer_order_id) == order
    with pytest.raises(RetailerError, match="already used for other items"):
        await setup.shop.place_order([OrderItem(MILK, 3)], "key-1")
    caps = capabilities_of(setup.shop)
    assert (caps.cancel, caps.status, caps.lookup_by_key, caps.fulfilment) == (False, False, False, "cart")
    refused = await setup.shop.cancel(order.retailer_order_id)
    assert not refused.cancelled and "Kroger app" in refused.reason


async def test_an_unavailable_product_is_refused_before_anything_is_sent(setup: Setup) -> None:
    await log_in(setup.shop)
    delivery = create(kroger_config(setup.home, setup.kroger, modality="DELIVERY"), None, setup.clock)
    with pytest.raises(RetailerError, match="not available"):
        await delivery.place_order([OrderItem(OAT, 1)], "key-2")  # no delivery for oat milk
    await delivery.aclose()
    assert setup.kroger.puts() == 0 and setup.kroger.state.cart == {}


async def test_a_lost_cart_answer_is_never_resent_and_is_reported_as_not_confirmed(setup: Setup) -> None:
    await log_in(setup.shop)
    setup.kroger.state.drop_after_commit = 1  # Kroger fills the cart, the answer is lost
    with pytest.raises(RetailerUnavailable) as lost:
        await setup.shop.place_order([OrderItem(MILK, 1)], "key-3")
    assert lost.value.message == NOT_CONFIRMED
    for shop in (setup.shop, setup.restart()):
        with pytest.raises(RetailerUnavailable, match="could not confirm"):
            await shop.place_order([OrderItem(MILK, 1)], "key-3")
        with pytest.raises(RetailerUnavailable, match="could not confirm"):
            await shop.find_order("key-3")
    assert setup.kroger.puts() == 1 and setup.kroger.state.cart == {(MILK, "PICKUP"): 1}


async def test_a_crash_mid_put_leaves_the_key_unconfirmed_not_resent(setup: Setup) -> None:
    await log_in(setup.shop)
    quote = await setup.shop.quote([OrderItem(EGGS, 1)])
    journal = CartJournal(setup.home / JOURNAL_FILE)  # what a process killed during the PUT leaves behind
    journal.begin("key-4", quote.lines, "USD", setup.clock())
    journal.close()
    with pytest.raises(RetailerUnavailable, match="could not confirm"):
        await setup.restart().place_order([OrderItem(EGGS, 1)], "key-4")
    assert setup.kroger.puts() == 0


async def test_a_request_that_never_left_or_was_refused_busy_may_be_sent_again(setup: Setup) -> None:
    await log_in(setup.shop)
    setup.kroger.state.fail_status.append(503)
    with pytest.raises(RetailerUnavailable) as busy:
        await setup.shop.place_order([OrderItem(BREAD, 1)], "key-5")
    assert busy.value.retry_safe
    assert await setup.shop.find_order("key-5") is None
    order = await setup.shop.place_order([OrderItem(BREAD, 1)], "key-5")
    assert order.idempotency_key == "key-5" and setup.kroger.state.cart == {(BREAD, "PICKUP"): 1}


async def test_no_secret_reaches_the_logs(
    setup: Setup, caplog: pytest.LogCaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    await log_in(setup.shop)
    setup.clock.now += timedelta(hours=1)
    await setup.shop.search("milk")
    setup.kroger.revoke()
    await setup.shop.place_order([OrderItem(MILK, 1)], "key-6")
    state = setup.kroger.state
    secrets_seen = [state.client_secret, *state.refresh, *state.access]
    assert caplog.records, "the flow logs something, so the check below means something"
    assert not [s for s in secrets_seen if s in caplog.text + repr(setup.shop) + repr(setup.shop.oauth)]


def test_client_credentials_in_config_yml_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (CLIENT_ID_ENV, CLIENT_SECRET_ENV, SECRETS_FILE_ENV, "ASSISTANT_HOME"):
        monkeypatch.delenv(name, raising=False)
    clock = FixedClock(START)
    kroger = fake_kroger(clock)
    try:
        with pytest.raises(ConfigError, match=r"retailer\.settings\.client_secret: secrets do not belong"):
            create(kroger_config(tmp_path, kroger, client_secret="s3cret"), None, clock)
        (tmp_path / "secrets.env").unlink()
        with pytest.raises(ConfigError, match=CLIENT_ID_ENV):
            create(kroger_config_without_secrets(tmp_path, kroger), None, clock)
    finally:
        kroger.close()


def kroger_config_without_secrets(home: Path, kroger: FakeKroger):  # type: ignore[no-untyped-def]
    config = kroger_config(home, kroger)
    (home / "secrets.env").unlink()
    return config


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
