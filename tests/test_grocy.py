"""The Grocy adapter against a fake Grocy on loopback HTTP: search, stock, prices, the list as an order,
retries that never add twice, honest cancel, and the API key kept out of config.yml and logs."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.app import build_app
from assistant.config import PROJECT_ROOT, load_config
from assistant.errors import ConfigError, RetailerError, RetailerUnavailable
from assistant.history import import_history
from assistant.nlu.client import NLUClient
from assistant.retailers.base import OrderItem, capabilities_of
from assistant.retailers.grocy import API_KEY_ENV, GrocyRetailer, GrocySettings, create
from assistant.secrets import SECRETS_FILE_ENV, SECRETS_FILE_NAME, Secret, write_private
from assistant.storage.db import open_db
from tests.fake_grocy import DEMO_PRODUCTS, FakeGrocy, FakeProduct
from tests.household import FixedClock

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def grocy() -> Iterator[FakeGrocy]:
    server = FakeGrocy(secrets.token_urlsafe(16), [FakeProduct(**vars(p)) for p in DEMO_PRODUCTS])
    yield server
    server.close()


def adapter(grocy: FakeGrocy, key: str | None = None, **settings: object) -> GrocyRetailer:
    values = {"url": grocy.url, "timeout_s": 5.0, **settings}
    return GrocyRetailer(
        GrocySettings(**values),  # type: ignore[arg-type]
        Secret(API_KEY_ENV, key or grocy.state.api_key),
        FixedClock(NOW),
    )


def config_for(home: Path, settings: dict[str, object]):  # type: ignore[no-untyped-def]
    retailer = {"adapter": "grocy", "settings": settings}
    return load_config(PROJECT_ROOT / "config.yml", overrides={"data_dir": str(home), "retailer": retailer})


async def test_search_matches_names_skips_inactive_products_and_prices_them(grocy: FakeGrocy) -> None:
    found = await adapter(grocy).search("milk")
    assert [(p.sku, p.name, p.unit_price_minor, p.currency) for p in found] == [("1", "Whole milk 1 l", 115, "EUR")]
    everything = await adapter(grocy).search("", limit=10)
    assert "6" not in {p.sku for p in everything}, "inactive products are not offered"
    assert len(await adapter(grocy).search("", limit=2)) == 2


async def test_quote_uses_last_price_then_average_and_zero_when_grocy_knows_none(grocy: FakeGrocy) -> None:
    quote = await adapter(grocy).quote([OrderItem("3", 2), OrderItem("4", 1), OrderItem("5", 3)])
    assert [(l.name, l.unit_price_minor) for l in quote.lines] == [
        ("Coffee beans 1 kg", 1490),
        ("Sourdough bread", 320),
        ("Dish soap", 0),
    ]
    assert quote.total_minor == 2 * 1490 + 320 and quote.currency == "EUR"


async def test_the_currency_comes_from_grocy_unless_configured(grocy: FakeGrocy) -> None:
    grocy.state.currency = "CHF"
    assert (await adapter(grocy).quote([OrderItem("1", 1)])).currency == "CHF"
    assert (await adapter(grocy, currency="EUR").quote([OrderItem("1", 1)])).currency == "EUR"


async def test_stock_reads_what_the_household_has(grocy: FakeGrocy) -> None:
    stock = {s.sku: (s.name, s.amount) for s in await adapter(grocy).stock()}
    assert stock == {"1": ("Whole milk 1 l", 2.0), "3": ("Coffee beans 1 kg", 1.0)}


async def test_placing_puts_one_row_per_line_on_the_list_with_the_key_in_its_note(grocy: FakeGrocy) -> None:
    order = await adapter(grocy).place_order([OrderItem("1", 2), OrderItem("4", 1)], "key-1")
    rows = list(grocy.state.shopping_list.values())
    assert [(r["product_id"], r["amount"], r["shopping_list_id"]) for r in rows] == [(1, 2, 1), (4, 1, 1)]
    assert all("order=key-1 " in r["note"] for r in rows)
    assert order.retailer_order_id == "grocy:1+2" and order.total_minor == 2 * 115 + 320
    # A fresh adapter (a restarted assistant) finds it from Grocy alone.
    found = await adapter(grocy).find_order("key-1")
    assert found is not None and found.retailer_order_id == order.retailer_order_id
    assert capabilities_of(adapter(grocy)).fulfilment == "list"


async def test_a_lost_answer_then_a_retry_adds_nothing_twice(grocy: FakeGrocy) -> None:
    grocy.state.drop_after_commit = 1  # Grocy adds the row, the answer never comes back
    with pytest.raises(RetailerUnavailable):
        await adapter(grocy).place_order([OrderItem("1", 1), OrderItem("3", 1)], "key-2")
    assert len(grocy.state.shopping_list) == 1, "the first line landed before the connection dropped"
    posts = grocy.posts()
    order = await adapter(grocy).place_order([OrderItem("1", 1), OrderItem("3", 1)], "key-2")
    assert grocy.posts() == posts + 1, "only the missing line is added"
    assert sorted((r["product_id"], r["amount"]) for r in grocy.state.shopping_list.values()) == [(1, 1), (3, 1)]
    assert [l.sku for l in order.lines] == ["1", "3"]


async def test_a_partly_added_order_is_not_reported_as_placed(grocy: FakeGrocy) -> None:
    grocy.state.drop_after_commit = 1
    with pytest.raises(RetailerUnavailable):
        await adapter(grocy).place_order([OrderItem("1", 1), OrderItem("3", 1)], "key-3")
    assert await adapter(grocy).find_order("key-3") is None


async def test_a_reused_key_with_other_items_is_refused(grocy: FakeGrocy) -> None:
    await adapter(grocy).place_order([OrderItem("1", 1)], "key-4")
    with pytest.raises(RetailerError) as refused:
        await adapter(grocy).place_order([OrderItem("1", 1), OrderItem("2", 1)], "key-4")
    assert not isinstance(refused.value, RetailerUnavailable)
    assert len(grocy.state.shopping_list) == 1


async def test_cancel_removes_rows_still_on_the_list_and_says_when_they_are_gone(grocy: FakeGrocy) -> None:
    shop = adapter(grocy)
    order = await shop.place_order([OrderItem("1", 1)], "key-5")
    assert (await shop.cancel(order.retailer_order_id)).cancelled
    assert grocy.state.shopping_list == {}
    again = await shop.cancel(order.retailer_order_id)
    assert not again.cancelled and "no longer on the Grocy shopping list" in again.reason
    ticked = await shop.place_order([OrderItem("2", 1)], "key-6")
    for row in grocy.state.shopping_list.values():
        row["done"] = 1  # bought: ticked off in Grocy
    assert (await shop.status(ticked.retailer_order_id)).state == "delivered"
    assert not (await shop.cancel(ticked.retailer_order_id)).cancelled


async def test_a_wrong_key_is_a_refusal_naming_the_variable_and_an_outage_is_unavailable(grocy: FakeGrocy) -> None:
    with pytest.raises(RetailerError) as refused:
        await adapter(grocy, key="wrong").search("milk")
    assert not isinstance(refused.value, RetailerUnavailable) and API_KEY_ENV in str(refused.value)
    grocy.state.fail_status.append(500)
    with pytest.raises(RetailerUnavailable):
        await adapter(grocy).search("milk")
    with pytest.raises(RetailerError, match="Product does not exist"):
        await adapter(grocy).quote([OrderItem("99", 1)])


async def test_the_key_comes_from_a_private_secrets_file_and_never_reaches_the_logs(
    grocy: FakeGrocy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    monkeypatch.delenv(SECRETS_FILE_ENV, raising=False)
    monkeypatch.delenv("ASSISTANT_HOME", raising=False)
    home = tmp_path / "home"
    write_private(home / SECRETS_FILE_NAME, f'# grocy\nexport {API_KEY_ENV}="{grocy.state.api_key}"\n')
    caplog.set_level(logging.DEBUG)
    shop = create(config_for(home, {"url": grocy.url}), None, FixedClock(NOW))
    await shop.place_order([OrderItem("1", 1)], "key-7")
    grocy.state.fail_status.append(401)
    with pytest.raises(RetailerError):
        await shop.search("milk")
    assert grocy.state.api_key not in caplog.text + repr(shop)
    os.chmod(home / SECRETS_FILE_NAME, 0o640)
    with pytest.raises(ConfigError, match="chmod 600"):
        create(config_for(home, {"url": grocy.url}), None, FixedClock(NOW))


def test_a_key_in_config_yml_or_a_missing_key_is_refused_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    monkeypatch.delenv(SECRETS_FILE_ENV, raising=False)
    monkeypatch.delenv("ASSISTANT_HOME", raising=False)
    home = tmp_path / "home"
    with pytest.raises(ConfigError, match=r"retailer\.settings\.api_key: secrets do not belong in config\.yml") as err:
        create(config_for(home, {"url": "http://grocy.local", "api_key": "abc"}), None, FixedClock(NOW))
    assert API_KEY_ENV in str(err.value)
    with pytest.raises(ConfigError, match=API_KEY_ENV):
        create(config_for(home, {"url": "http://grocy.local"}), None, FixedClock(NOW))
    monkeypatch.setenv(API_KEY_ENV, "from-env")
    assert isinstance(create(config_for(home, {"url": "http://grocy.local"}), None, FixedClock(NOW)), GrocyRetailer)


@pytest.mark.slow
async def test_a_spoken_reorder_puts_the_product_on_the_grocy_list_and_says_so(
    grocy: FakeGrocy, nlu_client: NLUClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole conversation with Grocy as the shop: the history names Grocy's product ids, "yes" puts one
    row on the list, and the reply says where it went instead of announcing a delivery."""
    history = tmp_path / "history.csv"
    history.write_text(
        "order_date,order_id,sku,product_name,brand,quantity,unit_price,currency,retailer\n"
        "2026-10-02,G-1,3,Lavazza coffee beans 1 kg,Lavazza,1,14.90,EUR,grocy\n"
        "2026-11-02,G-2,3,Lavazza coffee beans 1 kg,Lavazza,1,14.90,EUR,grocy\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(API_KEY_ENV, grocy.state.api_key)
    config = config_for(tmp_path / "home", {"url": grocy.url, "currency": "EUR"})
    import_history(open_db(config.db_path), history)
    app = await build_app(config, lambda message: None, nlu=nlu_client, clock=FixedClock())
    try:
        conversation = app.conversation("en")
        proposal = await conversation.handle("reorder the coffee beans")
        assert proposal.expecting == "confirmation" and "€14.90" in proposal.reply
        assert grocy.state.shopping_list == {}  # nothing before the yes
        done = await conversation.handle("yes")
        assert "on your Grocy shopping list" in done.reply and "arriving" not in done.reply
        (row,) = grocy.state.shopping_list.values()
        assert row["product_id"] == 3 and float(row["amount"]) == 1
    finally:
        await app.close()
