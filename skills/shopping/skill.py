"""Intent handlers of the shopping skill."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from assistant.errors import ConfigError, RetailerError, RetailerUnavailable
from assistant.history import HistoryProduct, household_products
from assistant.lang import warm_up_in_background
from assistant.lang.numbers import find_quantity, parse_number
from assistant.lang.terms import analyse
from assistant.money import parse_money
from assistant.nlu.types import ParseResult
from assistant.orders import OrderBook
from assistant.retailers.base import OrderItem, Quote, Retailer, capabilities_of
from assistant.skill import Cancelled, Context, Option, Skill, capability, intent

from . import phrasing
from .basket import BasketOutcome, Wanted, order_many
from .matching import FILLER, Candidate, MatchResult, ProductMatcher, says_no
from .query import Mention, content_spans, product_mention, product_query, quantity_heard_as, without_doubted

log = logging.getLogger(__name__)


#: The "done" sentence for each kind of shop (`RetailerCapabilities.fulfilment`).
PLACED_KEYS = {"delivery": "placed", "cart": "placed_cart", "list": "placed_list"}


@dataclass(frozen=True)
class Limits:
    """Safety limits on what one spoken request may order."""

    max_quantity: int = 12
    """Most units of one product in one order."""
    max_order_total: str = "150.00"
    """Largest order total, in the order's currency (decimal)."""

    def validate(self, path: str) -> None:
        if self.max_quantity < 1:
            raise ConfigError(f"{path}.max_quantity: expected a positive integer")
        try:
            parse_money(self.max_order_total, "EUR")
        except ValueError as err:
            raise ConfigError(f'{path}.max_order_total: expected a decimal amount like "150.00"') from err


@dataclass(frozen=True)
class ShoppingSettings:
    """Settings under `skills.settings.shopping`."""

    limits: Limits = field(default_factory=Limits)
    """Per-order safety limits."""


