"""Placement under injected faults: the reference store over loopback HTTP behind a fault proxy.

After every fault: exactly one shop order per confirmed proposal, none lost, and "ordered" only when
the shop really has it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import replace
from email.utils import formatdate
from pathlib import Path

import pytest

from assistant.app import build_app
from assistant.errors import RetailerError, RetailerUnavailable
from assistant.nlu.client import NLUClient
from assistant.retailers.base import OrderItem
from assistant.retailers.retry import RetailerBusy, RetryPolicy, backoff_s, parse_retry_after, with_retries
from assistant.storage.models import OrderState
from tests.fault_proxy import FAULTS
from tests.household import FixedClock, household
from tests.retailer_faults_setup import Rig, make_rig, say_yes

SLEPT: list[float] = []


async def record_sleep(seconds: float) -> None:
    SLEPT.append(seconds)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    SLEPT.clear()
    made = await make_rig(tmp_path, sleep=record_sleep)
    try:
        yield made
    finally:
        await made.close()


async def settle(rig: Rig, order_id: str) -> None:
    """A restart with a healthy shop: reconcile, twice (the second must change nothing)."""
    rig.proxy.calm()
    await rig.book.reconcile()
    assert await rig.book.reconcile() == []
    order = rig.book.get(order_id)
    assert order.state == OrderState.PLACED, order.events
    assert order.idempotency_key is not None and rig.shop_orders(order.idempotency_key) == 1


@pytest.mark.parametrize("times", [1, 3], ids=["once", "every try"])
@pytest.mark.parametrize("fault", FAULTS)
async def test_one_order_per_yes_whatever_the_fault(rig: Rig, fault: str, times: int) -> None:
    rig.proxy.plan(*[fault] * times)
    order_id, told = await say_yes(rig, rig.skus[0])
    key = rig.book.get(order_id).idempotency_key
    assert told in ("ordered", "unconfirmed"), f"{fault}: told {told!r}"
    if told == "ordered":  # never a false "done"
        assert rig.shop_orders(key) == 1
        assert rig.book.get(order_id).state == OrderState.PLACED
    else:  # stays confirmed, never failed: the shop may have it
        assert rig.book.get(order_id).state == OrderState.CONFIRMED
    if times == 1:
        assert told == "ordered", f"one {fault} must be absorbed by a retry"
    await settle(rig, order_id)
    assert rig.shop_orders() == 1
    slow_but_answered = fault == "slow_after"  # within the timeout: the first try succeeds
    assert rig.proxy.injected[fault] == (1 if slow_but_answered else times)
    if slow_but_answered or times == 1:
        assert told == "ordered"


async def test_faults_while_reconciling_lose_and_double_nothing(rig: Rig) -> None:
    rig.proxy.plan(*["hang_after"] * 3)
    order_id, told = await say_yes(rig, rig.skus[1])
    assert told == "unconfirmed"
    for fault in ("reset_mid_body", "truncated_json", "503_before"):  # the restart's lookups fail too
        rig.proxy.plan(*[fault] * 3)
        assert await rig.book.reconcile() == []
        assert rig.book.get(order_id).state == OrderState.CONFIRMED
    await settle(rig, order_id)
    assert rig.shop_orders() == 1


async def test_chaos_many_orders(rig: Rig) -> None:
    rig.proxy.chaos(0.4, seed=5)
    told = dict([await say_yes(rig, sku) for sku in rig.skus[:12]])
    assert sum(rig.proxy.injected.values()) > 0
    rig.proxy.calm()
    items = [OrderItem(rig.skus[0], 1)]
    declined = rig.book.propose(items, await rig.retailer.quote(items), "en")
    rig.book.decline(declined.id)
    for order_id, outcome in told.items():
        if outcome == "ordered":
            assert rig.shop_orders(rig.book.get(order_id).idempotency_key) == 1
    await rig.book.reconcile()
    assert {rig.book.get(i).state for i in told} == {OrderState.PLACED}
    assert rig.shop_orders() == len(told)
    assert rig.shop_orders(rig.book.get(declined.id).idempotency_key) == 0


async def test_retry_after_is_honoured_and_refusals_are_not_retried(rig: Rig) -> None:
    rig.proxy.retry_after = "1"
    rig.proxy.plan("429_before", "503_before")
    _order_id, told = await say_yes(rig, rig.skus[2])
    assert told == "ordered"
    assert SLEPT == [1.0, 1.0]
    sku, items = rig.skus[3], [OrderItem(rig.skus[3], 1)]
    order = rig.book.propose(items, await rig.retailer.quote(items), "en")
    rig.book.confirm(order.id)
    rig.shop.catalogue[sku] = replace(rig.shop.catalogue[sku], in_stock=False)  # sold out after the yes
    before = rig.proxy.requests["POST /orders"]
    with pytest.raises(RetailerError, match="out of stock") as refused:
        await rig.book.place(order.id)
    assert not isinstance(refused.value, RetailerUnavailable)
    assert rig.book.get(order.id).state == OrderState.FAILED  # "not ordered", and true
    assert rig.proxy.requests["POST /orders"] == before + 1
    assert rig.shop_orders() == 1


async def test_a_retry_after_beyond_the_deadline_is_not_waited_for(rig: Rig) -> None:
    rig.proxy.retry_after = "60"
    rig.proxy.plan("503_before")
    order_id, told = await say_yes(rig, rig.skus[0])
    assert told == "unconfirmed" and SLEPT == []
    await settle(rig, order_id)


async def test_a_changed_quote_is_caught_before_placing(rig: Rig) -> None:
    sku = rig.skus[0]
    quote = await rig.retailer.quote([OrderItem(sku, 2)])
    order = rig.book.propose([OrderItem(sku, 2)], quote, "en")
    assert await rig.book.quote_changed(order.id) is None
    price = quote.lines[0].unit_price_minor
    rig.shop.set_price(sku, price - 10)  # cheaper: no need to ask again
    assert await rig.book.quote_changed(order.id) is None
    rig.shop.set_price(sku, price + 10)
    change = await rig.book.quote_changed(order.id)
    assert change is not None and change.reason == "price_up" and change.quote.total_minor == quote.total_minor + 20
    rig.shop.set_price(sku, price)
    rig.shop.catalogue[sku] = replace(rig.shop.catalogue[sku], name="Another coffee")
    change = await rig.book.quote_changed(order.id)
    assert change is not None and change.reason == "substituted"
    rig.shop.catalogue[sku] = replace(rig.shop.catalogue[sku], in_stock=False)
    change = await rig.book.quote_changed(order.id)
    assert change is not None and change.reason == "out_of_stock"
    assert rig.shop_orders() == 0


# --- the retry rules themselves -------------------------------------------------
def test_backoff_grows_exponentially_within_full_jitter() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=3.0)
    assert [backoff_s(policy, n, rng=lambda: 1.0) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff_s(policy, 3, rng=lambda: 0.0) == 0.0


def test_retry_after_in_seconds_or_as_a_date() -> None:
    now = time.time()
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


async def test_only_retry_safe_errors_are_retried() -> None:
    calls: list[str] = []

    async def refused() -> None:
        calls.append("refused")
        raise RetailerError("out of stock")

    async def unsafe() -> None:
        calls.append("unsafe")
        raise RetailerUnavailable("lost", retry_safe=False)

    async def busy() -> None:
        calls.append("busy")
        raise RetailerBusy("busy", retry_after_s=0.25)

    policy = RetryPolicy(attempts=3)
    for call in (refused, unsafe):
        with pytest.raises(RetailerError):
            await with_retries(call, policy, "test", sleep=record_sleep)
    SLEPT.clear()
    with pytest.raises(RetailerBusy):
        await with_retries(busy, policy, "test", sleep=record_sleep)
    assert calls == ["refused", "unsafe", "busy", "busy", "busy"]
    assert SLEPT == [0.25, 0.25]


# --- the conversation: a changed quote asks again ----------------------------------------
@pytest.mark.slow
async def test_a_price_rise_after_the_proposal_asks_again(
    nlu_client: NLUClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = household(tmp_path, monkeypatch, "en")
    app = await build_app(config, lambda message: None, nlu=nlu_client, clock=FixedClock())
    try:
        conversation = app.conversation("en")
        proposed = await conversation.handle("reorder the coffee beans")
        assert proposed.expecting == "confirmation"
        (event,) = [e for e in proposed.events if e["type"] == "order_proposed"]
        shop = app.retailer.shop  # type: ignore[attr-defined]
        shop.set_price(event["items"][0]["sku"], event["items"][0]["unit_price_minor"] + 100)

        again = await conversation.handle("yes")
        types = [e["type"] for e in again.events]
        assert types == ["quote_changed", "order_proposed"], again.events
        assert "changed its offer" in again.reply and again.expecting == "confirmation"
        assert shop.store.count() == 0  # nothing ordered at a price the user did not hear

        done = await conversation.handle("yes")
        (placed,) = [e for e in done.events if e["type"] == "order_placed"]
        assert placed["total_minor"] == again.events[1]["total_minor"] == event["total_minor"] + 100
        assert shop.store.count() == 1
    finally:
        await app.close()
