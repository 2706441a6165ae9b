"""The household's order history: import a shop's CSV export (all or nothing), list what can be reordered.

A product's history counts imported orders and the orders the assistant placed, so a reorder is
found whether the household bought it at the shop or through the assistant.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, exists
from sqlmodel import Session, col, select

from .config import Config
from .errors import HistoryImportError
from .history_csv import HistoryRow, read_history
from .money import format_money
from .storage.db import open_db, write_session
from .storage.models import BOUGHT, HistoryImport, Order, OrderEvent, OrderLine, OrderState, Product, utcnow

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
HISTORY = "history"


@dataclass(frozen=True)
class ImportSummary:
    """What one `import_history` call added."""

    path: Path
    """The imported file."""
    orders: int
    """Orders that received new lines (new orders, or new lines of orders imported before)."""
    lines: int
    """Order lines added."""
    products: int
    """Distinct products among the added lines."""
    skipped: int
    """Rows already present (same retailer, order id and sku), left as they were."""
    already_imported_at: datetime | None = None
    """When this exact file was imported before (then nothing was added), else None."""

    def message(self) -> str:
        if self.already_imported_at is not None:
            return f"{self.path.name} was already imported on {self.already_imported_at:%Y-%m-%d}: nothing added"
        text = f"Imported {self.orders} orders ({self.lines} lines, {self.products} products) from {self.path.name}"
        return text + (f"; {self.skipped} rows were already there" if self.skipped else "")


@dataclass(frozen=True)
class HistoryProduct:
    """A product the household has bought, aggregated over imported history and placed orders."""

    sku: str
    """The retailer's SKU."""
    name: str
    """Name from its most recent order."""
    brand: str
    """Brand, may be empty."""
    retailer: str
    """Retailer of its most recent order."""
    times_ordered: int
    """Number of orders it appears in."""
    last_ordered: datetime
    """Date of its most recent order, aware UTC."""
    last_quantity: int
    """Units in its most recent order."""
    last_unit_price_minor: int
    """Unit price paid in its most recent order, minor units."""
    currency: str
    """ISO 4217 currency of that price."""


def import_history(engine: Engine, path: Path, *, clock: Clock = utcnow) -> ImportSummary:
    """Import a history CSV in one transaction. Raises HistoryImportError (nothing imported) listing every bad row."""
    path = Path(path)
    data = _read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    now = clock()
    with write_session(engine) as session:
        previous = session.get(HistoryImport, digest)
        if previous is not None:
            return ImportSummary(path, 0, 0, 0, 0, already_imported_at=previous.imported_at)
        rows = read_history(data, path.name, now)
        summary = _store(session, rows, path, now)
        session.add(HistoryImport(sha256=digest, filename=path.name, rows=summary.lines, imported_at=now))
        session.commit()
    log.info("imported %d lines from %s", summary.lines, path)
    return summary


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as err:
        raise HistoryImportError(f"{path}: no such file") from err
    except IsADirectoryError as err:
        raise HistoryImportError(f"{path} is a folder, not a CSV file") from err
    except OSError as err:
        raise HistoryImportError(f"cannot read {path}: {err.strerror}") from err


def _store(session: Session, rows: list[HistoryRow], path: Path, now: datetime) -> ImportSummary:
    """Add the rows not already present; refuse (raise) if the file contradicts orders imported before."""
    retailers = {r.retailer for r in rows}
    stored = session.exec(select(Order).where(Order.source == HISTORY, col(Order.retailer).in_(retailers)))
    orders = {(o.retailer, o.retailer_order_id): o for o in stored}
    ids = [o.id for o in orders.values()]
    present = set(session.exec(select(OrderLine.order_id, OrderLine.sku).where(col(OrderLine.order_id).in_(ids))))
    problems: list[str] = []
    added: list[tuple[str, HistoryRow]] = []
    for row in rows:
        order = orders.get((row.retailer, row.order_id))
        if order is None:
            order = orders[(row.retailer, row.order_id)] = _new_order(session, row, path, now)
        elif order.created_at != row.ordered_at or order.currency != row.currency:
            problems.append(
                f"line {row.line}: order {row.order_id} from {row.retailer} was imported before with "
                f"{order.created_at:%Y-%m-%d %H:%M} {order.currency}; this file says "
                f"{row.ordered_at:%Y-%m-%d %H:%M} {row.currency}"
            )
            continue
        if (order.id, row.sku) in present:
            continue
        present.add((order.id, row.sku))
        session.add(
            OrderLine(
                order_id=order.id,
                sku=row.sku,
                name=row.name,
                quantity=row.quantity,
                unit_price_minor=row.unit_price_minor,
                currency=row.currency,
            )
        )
        order.total_minor += row.quantity * row.unit_price_minor
        added.append((order.id, row))
    if problems:
        session.rollback()
        raise HistoryImportError(f"{path.name} contradicts the history imported before; nothing was imported", problems)
    _update_products(session, [row for _, row in added])
    return ImportSummary(
        path, len({oid for oid, _ in added}), len(added), len({r.sku for _, r in added}), len(rows) - len(added)
    )