class ShoppingSkill(Skill):
    """Reorder what the household already buys; say what it found, place it only after a yes."""

    name = "shopping"
    Settings = ShoppingSettings
    description: ClassVar[dict[str, str]] = {
        "en": "reorder things you have bought before, tell you your last order and its delivery status, "
        "cancel an order",
        "fr": "recommander ce que vous achetez déjà, dire votre dernière commande et sa livraison, "
        "annuler une commande",
    }

    async def setup(self) -> None:
        self._matchers: dict[tuple[str, tuple[tuple[str, int], ...]], ProductMatcher] = {}
        # The French spaCy model takes seconds to load: start it now, off the event loop, so the
        # first reply does not stall.
        config = self.env.config
        langs = [config.language, *(lang for lang in config.languages if lang != config.language)]
        self._warm = warm_up_in_background(langs)

    async def ready(self, lang: str) -> None:
        if lang in self._warm:
            await self._warm[lang]
        self._matcher(self._history(), lang)

    def is_new_request(self, parse: ParseResult, lang: str) -> bool:
        """A product named, with or without the NLU's slot ("reorder the toothpaste" while a proposal waits);
        "order it" or "yes, buy it" is not one."""
        if parse.entities:
            return True
        mention = product_mention(parse, lang)
        filler = FILLER.get(lang, frozenset())
        return mention is not None and any(
            w.kind == "word" and w.text not in filler for w in analyse(mention.text, lang)
        )

    def claims(self, parse: ParseResult, intent: str, lang: str) -> bool:
        """A reorder the NLU was unsure of ("it more oatly": `core.affirm` 0.43, reorder 0.14) when it names
        a product of the household's history and negates nothing ("I don't want the Oatly"). The handler
        only proposes: nothing is ordered without the user's yes."""
        return self._reorder_of_history(parse, intent, lang) is not None

    def request_spans(self, parse: ParseResult, intent: str, lang: str) -> Sequence[tuple[int, int]]:
        """The product words of a reorder the NLU tagged no product in, when they name a product of the
        household's history: "order free tin's baked beans," came back without an entity, heard at 0.22
        with "beans" at 0.98. Not its container ("tin's"), nor anything in an utterance that negates."""
        mention = self._reorder_of_history(parse, intent, lang)
        return () if mention is None else content_spans(parse.text, mention, lang)

    def _reorder_of_history(self, parse: ParseResult, intent: str, lang: str) -> Mention | None:
        """The product mention of a reorder that names a product of the history and negates nothing."""
        if intent != f"{self.name}.reorder" or says_no(parse.text, lang):
            return None
        mention = product_mention(parse, lang)
        products = self._history() if mention is not None else []
        if mention is None or not products or self._matcher(products, lang).match(mention.text).status == "none":
            return None
        return mention

    # --- services --------------------------------------------------------
    @property
    def orders(self) -> OrderBook:
        return self.env.services["orders"]  # type: ignore[no-any-return]

    @property
    def retailer(self) -> Retailer:
        return self.env.services["retailer"]  # type: ignore[no-any-return]

    def _history(self) -> list[HistoryProduct]:
        return household_products(self.env.services["db"])

    def _matcher(self, products: list[HistoryProduct], lang: str) -> ProductMatcher:
        """One matcher per history state: rebuilt only when the history changes."""
        key = (lang, tuple((p.sku, p.times_ordered) for p in products))
        if key not in self._matchers:
            self._matchers.clear()
            candidates = [Candidate(p.sku, p.name, p.brand, p.times_ordered, p.last_ordered) for p in products]
            self._matchers[key] = ProductMatcher(candidates, lang)
        return self._matchers[key]

    # --- reorder ---------------------------------------------------------
    @intent("reorder")
    async def reorder(self, ctx: Context) -> None:
        mention = product_mention(ctx.parse, ctx.lang)
        query = mention.text if mention else ""
        if not query:
            answer = await ctx.ask("ask_product", slot="product")
            query = answer.value
        products = self._history()
        await self._warm[ctx.lang]
        if not products:
            ctx.emit("not_found", query=query)
            ctx.say("empty_history")
            return
        by_sku = {p.sku: p for p in products}
        matcher = self._matcher(products, ctx.lang)
        result, said = self._match(ctx, matcher, query)
        product = await self._pick(ctx, matcher, result, query, by_sku)
        if product is None:
            return
        quantity = self._quantity(said, ctx.lang) or product.last_quantity or 1
        await self._propose_and_place(ctx, product, quantity)

    def _match(self, ctx: Context, matcher: ProductMatcher, query: str) -> tuple[MatchResult, ParseResult]:
        """The history's products `query` names, and the words they were found in (the utterance, or the
        other reading that named them, whose quantity goes with them). When none: the product that
        speech-to-text's other readings name, else a second look without the words it doubted (a proposal
        still needs the user's yes).

        The second look reads every word of the utterance that could name a product and was heard clearly,
        wherever the NLU's slot was (it parsed a misheard sentence): "reorder the nasty biscuits" (said
        "digestive", "nasty" doubted) → "biscuits". The product must have them all: "reorder the coke of the
        toilet oil" (said "coconut oil", "toilet" doubted) finds nothing, where the slot "toilet oil" alone
        would leave "oil" to name the olive oil. And the look must keep at least as many of those words as
        it drops: when most of what was said was doubted, what is left is a guess."""
        result = matcher.match(query)
        if result.status != "none":
            return result, ctx.parse
        other = self._other_reading(ctx, matcher, query)
        if other is not None:
            return other
        clear = without_doubted(ctx.parse, ctx.heard_words)
        if clear is None:  # nothing doubted: nothing to look at again
            return result, ctx.parse
        said, kept = _said(ctx.parse), _said(clear)
        if kept is None or said is None or kept.text == query:
            return result, ctx.parse
        left = matcher.name_words(kept.text)
        if matcher.name_words(said.text) - left > left:
            log.info("%r names no product, and most of what was said was doubted", query)
            return result, ctx.parse
        second = matcher.match(kept.text)
        if second.status == "none":
            return result, ctx.parse
        log.info("%r names no product; without the words heard unsure, %r does", query, kept.text)
        return second, ctx.parse

    def _other_reading(
        self, ctx: Context, matcher: ProductMatcher, query: str
    ) -> tuple[MatchResult, ParseResult] | None:
        """The match of the first of speech-to-text's other readings that names exactly one product, if any
        ("Order a loaf of Warburtons red" came with "... Warburtons bread" nearly as likely). A reading may
        only stand in for words that name no product: one that drops a product word of `query` (the name
        as heard) is no answer. "order more dog biscuits", heard right and never bought, must not become
        the McVitie's digestive biscuits of a reading without "dog". The whole reading counts, not only its
        product: "order free tin's baked beans," keeps the "free" of "free tinned up baked beans" as 3."""
        heard = _product_words(matcher, query, ctx.lang)
        for reading in ctx.heard_alternatives:
            parse = ParseResult(reading, ctx.lang, None)
            other = product_query(parse, ctx.lang)
            found = matcher.match(other) if other else None
            if found is None or found.status != "match":
                continue
            if not heard <= {w.text for w in analyse(reading, ctx.lang)}:  # the whole reading: "free" may be 3 there
                log.info("speech-to-text's other reading %r drops product words of %r", reading, query)
                continue
            log.info("%r names no product; speech-to-text's other reading %r does", ctx.text, reading)
            return found, parse
        return None

    async def _pick(
        self, ctx: Context, matcher: ProductMatcher, result: MatchResult, query: str, by_sku: dict[str, HistoryProduct]
    ) -> HistoryProduct | None:
        if result.status == "none":
            ctx.emit("not_found", query=query)
            # a possibly misheard name: "say it again" helps, "you never bought X" would mislead
            ctx.say("not_found_misheard" if ctx.unsure else "not_found", query=query)
            return None
        if result.status == "match":
            return by_sku[result.best[0].candidate.sku]
        options = [Option(label=s.candidate.name, value=s.candidate, id=s.candidate.sku) for s in result.best]
        ctx.emit("clarification", options=[{"sku": o.id, "name": o.label} for o in options])

        def resolve(answer: str, opts: Any) -> Option[Candidate] | None:
            chosen = matcher.choose(answer, [o.value for o in opts])
            return next((o for o in opts if chosen is not None and o.value.sku == chosen.sku), None)

        try:
            picked = await ctx.choose(
                "which", options, resolve=resolve, choices=phrasing.either([o.label for o in options], ctx.lang)
            )
        except Cancelled as err:
            if err.reason == "user":
                ctx.say("nothing_ordered")
            return None
        return by_sku[picked.value.sku]

    def _quantity(self, said: ParseResult, lang: str) -> int | None:
        """The quantity `said` asks for: its slot, else a number outside the product's name."""
        spoken = said.entity("quantity")
        if spoken:
            number = parse_number(spoken.value, lang)
            if number:
                return number
        text = said.text
        mention = product_mention(said, lang)
        if mention is not None:  # numbers inside the product name ("1 kg") are not quantities
            text = text[: mention.start] + " " * (mention.end - mention.start) + text[mention.end :]
        found = find_quantity(text, lang)
        return found[0] if found else quantity_heard_as(said, lang)

    async def _propose_and_place(self, ctx: Context, product: HistoryProduct, quantity: int) -> None:
        limits: Limits = self.env.settings.limits
        waiting = await self.orders.unsettled(product.sku)
        if waiting is not None:
            ctx.emit("order_pending", order_id=waiting.id)
            ctx.say("still_unconfirmed", name=product.name)
            return
        if quantity > limits.max_quantity:
            ctx.say("too_many", quantity=quantity, max=limits.max_quantity)
            return
        try:
            quote = await self.retailer.quote([OrderItem(product.sku, quantity)])
        except RetailerError as err:
            log.warning("quote failed: %s", err)
            ctx.say("shop_down")
            return
        line = quote.lines[0]
        if not line.available:
            ctx.emit("out_of_stock", sku=line.sku)
            ctx.say("out_of_stock", name=line.name)
            return
        limit_minor = parse_money(limits.max_order_total, quote.currency)
        if quote.total_minor > limit_minor:
            ctx.say(
                "over_limit",
                total=phrasing.money(quote.total_minor, quote.currency, ctx.lang),
                limit=phrasing.money(limit_minor, quote.currency, ctx.lang),
            )
            return
        order = self.orders.propose([OrderItem(product.sku, quantity)], quote, ctx.lang)
        ctx.emit(
            "order_proposed",
            order_id=order.id,
            items=_items(quote),
            total_minor=quote.total_minor,
            currency=quote.currency,
        )
        try:
            key, values = self._proposal(ctx, product, quantity, quote)
            yes = await ctx.confirm(key, **values)
        except Cancelled as err:
            self.orders.decline(order.id)
            ctx.emit("order_cancelled", order_id=order.id)
            if err.reason in ("user", "superseded"):
                ctx.say("not_ordering", name=line.name)
            elif err.reason == "unclear":
                ctx.say("nothing_ordered")
            return
        if not yes:
            self.orders.decline(order.id)
            ctx.emit("order_cancelled", order_id=order.id)
            ctx.say("declined")
            return
        still = await self._still_as_told(ctx, order.id)
        if still == "changed":
            await self._propose_and_place(ctx, product, quantity)  # the new quote, and a new question
        elif still == "same":
            await self._place(ctx, order.id, quote)

    async def _still_as_told(self, ctx: Context, order_id: str) -> str:
        """Ask the shop once more before placing: `same`, `changed` (dearer, substituted or sold out: it
        needs a new yes) or `unknown` (the shop cannot say; nothing is ordered)."""
        try:
            change = await self.orders.quote_changed(order_id)
        except RetailerError as err:
            log.warning("re-quote before placing %s failed: %s", order_id, err)
            self.orders.decline(order_id, "the shop could not confirm the price")
            ctx.emit("order_cancelled", order_id=order_id)
            ctx.say("shop_down")
            return "unknown"
        if change is None:
            return "same"
        self.orders.decline(order_id, f"the quote changed ({change.reason})")
        ctx.emit("quote_changed", order_id=order_id, reason=change.reason, total_minor=change.quote.total_minor)
        ctx.say("quote_changed")
        return "changed"

    def _proposal(
        self, ctx: Context, product: HistoryProduct, quantity: int, quote: Quote
    ) -> tuple[str, dict[str, Any]]:
        line = quote.lines[0]
        values = {
            "name": line.name,
            "quantity": quantity,
            "unit_price": phrasing.money(line.unit_price_minor, line.currency, ctx.lang),
            "total": phrasing.money(quote.total_minor, quote.currency, ctx.lang),
            "when": phrasing.day(quote.delivery_estimate, ctx.now, ctx.lang),
            "usually": ctx.render("usually" if product.times_ordered > 1 else "last_time"),
        }
        return ("proposal_one" if quantity == 1 else "proposal_many"), values

    async def _place(self, ctx: Context, order_id: str, quote: Quote) -> None:
        self.orders.confirm(order_id)
        try:
            order = await self.orders.place(order_id)
        except RetailerUnavailable as err:
            log.warning("placement of %s not confirmed: %s", order_id, err)
            ctx.emit("order_pending", order_id=order_id)
            ctx.say("unconfirmed")
            return
        except RetailerError as err:
            ctx.emit("order_failed", order_id=order_id, reason=err.message)
            ctx.say("failed", reason=err.message)
            return
        ctx.emit(
            "order_placed",
            order_id=order.id,
            retailer_order_id=order.retailer_order_id,
            items=_items(quote),
            total_minor=order.total_minor,
            currency=order.currency,
        )
        summary = phrasing.join([phrasing.item(l.name, l.quantity, ctx.lang) for l in quote.lines], ctx.lang)
        when = phrasing.day(order.delivery_estimate or quote.delivery_estimate, ctx.now, ctx.lang)
        # what "placed" means depends on the shop: delivered, waiting in a cart, or on a shopping list
        fulfilment = capabilities_of(self.retailer).fulfilment
        ctx.say(
            PLACED_KEYS.get(fulfilment, "placed"),
            id=order.retailer_order_id,
            items=summary,
            total=phrasing.money(order.total_minor, order.currency, ctx.lang),
            when=when,
            shop=self.retailer.name.capitalize(),
        )

    # --- for other skills -------------------------------------------------
    @capability("order_list")
    async def order_list(self, ctx: Context, items: Sequence[tuple[str, int | None]]) -> BasketOutcome:
        """Order several things in one proposal and one confirmation (e.g. a shopping list).

        `items`: (what the user called it, how many or None for as many as last time). Returns which of
        those texts were placed and which match nothing bought before; see basket.py."""
        return await order_many(self, ctx, [Wanted(text, quantity) for text, quantity in items])

    # --- questions about orders -------------------------------------------
    @intent("last_order")
    async def last_order(self, ctx: Context) -> None:
        found = self.orders.last_order()
        if found is None:
            ctx.say("no_orders")
            return
        order, lines = found
        items = phrasing.join([phrasing.item(l.name, l.quantity, ctx.lang) for l in lines], ctx.lang)
        ctx.say(
            "last_order",
            when=phrasing.day(order.created_at, ctx.now, ctx.lang),
            items=items,
            total=phrasing.money(order.total_minor, order.currency, ctx.lang),
        )

    @intent("order_status")
    async def order_status(self, ctx: Context) -> None:
        found = self.orders.last_placed()
        if found is None:
            ctx.say("status_none")
            return
        order, lines = found
        try:
            order = await self.orders.refresh(order.id)
        except RetailerError as err:
            log.warning("status refresh failed: %s", err)
        items = phrasing.join([phrasing.item(l.name, l.quantity, ctx.lang) for l in lines], ctx.lang)
        when = phrasing.day(order.delivery_estimate, ctx.now, ctx.lang) if order.delivery_estimate else ""
        ctx.emit("order_status", order_id=order.id, retailer_order_id=order.retailer_order_id, state=str(order.state))
        ctx.say(f"status_{order.state}", id=order.retailer_order_id or order.id, items=items, when=when)

    @intent("cancel_order", cancels_pending=True)
    async def cancel_order(self, ctx: Context) -> None:
        found = self.orders.last_cancellable()
        if found is None:
            ctx.say("nothing_to_cancel")
            return
        order, lines = found
        items = phrasing.join([phrasing.item(l.name, l.quantity, ctx.lang) for l in lines], ctx.lang)
        label = order.retailer_order_id or order.id
        try:
            if not await ctx.confirm("confirm_cancel", id=label, items=items):
                ctx.say("keep_order", id=label)
                return
        except Cancelled:
            ctx.say("keep_order", id=label)
            return
        result = await self.orders.cancel(order.id)
        if result.cancelled:
            ctx.emit("order_cancelled", order_id=order.id)
            ctx.say("order_cancelled", id=label)
        else:
            ctx.say("cannot_cancel", id=label, reason=result.reason)


def _items(quote: Quote) -> list[dict[str, Any]]:
    return [
        {
            "sku": l.sku,
            "name": l.name,
            "quantity": l.quantity,
            "unit_price_minor": l.unit_price_minor,
            "currency": l.currency,
        }
        for l in quote.lines
    ]


def _said(parse: ParseResult) -> Mention | None:
    """Every word of the utterance that could name a product, wherever the NLU's product slot is."""
    others = tuple(e for e in parse.entities if e.entity != "product")
    return product_mention(replace(parse, entities=others), parse.lang)


def _product_words(matcher: ProductMatcher, text: str, lang: str) -> set[str]:
    """The words of `text` (as `analyse` gives them) that each name some product of the history."""
    return {w.text for w in analyse(text, lang) if w.kind == "word" and matcher.match(w.text).status != "none"}
