"""The retailer adapters over real loopback HTTP: the demo shop (built by the registry, as the app builds it),
the HTTP adapter's error mapping, and `assistant shop serve` as a separate process."""

from __future__ import annotations

import asyncio
import os
import select
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from assistant.config import PROJECT_ROOT, Config, load_config
from assistant.errors import ConfigError, RetailerError, RetailerUnavailable
from assistant.history import import_history
from assistant.retailers.base import CancelResult, OrderItem, Retailer
from assistant.retailers.demo_catalogue import add_business_days, load_catalogue
from assistant.retailers.http import HTTPRetailer
from assistant.retailers.registry import TOKEN_ENV, DemoSettings, LocalDemoRetailer, build_demo_shop, create_retailer
from assistant.storage.db import open_db
from tests.household import FixedClock

IMPORT = Path(__file__).parent / "data" / "import"
CATALOGUE = """sku,name,brand,unit_price,currency,delivery_days,in_stock
COF-1,Lavazza Qualità Rossa coffee beans 1 kg,Lavazza,14.90,EUR,2,true
BENCH-1,Garden bench,Acme,89.00,,5,true
MUG-1,Limited edition mug,Acme,9.00,EUR,,false
"""
FRIDAY = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DEADLINE_S = 30


@dataclass
class Demo:
    """A household with the demo shop running in this process, as `create_retailer` builds it."""

    config: Config
    engine: Engine
    retailer: LocalDemoRetailer
    clock: FixedClock

    def shop_rows(self) -> int:
        with sqlite3.connect(self.config.home / "demo_retailer.sqlite") as conn:
            return int(conn.execute("select count(*) from shop_order").fetchone()[0])


def demo_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **settings: object) -> Config:
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "home"))
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(CATALOGUE, encoding="utf-8")
    retailer = {"adapter": "demo", "settings": {"catalogue": str(catalogue), **settings}}
    return load_config(PROJECT_ROOT / "config.yml", overrides={"retailer": retailer})


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Demo]:
    yield from make_demo(tmp_path, monkeypatch)


def make_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **settings: object) -> Iterator[Demo]:
    config = demo_config(tmp_path, monkeypatch, **settings)
    engine = open_db(config.db_path)
    clock = FixedClock(FRIDAY)
    import_history(engine, IMPORT / "household.csv", clock=clock)
    retailer = create_retailer(config, engine, clock)
    assert isinstance(retailer, LocalDemoRetailer) and isinstance(retailer, Retailer)
    try:
        yield Demo(config, engine, retailer, clock)
    finally:
        retailer.close()