def _new_order(session: Session, row: HistoryRow, path: Path, now: datetime) -> Order:
    order = Order(
        id=f"H-{uuid.uuid4().hex[:16]}",
        source=HISTORY,
        retailer=row.retailer,
        retailer_order_id=row.order_id,
        state=OrderState.DELIVERED,
        currency=row.currency,
        total_minor=0,
        created_at=row.ordered_at,
        updated_at=now,
        lang="",
    )
    session.add(order)
    session.flush()
    session.add(OrderEvent(order_id=order.id, state=OrderState.DELIVERED, at=now, note=f"imported from {path.name}"))
    return order


def _update_products(session: Session, rows: list[HistoryRow]) -> None:
    """Name and brand of each product come from its most recent order."""
    latest: dict[str, HistoryRow] = {}
    for row in rows:
        if row.sku not in latest or row.ordered_at >= latest[row.sku].ordered_at:
            latest[row.sku] = row
    for sku, row in latest.items():
        record_product(session, sku, row.name, row.brand, row.retailer, row.ordered_at)


def record_product(session: Session, sku: str, name: str, brand: str | None, retailer: str, when: datetime) -> None:
    """Add or refresh a product; an older order never overwrites what a newer one said. `brand=None` keeps it."""
    product = session.get(Product, sku)
    if product is None:
        session.add(Product(sku=sku, name=name, brand=brand or "", retailer=retailer, last_ordered=when))
    elif product.last_ordered is None or when >= product.last_ordered:
        product.name, product.retailer, product.last_ordered = name, retailer, when
        if brand is not None:
            product.brand = brand


def household_products(engine: Engine) -> list[HistoryProduct]:
    """Every product bought (imported, or placed by the assistant), most often bought first."""
    with Session(engine) as session:
        lines = session.exec(
            select(OrderLine, Order.created_at, Order.retailer)
            .join(Order, col(Order.id) == OrderLine.order_id)
            .where(col(Order.state).in_(BOUGHT))
            .order_by(col(Order.created_at), col(OrderLine.id))  # same date: file order
        ).all()
        brands = dict(session.exec(select(Product.sku, Product.brand)).all())
    counts: dict[str, int] = {}
    last: dict[str, tuple[OrderLine, datetime, str]] = {}
    for line, created_at, retailer in lines:
        counts[line.sku] = counts.get(line.sku, 0) + 1
        last[line.sku] = (line, created_at, retailer)
    products = [
        HistoryProduct(
            sku,
            line.name,
            brands.get(sku, ""),
            retailer,
            counts[sku],
            when,
            line.quantity,
            line.unit_price_minor,
            line.currency,
        )
        for sku, (line, when, retailer) in last.items()
    ]
    return sorted(products, key=lambda p: (-p.times_ordered, -p.last_ordered.timestamp(), p.name))


def has_history(engine: Engine) -> bool:
    """True once the household has any bought order line (imported or placed)."""
    with Session(engine) as session:
        query = exists().where(col(OrderLine.order_id) == Order.id, col(Order.state).in_(BOUGHT)).select()
        return bool(session.execute(query).scalar())


# --- command line ------------------------------------------------------------
def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("history", help="import and list the household's order history")
    sub = p.add_subparsers(dest="history_command", metavar="COMMAND")
    imp = sub.add_parser("import", help="import a shop's order-history CSV (all or nothing)")
    imp.add_argument(
        "file",
        type=Path,
        help="CSV with columns "
        + ",".join(
            ("order_date", "order_id", "sku", "product_name", "brand", "quantity", "unit_price", "currency", "retailer")
        ),
    )
    imp.add_argument("--if-empty", action="store_true", help="import only if the household has no history yet")
    imp.set_defaults(func=_cli_import)
    ls = sub.add_parser("list", help="the products the assistant can reorder")
    ls.add_argument("--json", action="store_true", help="print a JSON list")
    ls.set_defaults(func=_cli_list)
    p.set_defaults(func=lambda args, config: p.print_help() or 2)


def _cli_import(args: argparse.Namespace, config: Config) -> int:
    engine = open_db(config.db_path)
    if args.if_empty and has_history(engine):
        print(f"The household at {config.home} already has an order history; nothing imported.")
        return 0
    print(import_history(engine, args.file).message())
    return 0


def _cli_list(args: argparse.Namespace, config: Config) -> int:
    products = household_products(open_db(config.db_path))
    if args.json:
        rows = [{**asdict(p), "last_ordered": p.last_ordered.isoformat()} for p in products]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not products:
        print(f"No order history in {config.home} yet; import one with: assistant history import FILE.csv")
        return 0
    for p in products:
        price = format_money(p.last_unit_price_minor, p.currency, config.language)
        brand = f" ({p.brand})" if p.brand and p.brand.lower() not in p.name.lower() else ""
        print(
            f"{p.times_ordered:>3}×  {p.name}{brand}  [{p.sku}]  last {p.last_ordered:%Y-%m-%d}: "
            f"{p.last_quantity} at {price}"
        )
    return 0
