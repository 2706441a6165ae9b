"""The demo shop's own SQLite state (`demo_retailer.sqlite`): one `shop_order` row per order.

The shop is a separate system from the household, so it keeps its own file and plain SQL. An
idempotency key is UNIQUE: a second order with the same key can never be written, even by two
requests at once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..errors import StorageError
from .base import QuoteLine
from .wire import line_from_json, line_to_json

#: Retailer order ids are this prefix plus 1000 + the row id: D-1001, D-1002, …
ID_PREFIX = "D-"
_ID_OFFSET = 1000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS shop_order (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    items TEXT NOT NULL,
    lines TEXT NOT NULL,
    total_minor INTEGER NOT NULL CHECK (total_minor >= 0),
    currency TEXT NOT NULL,
    placed_at TEXT NOT NULL,
    delivery_estimate TEXT NOT NULL,
    cancelled_at TEXT
)"""


@dataclass(frozen=True)
class ShopOrder:
    """One order as the demo shop stored it."""

    retailer_order_id: str
    """"D-1001"."""
    idempotency_key: str
    """The key the order was placed with."""
    items: str
    """Canonical JSON of the ordered (sku, quantity) pairs, to compare a repeated request with."""
    lines: tuple[QuoteLine, ...]
    """Ordered lines at the prices charged."""
    total_minor: int
    """Total charged, minor units."""
    currency: str
    """ISO 4217 currency code."""
    placed_at: datetime
    """When the shop recorded it, aware UTC."""
    delivery_estimate: datetime
    """Expected delivery, aware UTC."""
    cancelled_at: datetime | None
    """When it was cancelled, if it was."""


class ShopStore:
    """Reads and writes `shop_order` in one SQLite file (WAL, synchronous=FULL)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._transaction() as conn:
                conn.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise StorageError(
                f"cannot open the demo shop's database {path}: {err}",
                hint="move the file away to start the shop afresh",
            ) from err

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def by_key(self, idempotency_key: str) -> ShopOrder | None:
        with self._transaction() as conn:
            row = conn.execute("SELECT * FROM shop_order WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
        return _order(row) if row else None

    def by_id(self, retailer_order_id: str) -> ShopOrder | None:
        number = retailer_order_id.removeprefix(ID_PREFIX)
        if not retailer_order_id.startswith(ID_PREFIX) or not number.isdigit():
            return None
        with self._transaction() as conn:
            row = conn.execute("SELECT * FROM shop_order WHERE id = ?", (int(number) - _ID_OFFSET,)).fetchone()
        return _order(row) if row else None

    def add(self, order: ShopOrder) -> tuple[ShopOrder, bool]:
        """Store a new order, or return the one already stored under its key (and False)."""
        with self._transaction() as conn:
            key = (order.idempotency_key,)
            row = conn.execute("SELECT * FROM shop_order WHERE idempotency_key = ?", key).fetchone()
            if row:
                return _order(row), False
            cursor = conn.execute(
                "INSERT INTO shop_order (idempotency_key, items, lines, total_minor, currency, placed_at,"
                " delivery_estimate) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    order.idempotency_key,
                    order.items,
                    json.dumps([line_to_json(line) for line in order.lines]),
                    order.total_minor,
                    order.currency,
                    _iso(order.placed_at),
                    _iso(order.delivery_estimate),
                ),
            )
            row = conn.execute("SELECT * FROM shop_order WHERE id = ?", (cursor.lastrowid,)).fetchone()
        return _order(row), True

    def cancel(self, retailer_order_id: str, at: datetime) -> None:
        number = int(retailer_order_id.removeprefix(ID_PREFIX)) - _ID_OFFSET
        with self._transaction() as conn:
            conn.execute(
                "UPDATE shop_order SET cancelled_at = ? WHERE id = ? AND cancelled_at IS NULL", (_iso(at), number)
            )

    def count(self) -> int:
        with self._transaction() as conn:
            return int(conn.execute("SELECT count(*) FROM shop_order").fetchone()[0])


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


def _order(row: tuple[object, ...]) -> ShopOrder:
    number, key, items, lines, total, currency, placed_at, estimate, cancelled_at = row
    return ShopOrder(
        retailer_order_id=f"{ID_PREFIX}{int(str(number)) + _ID_OFFSET}",
        idempotency_key=str(key),
        items=str(items),
        lines=tuple(line_from_json(line, "stored order line") for line in json.loads(str(lines))),
        total_minor=int(str(total)),
        currency=str(currency),
        placed_at=datetime.fromisoformat(str(placed_at)),
        delivery_estimate=datetime.fromisoformat(str(estimate)),
        cancelled_at=datetime.fromisoformat(str(cancelled_at)) if cancelled_at else None,
    )