def wait_until(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# --- catalogue, search, quote ---------------------------------------------------------
async def test_search_covers_the_catalogue_and_the_households_history(demo: Demo) -> None:
    found = await demo.retailer.search("qualita rossa")  # accents and case do not matter
    assert {p.sku for p in found} == {"COF-1", "LAV-BEANS-1KG"}
    (oat,) = await demo.retailer.search("oatly barista")
    # Never in the catalogue: stocked from the history at the last price paid.
    assert (oat.sku, oat.name, oat.unit_price_minor, oat.currency, oat.in_stock) == (
        "OAT-BARISTA-1L",
        "Oatly Oat Drink Barista, 1 L",
        245,
        "EUR",
        True,
    )
    assert len(await demo.retailer.search("", limit=2)) == 2
    assert await demo.retailer.search("chainsaw") == []


async def test_quote_prices_lines_and_promises_business_day_delivery(demo: Demo) -> None:
    quote = await demo.retailer.quote([OrderItem("COF-1", 2), OrderItem("OAT-BARISTA-1L", 1)])
    assert [(l.sku, l.quantity, l.unit_price_minor, l.available) for l in quote.lines] == [
        ("COF-1", 2, 1490, True),
        ("OAT-BARISTA-1L", 1, 245, True),
    ]
    assert (quote.total_minor, quote.currency) == (2 * 1490 + 245, "EUR")
    assert quote.delivery_estimate == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # Friday + 2 business days: Tuesday
    slow = await demo.retailer.quote([OrderItem("COF-1", 1), OrderItem("BENCH-1", 1)])
    assert slow.delivery_estimate.date() == date(2026, 11, 27)  # the slowest line sets the date


async def test_unknown_sku_and_out_of_stock_are_clear_refusals(demo: Demo) -> None:
    with pytest.raises(RetailerError) as info:
        await demo.retailer.quote([OrderItem("NOPE-9", 1)])
    assert not isinstance(info.value, RetailerUnavailable)
    assert info.value.message == "the demo shop does not sell sku NOPE-9"
    quote = await demo.retailer.quote([OrderItem("MUG-1", 1)])
    assert quote.lines[0].available is False
    with pytest.raises(RetailerError, match="Limited edition mug is out of stock"):
        await demo.retailer.place_order([OrderItem("MUG-1", 1)], "key-out-of-stock")
    assert demo.shop_rows() == 0


# --- placing: idempotency ----------------------------------------------------------------
async def test_the_same_key_places_one_order_and_a_new_key_another(demo: Demo) -> None:
    items = [OrderItem("COF-1", 1)]
    first = await demo.retailer.place_order(items, "key-0001")
    again = await demo.retailer.place_order(items, "key-0001")
    assert first == again
    assert (first.retailer_order_id, first.state, first.total_minor) == ("D-1001", "placed", 1490)
    assert demo.shop_rows() == 1
    other = await demo.retailer.place_order(items, "key-0002")
    assert other.retailer_order_id == "D-1002" and demo.shop_rows() == 2
    assert await demo.retailer.find_order("key-0001") == first
    assert await demo.retailer.find_order("key-never-used") is None


async def test_reusing_a_key_for_different_items_is_refused(demo: Demo) -> None:
    await demo.retailer.place_order([OrderItem("COF-1", 1)], "key-0001")
    with pytest.raises(RetailerError) as info:
        await demo.retailer.place_order([OrderItem("COF-1", 2)], "key-0001")
    assert "already used for a different order (D-1001)" in info.value.message
    assert demo.shop_rows() == 1


async def test_concurrent_requests_with_one_key_make_one_order(demo: Demo) -> None:
    calls = [demo.retailer.place_order([OrderItem("COF-1", 1)], "key-race") for _ in range(8)]
    results = await asyncio.gather(*calls)
    assert {r.retailer_order_id for r in results} == {"D-1001"}
    assert demo.shop_rows() == 1


# --- lifecycle and cancelling -------------------------------------------------------------
async def test_lifecycle_follows_the_clock(demo: Demo) -> None:
    order = await demo.retailer.place_order([OrderItem("COF-1", 1)], "key-life")
    states = {}
    moments = [
        ("friday evening", FRIDAY + timedelta(hours=10)),
        ("saturday", FRIDAY + timedelta(days=1)),
        ("monday", FRIDAY + timedelta(days=3)),
        ("tuesday morning", datetime(2026, 11, 24, 8, tzinfo=UTC)),
    ]
    for label, when in moments:
        demo.clock.now = when
        states[label] = (await demo.retailer.status(order.retailer_order_id)).state
    assert states == {
        "friday evening": "placed",
        "saturday": "placed",
        "monday": "shipped",
        "tuesday morning": "delivered",
    }


async def test_only_a_placed_order_can_be_cancelled(demo: Demo) -> None:
    early = await demo.retailer.place_order([OrderItem("COF-1", 1)], "key-early")
    late = await demo.retailer.place_order([OrderItem("COF-1", 2)], "key-late")
    assert await demo.retailer.cancel(early.retailer_order_id) == CancelResult(True)
    assert (await demo.retailer.status(early.retailer_order_id)).state == "cancelled"
    assert await demo.retailer.cancel(early.retailer_order_id) == CancelResult(True, "it was already cancelled")
    demo.clock.now = FRIDAY + timedelta(days=3)
    assert await demo.retailer.cancel(late.retailer_order_id) == CancelResult(False, "it has already shipped")
    assert (await demo.retailer.status(late.retailer_order_id)).state == "shipped"
    with pytest.raises(RetailerError, match="no order D-9999"):
        await demo.retailer.status("D-9999")


# --- the network failing -------------------------------------------------------------------
async def test_a_slow_answer_is_a_timeout_after_the_shop_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for demo in make_demo(tmp_path, monkeypatch, response_delay_ms=60_000, timeout_s=0.3):
        with pytest.raises(RetailerUnavailable) as info:
            await demo.retailer.place_order([OrderItem("COF-1", 1)], "key-slow")
        assert info.value.retry_safe and "did not answer within 0.3 s" in info.value.message
        wait_until(lambda: demo.shop_rows() == 1, "the shop to commit")  # noqa: B023
        found = await demo.retailer.find_order("key-slow")
        assert found is not None and found.retailer_order_id == "D-1001"


async def test_a_slow_request_is_a_timeout_before_the_shop_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for demo in make_demo(tmp_path, monkeypatch, request_delay_ms=60_000, timeout_s=0.3):
        with pytest.raises(RetailerUnavailable):
            await demo.retailer.place_order([OrderItem("COF-1", 1)], "key-held")
        assert demo.shop_rows() == 0
        assert await demo.retailer.find_order("key-held") is None
        demo.retailer.close()  # the held request is dropped, never committed
        assert demo.shop_rows() == 0


async def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(RetailerUnavailable) as info:
        await HTTPRetailer(f"http://127.0.0.1:{port}", timeout_s=2).quote([OrderItem("COF-1", 1)])
    assert f"cannot reach the http shop at http://127.0.0.1:{port}" in info.value.message


async def test_a_wrong_token_is_refused_not_unavailable(demo: Demo) -> None:
    intruder = HTTPRetailer(demo.retailer.base_url, token="wrong")
    with pytest.raises(RetailerError) as info:
        await intruder.search("coffee")
    assert not isinstance(info.value, RetailerUnavailable)
    assert "refused the credentials" in str(info.value) and TOKEN_ENV in str(info.value)


async def test_the_store_api_validates_strictly_and_changes_prices(demo: Demo) -> None:
    url, token = demo.retailer.base_url, demo.retailer.shop.token
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=auth, trust_env=False) as client:
        for body in (
            {"items": [{"sku": "COF-1", "quantity": "2"}]},
            {"items": [{"sku": "COF-1", "quantity": True}]},
            {"items": [{"sku": "COF-1", "quantity": 1}, {"sku": "COF-1", "quantity": 1}]},
            {"items": []},
        ):
            answer = await client.post("/quote", json=body)
            assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request", body
        garbled = await client.post("/quote", content=b"{", headers={"Content-Type": "application/json"})
        assert garbled.json()["error"]["code"] == "bad_json"
        short_key = await client.post(
            "/orders", json={"items": [{"sku": "COF-1", "quantity": 1}], "idempotency_key": "k"}
        )
        assert short_key.status_code == 400 and "idempotency_key" in short_key.json()["error"]["message"]
        assert (await client.get("/nowhere")).json()["error"]["code"] == "no_such_endpoint"
        changed = await client.put("/products/COF-1/price", json={"unit_price_minor": 1590})
        assert changed.status_code == 200 and changed.json()["unit_price_minor"] == 1590
        unknown = await client.put("/products/NOPE/price", json={"unit_price_minor": 1})
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_sku"
    quote = await demo.retailer.quote([OrderItem("COF-1", 2)])
    assert quote.total_minor == 3180


