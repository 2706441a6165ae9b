"""The client-side idempotency journal of Kroger cart additions (a SQLite file in the household folder).

Kroger's public Cart API can add to a cart but never read it back, so the shop cannot say whether a key
was used. Each key is committed here as `sending` (WAL, synchronous=FULL) before the PUT, and becomes
`added` once Kroger answers 204. A key left `sending` (the process died mid-PUT) or marked `unknown`
(the answer was lost) is never sent again: the items may or may not be in the cart, and sending twice
would double them. The user is told "I could not confirm it" and can settle it by checking the cart.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from .base import QuoteLine

JOURNAL_FILE = "kroger_cart.sqlite"
SENDING, ADDED, UNKNOWN = "sending", "added", "unknown"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS cart_adds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    lines TEXT NOT NULL,
    currency TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
)"""


@dataclass(frozen=True)
class CartAdd:
    """One cart addition, as the journal knows it."""

    row_id: int
    """Journal row id (part of the order id told to the user)."""
    key: str
    """Idempotency key."""
    state: str
    """`sending`, `added` or `unknown`."""
    lines: tuple[QuoteLine, ...]
    """What was (or is being) added, with the prices quoted just before."""
    currency: str
    """ISO 4217 code."""
    created_at: datetime
    """When it was first sent, aware UTC."""


class CartJournal:
    """Keys of cart additions; every write is committed and synced before it returns."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def get(self, key: str) -> CartAdd | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, idempotency_key, state, lines, currency, created_at FROM cart_adds WHERE idempotency_key=?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        lines = tuple(QuoteLine(**line) for line in json.loads(row[3]))
        return CartAdd(row[0], row[1], row[2], lines, row[4], datetime.fromisoformat(row[5]))

    def key_of(self, row_id: int) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT idempotency_key FROM cart_adds WHERE id=?", (row_id,)).fetchone()
        return None if row is None else str(row[0])

    def begin(self, key: str, lines: tuple[QuoteLine, ...], currency: str, now: datetime) -> CartAdd:
        """Record `key` as `sending` (it must be new)."""
        payload = json.dumps([line.__dict__ for line in lines])
        with self._lock:
            self._db.execute(
                "INSERT INTO cart_adds (idempotency_key, state, lines, currency, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (key, SENDING, payload, currency, now.isoformat(), now.isoformat()),
            )
        found = self.get(key)
        assert found is not None
        return found

    def mark(self, key: str, state: str, now: datetime) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE cart_adds SET state=?, updated_at=? WHERE idempotency_key=?", (state, now.isoformat(), key)
            )

    def forget(self, key: str) -> None:
        """Drop a key Kroger certainly never received (so it may be sent again)."""
        with self._lock:
            self._db.execute("DELETE FROM cart_adds WHERE idempotency_key=?", (key,))

    def unsettled(self) -> list[CartAdd]:
        """Additions whose outcome is unknown (`sending` left by a crash, or `unknown`)."""
        with self._lock:
            keys = [
                r[0]
                for r in self._db.execute(
                    "SELECT idempotency_key FROM cart_adds WHERE state IN (?, ?) ORDER BY id", (SENDING, UNKNOWN)
                )
            ]
        return [found for key in keys if (found := self.get(key)) is not None]

    def close(self) -> None:
        with self._lock:
            self._db.close()
