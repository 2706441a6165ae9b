"""Ordering several things at once for another skill ("order my list"): match each against the household's
history, then one proposal and ONE confirmation for every line.

Reached through the `shopping.order_list` capability (see `ShoppingSkill.order_list`). What cannot be
matched, is already in an unconfirmed order, is over the per-line limit or out of stock is named and
left out; the caller learns which requests were placed and which were not.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.errors import RetailerError
from assistant.history import HistoryProduct
from assistant.money import parse_money
from assistant.retailers.base import OrderItem, Quote
from assistant.skill import Cancelled, Context
from assistant.storage.models import OrderState

from . import phrasing

if TYPE_CHECKING:
    from .skill import ShoppingSkill

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Wanted:
    """One thing another skill asks to order."""

    text: str
    """How the user named it ("milk", "eggs"): matched against the history."""
    quantity: int | None
    """How many; None means as many as last time."""


@dataclass(frozen=True)
class BasketOutcome:
    """What became of each request."""

    placed: tuple[str, ...]
    """Texts of the requests that are in an order the shop accepted."""
    not_found: tuple[str, ...]
    """Texts that match nothing the household has bought."""


@dataclass(frozen=True)
class _Line:
    product: HistoryProduct
    quantity: int
    texts: tuple[str, ...]


async def order_many(skill: ShoppingSkill, ctx: Context, wanted: Sequence[Wanted]) -> BasketOutcome:
    """Match, quote, propose once, and place on an explicit yes."""
    products = skill._history()
    await skill._warm[ctx.lang]
    if not products:
        ctx.say("empty_history")
        return BasketOutcome((), tuple(w.text for w in wanted))
    lines, not_found = await _match_all(skill, ctx, products, wanted)
    if lines is None:
        return BasketOutcome((), tuple(not_found))
    if not_found:
        ctx.emit("not_found", queries=list(not_found))
        ctx.say("list_not_found", items=phrasing.join(not_found, ctx.lang))
    lines = await _orderable(skill, ctx, lines)
    if not lines:
        ctx.say("list_nothing_to_order")
        return BasketOutcome((), tuple(not_found))
    placed = await _propose_and_place(skill, ctx, lines)
    return BasketOutcome(placed, tuple(not_found))


async def _match_all(
    skill: ShoppingSkill, ctx: Context, products: list[HistoryProduct], wanted: Sequence[Wanted]
) -> tuple[list[_Line] | None, list[str]]:
    """One line per product (requests naming the same product merge); None if the user gave up a choice."""
    by_sku = {p.sku: p for p in products}
    matcher = skill._matcher(products, ctx.lang)
    merged: dict[str, _Line] = {}
    not_found: list[str] = []
    for item in wanted:
        result = matcher.match(item.text)
        if result.status == "none":
            not_found.append(item.text)
            continue
        product = await skill._pick(ctx, matcher, result, item.text, by_sku)
        if product is None:
            return None, not_found
        quantity = item.quantity or product.last_quantity or 1
        if product.sku in merged:
            old = merged[product.sku]
            merged[product.sku] = _Line(product, old.quantity + quantity, (*old.texts, item.text))
        else:
            merged[product.sku] = _Line(product, quantity, (item.text,))
    return list(merged.values()), not_found


async def _orderable(skill: ShoppingSkill, ctx: Context, lines: list[_Line]) -> list[_Line]:
    """The lines that may be ordered now; each other one is named with why."""
    limit = skill.env.settings.limits.max_quantity
    kept = []
    for line in lines:
        waiting = await skill.orders.unsettled(line.product.sku)
        if waiting is not None:
            ctx.emit("order_pending", order_id=waiting.id)
            ctx.say("still_unconfirmed", name=line.product.name)
        elif line.quantity > limit:
            ctx.say("list_too_many", quantity=line.quantity, name=line.product.name, max=limit)
        else:
            kept.append(line)
    return kept


async def _propose_and_place(skill: ShoppingSkill, ctx: Context, lines: list[_Line]) -> tuple[str, ...]:
    try:
        quote = await skill.retailer.quote([OrderItem(l.product.sku, l.quantity) for l in lines])
    except RetailerError as err:
        log.warning("quote failed: %s", err)
        ctx.say("shop_down")
        return ()
    missing = [q.name for q in quote.lines if not q.available]
    if missing:
        ctx.say("list_out_of_stock", items=phrasing.join(missing, ctx.lang))
        lines = [l for l, q in zip(lines, quote.lines, strict=True) if q.available]
        if not lines:
            return ()
        return await _propose_and_place(skill, ctx, lines)
    limit_minor = parse_money(skill.env.settings.limits.max_order_total, quote.currency)
    if quote.total_minor > limit_minor:
        ctx.say(
            "over_limit",
            total=phrasing.money(quote.total_minor, quote.currency, ctx.lang),
            limit=phrasing.money(limit_minor, quote.currency, ctx.lang),
        )
        return ()
    order_id = await _confirmed(skill, ctx, lines, quote)
    if order_id is None:
        return ()
    still = await skill._still_as_told(ctx, order_id)  # the shop's price and stock, asked again before placing
    if still == "changed":
        return await _propose_and_place(skill, ctx, lines)  # the new quote, and a new question
    if still != "same":
        return ()
    await skill._place(ctx, order_id, quote)
    if skill.orders.get(order_id).state not in (OrderState.PLACED, OrderState.SHIPPED, OrderState.DELIVERED):
        return ()
    return tuple(text for line in lines for text in line.texts)


async def _confirmed(skill: ShoppingSkill, ctx: Context, lines: list[_Line], quote: Quote) -> str | None:
    """Propose the order and ask once; its id on an explicit yes, else None (the proposal is declined)."""
    order = skill.orders.propose([OrderItem(l.product.sku, l.quantity) for l in lines], quote, ctx.lang)
    ctx.emit(
        "order_proposed",
        order_id=order.id,
        items=[
            {"sku": q.sku, "name": q.name, "quantity": q.quantity, "unit_price_minor": q.unit_price_minor}
            for q in quote.lines
        ],
        total_minor=quote.total_minor,
        currency=quote.currency,
    )
    items = phrasing.join([phrasing.item(q.name, q.quantity, ctx.lang) for q in quote.lines], ctx.lang)
    try:
        yes = await ctx.confirm(
            "list_proposal",
            items=items,
            total=phrasing.money(quote.total_minor, quote.currency, ctx.lang),
            when=phrasing.day(quote.delivery_estimate, ctx.now, ctx.lang),
        )
    except Cancelled as err:
        skill.orders.decline(order.id)
        ctx.emit("order_cancelled", order_id=order.id)
        if err.reason in ("user", "unclear"):
            ctx.say("nothing_ordered")
        return None
    if not yes:
        skill.orders.decline(order.id)
        ctx.emit("order_cancelled", order_id=order.id)
        ctx.say("nothing_ordered")
        return None
    return order.id