class _Broken(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        status, body = (
            (500, b'{"error": {"code": "boom", "message": "database on fire"}}')
            if self.path == "/orders"
            else (200, b'{"lines": "not a list"}')
        )
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


async def test_server_errors_and_garbled_answers_leave_the_outcome_unknown() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        shop = HTTPRetailer(f"http://127.0.0.1:{server.server_address[1]}", name="broken")
        with pytest.raises(RetailerUnavailable, match="the broken shop failed: database on fire"):
            await shop.place_order([OrderItem("X", 1)], "key-broken")
        garbled = r"answer I cannot read: quote\.lines: unexpected value 'not a list'"
        with pytest.raises(RetailerUnavailable, match=garbled):
            await shop.quote([OrderItem("X", 1)])
    finally:
        server.shutdown()
        server.server_close()


# --- the registry ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"colour": "blue"}, "retailer.settings.colour: unknown key"),
        ({"request_delay_ms": -1}, "retailer.settings.request_delay_ms: expected milliseconds from 0 to 600000"),
        ({"timeout_s": "fast"}, "retailer.settings.timeout_s: expected a number, got 'fast'"),
        ({"currency": "EURO"}, "retailer.settings.currency: currency must be an ISO 4217 code"),
        ({"catalogue": "/no/such/catalogue.csv"}, "retailer.settings.catalogue: no such file /no/such/catalogue.csv"),
    ],
)
def test_bad_demo_settings_name_their_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: dict[str, object], message: str
) -> None:
    config = demo_config(tmp_path, monkeypatch, **settings)
    with pytest.raises(ConfigError) as info:
        create_retailer(config, open_db(config.db_path))
    assert message in str(info.value)


