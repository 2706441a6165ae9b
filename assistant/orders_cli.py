"""`assistant orders list|reconcile`, and `open_order_book`: database + retailer + order book from a Config."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from .config import Config
from .money import format_money
from .orders import ASSISTANT, Order, OrderBook, query_orders
from .retailers.registry import create_retailer
from .storage.db import open_db
from .storage.models import OrderState, utcnow


@asynccontextmanager
async def open_order_book(config: Config, clock: Callable[[], datetime] = utcnow) -> AsyncIterator[OrderBook]:
    """The household's order book with the configured retailer; the retailer (and a demo shop) stop on exit."""
    engine = open_db(config.db_path)
    retailer = create_retailer(config, engine, clock)
    try:
        yield OrderBook(engine, retailer, clock)
    finally:
        aclose = getattr(retailer, "aclose", None)
        if callable(aclose):
            await aclose()
        engine.dispose()


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("orders", help="orders placed through the assistant")
    sub = p.add_subparsers(dest="orders_command", metavar="COMMAND")
    ls = sub.add_parser("list", help="orders and their state, newest first")
    ls.add_argument("--json", action="store_true", help="print a JSON list")
    ls.add_argument("--all", action="store_true", help="include the imported order history")
    ls.set_defaults(func=_list)
    rec = sub.add_parser("reconcile", help="settle orders interrupted between the user's yes and the shop's answer")
    rec.set_defaults(func=_reconcile)
    p.set_defaults(func=lambda args, config: p.print_help() or 2)


def _list(args: argparse.Namespace, config: Config) -> int:
    orders = query_orders(open_db(config.db_path), source=None if args.all else ASSISTANT)
    if args.json:
        print(json.dumps([o.as_json() for o in orders], ensure_ascii=False, indent=2))
        return 0
    if not orders:
        print("No orders yet." if args.all else "No orders placed through the assistant yet.")
        return 0
    for order in orders:
        print(_line(order, config.language))
    return 0


def _line(order: Order, lang: str) -> str:
    first = order.lines[0] if order.lines else None
    items = f"{first.quantity} × {first.name}" if first else "(no lines)"
    more = f" (+{len(order.lines) - 1} more)" if len(order.lines) > 1 else ""
    label = order.retailer_order_id or order.id
    total = format_money(order.total_minor, order.currency, lang)
    return f"{order.created_at:%Y-%m-%d}  {label:<14} {order.state!s:<10} {total:>10}  {items}{more}"


async def _reconcile(args: argparse.Namespace, config: Config) -> int:
    async with open_order_book(config) as book:
        changed = await book.reconcile()
        waiting = [o for o in book.list_orders() if o.state == OrderState.CONFIRMED]
    for order in changed:
        shop_id = f" ({order.retailer_order_id})" if order.retailer_order_id else ""
        print(f"Order {order.id}: now {order.state}{shop_id}")
    if waiting:
        print(
            f"error: {len(waiting)} confirmed order(s) could not be settled: the shop did not answer "
            "(they will be settled at the next start or `assistant orders reconcile`)",
            file=sys.stderr,
        )
        return 1
    if not changed:
        print("Nothing to reconcile.")
    return 0
