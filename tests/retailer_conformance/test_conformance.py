"""What every retailer adapter must do, checked against each `harness_*.py` in this package.

The suite expects only what the shop allows (`capabilities_of`): a shop that cannot cancel must say
so honestly; a shop without a lifecycle is not asked to move one.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from assistant.errors import RetailerError, RetailerUnavailable
from assistant.retailers.base import CancelResult, CatalogueItem, OrderItem, Quote, RetailerOrder, capabilities_of

from .harness import Harness, harness_modules

MODULES = harness_modules()
#: Forward order of an order's life; `cancelled` may follow `placed` only.
RANK = {"placed": 0, "shipped": 1, "delivered": 2, "cancelled": 1}
STATES = set(RANK)


@pytest.fixture(params=sorted(MODULES), ids=sorted(MODULES))
async def shop(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Harness]:
    monkeypatch.delenv("ASSISTANT_HOME", raising=False)
    harness: Harness = await MODULES[request.param].make(tmp_path)
    assert len(set(harness.skus)) >= 3, f"harness {request.param} must give at least 3 distinct skus"
    try:
        yield harness
    finally:
        await harness.close()


def key() -> str:
    return f"conformance-{uuid.uuid4()}"


def lines_of(order: RetailerOrder | Quote) -> list[tuple[str, int, int, str]]:
    return [(l.sku, l.quantity, l.unit_price_minor, l.currency) for l in order.lines]


def test_every_adapter_has_a_harness() -> None:
    assert {"demo", "http"} <= set(MODULES)


async def test_search_returns_typed_products_within_the_limit(shop: Harness) -> None:
    found = await shop.retailer.search("", limit=2)
    assert len(found) <= 2
    assert all(isinstance(p, CatalogueItem) and p.unit_price_minor >= 0 for p in found)


async def test_a_quote_prices_every_line_in_request_order(shop: Harness) -> None:
    items = [OrderItem(shop.skus[0], 2), OrderItem(shop.skus[1], 1)]
    quote = await shop.retailer.quote(items)
    assert [(l.sku, l.quantity) for l in quote.lines] == [(i.sku, i.quantity) for i in items]
    assert all(l.available for l in quote.lines)
    assert quote.total_minor == sum(l.quantity * l.unit_price_minor for l in quote.lines)
    assert quote.delivery_estimate.utcoffset() == timedelta(0)


async def test_the_placed_order_matches_its_quote(shop: Harness) -> None:
    items = [OrderItem(shop.skus[0], 3), OrderItem(shop.skus[2], 1)]
    quote = await shop.retailer.quote(items)
    k = key()
    order = await shop.retailer.place_order(items, k)
    assert order.idempotency_key == k
    assert order.state == "placed"
    assert lines_of(order) == lines_of(quote)
    assert (order.total_minor, order.currency) == (quote.total_minor, quote.currency)


async def test_the_same_key_never_makes_a_second_order(shop: Harness) -> None:
    items = [OrderItem(shop.skus[0], 1)]
    k = key()
    first = await shop.retailer.place_order(items, k)
    again = await shop.retailer.place_order(items, k)
    other = await shop.retailer.place_order(items, key())
    assert again.retailer_order_id == first.retailer_order_id
    assert other.retailer_order_id != first.retailer_order_id
    found = await shop.retailer.find_order(k)
    assert found is not None and found.retailer_order_id == first.retailer_order_id


async def test_concurrent_calls_with_one_key_make_one_order(shop: Harness) -> None:
    items = [OrderItem(shop.skus[1], 2)]
    k = key()
    orders = await asyncio.gather(*(shop.retailer.place_order(items, k) for _ in range(6)))
    assert len({o.retailer_order_id for o in orders}) == 1
    assert {o.idempotency_key for o in orders} == {k}


async def test_a_reused_key_with_other_items_is_refused(shop: Harness) -> None:
    k = key()
    first = await shop.retailer.place_order([OrderItem(shop.skus[0], 1)], k)
    for items in ([OrderItem(shop.skus[0], 2)], [OrderItem(shop.skus[1], 1)]):
        with pytest.raises(RetailerError) as refused:
            await shop.retailer.place_order(items, k)
        assert not isinstance(refused.value, RetailerUnavailable), "a reused key is a refusal, not an outage"
    found = await shop.retailer.find_order(k)
    assert found is not None and lines_of(found) == lines_of(first)


async def test_an_unknown_key_finds_no_order(shop: Harness) -> None:
    assert await shop.retailer.find_order(key()) is None


async def test_status_only_moves_forward(shop: Harness) -> None:
    if not capabilities_of(shop.retailer).status:
        pytest.skip(f"{shop.name} reports no order lifecycle")
    order = await shop.retailer.place_order([OrderItem(shop.skus[2], 1)], key())
    seen = [order.state]
    for _ in range(10 if shop.advance else 1):
        if shop.advance:
            shop.advance(timedelta(days=1))
        now = await shop.retailer.status(order.retailer_order_id)
        assert now.state in STATES and now.retailer_order_id == order.retailer_order_id
        assert RANK[now.state] >= RANK[seen[-1]], f"{shop.name}: state went back from {seen[-1]} to {now.state}"
        seen.append(now.state)
    if shop.advance:
        assert seen[-1] == "delivered", seen


async def test_cancel_is_honest(shop: Harness) -> None:
    order = await shop.retailer.place_order([OrderItem(shop.skus[0], 1)], key())
    result = await shop.retailer.cancel(order.retailer_order_id)
    assert isinstance(result, CancelResult)
    if not capabilities_of(shop.retailer).cancel:
        assert not result.cancelled and result.reason, "a shop that cannot cancel must say so, with a reason"
        return
    assert result.cancelled, result.reason
    if capabilities_of(shop.retailer).status:
        assert (await shop.retailer.status(order.retailer_order_id)).state == "cancelled"


async def test_a_shipped_order_is_not_cancelled(shop: Harness) -> None:
    caps = capabilities_of(shop.retailer)
    if not (caps.cancel and caps.status and shop.advance):
        pytest.skip(f"{shop.name} cannot cancel or has no lifecycle to move")
    order = await shop.retailer.place_order([OrderItem(shop.skus[1], 1)], key())
    while (await shop.retailer.status(order.retailer_order_id)).state == "placed":
        shop.advance(timedelta(hours=12))
    result = await shop.retailer.cancel(order.retailer_order_id)
    assert not result.cancelled and result.reason
    assert (await shop.retailer.status(order.retailer_order_id)).state != "cancelled"


async def test_a_price_change_shows_in_the_next_quote_not_in_placed_orders(shop: Harness) -> None:
    if shop.set_price is None:
        pytest.skip(f"{shop.name}: the harness cannot change prices")
    sku = shop.skus[0]
    before = await shop.retailer.quote([OrderItem(sku, 1)])
    placed = await shop.retailer.place_order([OrderItem(sku, 1)], key())
    shop.set_price(sku, before.total_minor + 100)
    after = await shop.retailer.quote([OrderItem(sku, 1)])
    assert after.total_minor == before.total_minor + 100
    order = await shop.retailer.place_order([OrderItem(sku, 1)], key())
    assert lines_of(order) == lines_of(after)
    found = await shop.retailer.find_order(placed.idempotency_key)
    assert found is not None and found.total_minor == before.total_minor