def test_bad_catalogue_lines_are_named(tmp_path: Path) -> None:
    path = tmp_path / "catalogue.csv"
    bad = "X-1,Thing,,cheap,EUR,2,true\nX-2,Other,,1.00,EUR,2,maybe\nCOF-1,Dup,,1.00,EUR,2,true\n"
    path.write_text(CATALOGUE + bad, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_catalogue(path, "EUR")
    assert str(info.value) == (
        f"{path}: line 5: unit_price: expected a decimal amount like 14.90, got 'cheap'; "
        "line 6: in_stock must be true or false, got 'maybe'; line 7: sku COF-1 is listed twice"
    )


def test_unknown_adapter_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path))
    config = load_config(PROJECT_ROOT / "config.yml", overrides={"retailer": {"adapter": "amazon"}})
    with pytest.raises(ConfigError, match=r"unknown adapter 'amazon' \(expected one of: demo, .*http"):
        create_retailer(config, open_db(config.db_path))


async def test_http_adapter_reaches_a_shop_with_the_token_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = demo_config(tmp_path, monkeypatch)
    engine = open_db(config.db_path)
    shop = build_demo_shop(
        config, engine, FixedClock(), DemoSettings(catalogue=str(tmp_path / "catalogue.csv")), token="s3cret-token"
    )
    url = shop.start()
    try:
        monkeypatch.setenv(TOKEN_ENV, "s3cret-token")
        http = load_config(
            PROJECT_ROOT / "config.yml",
            overrides={"retailer": {"adapter": "http", "settings": {"url": url, "name": "corner"}}},
        )
        retailer = create_retailer(http, engine)
        assert isinstance(retailer, HTTPRetailer) and retailer.name == "corner"
        assert [p.sku for p in await retailer.search("coffee")] == ["COF-1"]
        assert "s3cret" not in repr(retailer)
        monkeypatch.delenv(TOKEN_ENV)
        with pytest.raises(RetailerError, match="refused the credentials"):
            await create_retailer(http, engine).search("coffee")
    finally:
        shop.close()
    missing = load_config(PROJECT_ROOT / "config.yml", overrides={"retailer": {"adapter": "http"}})
    with pytest.raises(ConfigError, match=r"retailer\.settings\.url: missing required key"):
        create_retailer(missing, engine)


def test_business_days() -> None:
    friday = date(2026, 11, 20)
    assert [add_business_days(friday, n).isoformat() for n in (1, 2, 5)] == ["2026-11-23", "2026-11-24", "2026-11-27"]
    assert add_business_days(date(2026, 11, 21), 1) == date(2026, 11, 23)  # Saturday → Monday


@pytest.mark.parametrize("command", ["store", "shop"])
def test_store_serve_runs_the_reference_store_as_its_own_process(tmp_path: Path, command: str) -> None:
    catalogue = tmp_path / "catalogue.csv"
    catalogue.write_text(CATALOGUE, encoding="utf-8")
    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "home"), TOKEN_ENV: "serve-token"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", command, "serve", "--port", "0", "--catalogue", str(catalogue)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], DEADLINE_S)
        assert ready, "shop serve printed nothing"
        banner = proc.stdout.readline()
        assert "Reference store serving household" in banner, banner + (proc.stderr.read() if proc.stderr else "")
        url = banner.split(" at ")[1].split(" ")[0]
        found = asyncio.run(HTTPRetailer(url, token="serve-token").search("bench"))
        assert [(p.sku, p.unit_price_minor, p.currency) for p in found] == [("BENCH-1", 8900, "EUR")]
        schema = httpx.get(f"{url}/openapi.json", timeout=DEADLINE_S).json()
        assert {"/products", "/quote", "/orders", "/orders/{order_id}/cancel"} <= set(schema["paths"])
        assert httpx.get(f"{url}/products", timeout=DEADLINE_S).json()["error"]["code"] == "unauthorised"
    finally:
        proc.terminate()
        proc.wait(timeout=DEADLINE_S)
