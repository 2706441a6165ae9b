"""A shop that does not answer in time: the user is told, nothing is ordered twice, and the order
settles once the shop has it. Real NLU, real SQLite, the demo shop over loopback HTTP."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from assistant.app import build_app
from assistant.nlu.client import NLUClient
from tests.household import FixedClock, household

#: The shop holds each order request this long before storing it; the adapter gives up far sooner.
SLOW_SHOP = {
    "adapter": "demo",
    "settings": {"catalogue": "data/demo/catalogue.csv", "request_delay_ms": 6000, "timeout_s": 1.5},
}


def shop_orders(home: Path) -> int:
    db = home / "demo_retailer.sqlite"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        return int(conn.execute("select count(*) from shop_order").fetchone()[0])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lang", "say", "told", "again"),
    [
        ("en", ["reorder the coffee beans", "yes"], "hasn't confirmed it yet", "won't order it again"),
        ("fr", ["recommande le café en grains", "oui"], "pas encore confirmée", "je ne la repasse donc pas"),
    ],
)
async def test_unanswered_order_is_not_proposed_again(
    lang: str,
    say: list[str],
    told: str,
    again: str,
    nlu_client: NLUClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = household(tmp_path, monkeypatch, lang, retailer=SLOW_SHOP)
    app = await build_app(config, lambda message: None, nlu=nlu_client, clock=FixedClock())
    try:
        conversation = app.conversation(lang)
        assert (await conversation.handle(say[0])).expecting == "confirmation"
        sent = await conversation.handle(say[1])
        assert [e["type"] for e in sent.events] == ["order_pending"]
        assert told in sent.reply

        repeat = await conversation.handle(say[0])
        assert [e["type"] for e in repeat.events] == ["order_pending"]
        assert again in repeat.reply
        assert repeat.expecting is None

        deadline = time.monotonic() + 30
        while shop_orders(config.home) == 0:  # the shop stores the held request when its delay is over
            assert time.monotonic() < deadline, "the shop never stored the order"
            time.sleep(0.05)
        (order,) = app.orders.list_orders()
        settled = await app.orders.refresh(order.id)
        assert settled.state == "placed"
        assert shop_orders(config.home) == 1
    finally:
        await app.close()
