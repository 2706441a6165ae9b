"""Intent handlers of the shopping-list skill."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import ClassVar, Protocol

from assistant.skill import Cancelled, Context, Skill, intent

from .parsing import Said, display, parse_items
from .store import Added, Line, ListStore

log = logging.getLogger(__name__)

#: The capability that orders several things with one confirmation (offered by the shopping skill).
ORDER_CAPABILITY = "shopping.order_list"


class OrderOutcome(Protocol):
    """What `ORDER_CAPABILITY` returns."""

    @property
    def placed(self) -> tuple[str, ...]:
        """Names handed over that are in an order the shop accepted."""
        ...


class ShoppingListSkill(Skill):
    """The household's shopping list, kept in its database."""

    name = "shopping_list"
    description: ClassVar[dict[str, str]] = {
        "en": "keep your shopping list: add things with quantities, take them off, read it back, clear it, "
        "and order it all at once",
        "fr": "tenir votre liste de courses : y ajouter des choses avec leurs quantités, en retirer, la relire, "
        "la vider, et la commander d'un coup",
    }

    async def setup(self) -> None:
        ListStore.create_table(self.env.services["db"])

    def _store(self, ctx: Context) -> ListStore:
        return ListStore(ctx.service("db"), ctx.lang, ctx.service("clock"))

    @intent("add")
    async def add(self, ctx: Context) -> None:
        items = parse_items(ctx.text, ctx.lang)
        if not items:
            answer = await ctx.ask("ask_add", slot="item")
            items = parse_items(answer.text, ctx.lang)
            if not items:
                ctx.say("nothing_added")
                return
        done = self._store(ctx).add(items)
        ctx.emit("list_added", items=[_event(a.line) for a in done])
        self._say_added(ctx, done)

    def _say_added(self, ctx: Context, done: Sequence[Added]) -> None:
        new, more, same = (
            [display(a.line.item, ctx.lang) for a in done if a.status == s] for s in ("new", "more", "same")
        )
        more = [name for name in dict.fromkeys(more) if name not in new]
        same = [name for name in dict.fromkeys(same) if name not in new and name not in more]
        if new:
            ctx.say("added", items=_join(new, ctx.lang))
        if more:
            ctx.say("merged", items=_join(more, ctx.lang))
        if same:
            ctx.say("already", items=_join(same, ctx.lang))

    @intent("remove")
    async def remove(self, ctx: Context) -> None:
        items = parse_items(ctx.text, ctx.lang)
        if not items:
            answer = await ctx.ask("ask_remove", slot="item")
            items = parse_items(answer.text, ctx.lang)
        removed, missing = self._store(ctx).remove([i.name for i in items])
        ctx.emit("list_removed", items=[_event(line) for line in removed], missing=missing)
        if removed:
            ctx.say("removed", items=_join([line.item.name for line in removed], ctx.lang))
        if missing:
            ctx.say("not_on_list", items=_join(missing, ctx.lang))
        if not removed and not missing:
            ctx.say("nothing_removed")

    @intent("read")
    async def read(self, ctx: Context) -> None:
        lines = self._store(ctx).lines()
        ctx.emit("list_read", items=[_event(line) for line in lines])
        if not lines:
            ctx.say("empty")
            return
        ctx.say(
            "contents" if len(lines) > 1 else "contents_one",
            count=len(lines),
            items=_join([display(l.item, ctx.lang) for l in lines], ctx.lang),
        )

    @intent("clear")
    async def clear(self, ctx: Context) -> None:
        store = self._store(ctx)
        count = len(store.lines())
        if count == 0:
            ctx.say("already_empty")
            return
        try:
            yes = await ctx.confirm("confirm_clear" if count > 1 else "confirm_clear_one", count=count)
        except Cancelled:
            ctx.say("kept")
            return
        if not yes:
            ctx.say("kept")
            return
        store.clear()
        ctx.emit("list_cleared", count=count)
        ctx.say("cleared")

    @intent("order")
    async def order(self, ctx: Context) -> None:
        store = self._store(ctx)
        lines = store.lines()
        if not lines:
            ctx.say("nothing_to_order")
            return
        outcome: OrderOutcome = await ctx.hand_off(
            ORDER_CAPABILITY, items=[(line.item.name, _count(line.item)) for line in lines]
        )
        ordered = [line for line in lines if line.item.name in outcome.placed]
        if not ordered:
            return
        store.remove_ids(line.id for line in ordered)
        left = [line for line in lines if line not in ordered]
        ctx.emit("list_ordered", ordered=[_event(l) for l in ordered], kept=[_event(l) for l in left])
        if left:
            ctx.say("left_on_list", items=_join([display(l.item, ctx.lang) for l in left], ctx.lang))
        else:
            ctx.say("now_empty")


def _count(item: Said) -> int | None:
    """How many to order: the quantity said ("2 dozen eggs" → 2 packs), or None for as many as last time."""
    return item.quantity


def _join(parts: Sequence[str], lang: str) -> str:
    """ "a, b and c" / "a, b et c"."""
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + (" and " if lang == "en" else " et ") + parts[-1]


def _event(line: Line) -> dict[str, object]:
    return {"name": line.item.name, "quantity": line.item.quantity, "unit": line.item.unit}
