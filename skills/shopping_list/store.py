"""The household's shopping list: one SQLModel table of the skill's own in the household database.

The table lives in the skill's own SQLAlchemy registry, not on the framework's `SQLModel.metadata`: the
framework creates its tables when it opens the database, before any skill is imported, so the skill
creates its own (`ListStore.create_table`, idempotent) at set-up. A registry of its own also lets the
module be imported under two names (the loader's and the tests') without declaring the table twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import Column, Engine
from sqlalchemy.orm import registry
from sqlmodel import Field, Session, SQLModel, col, select

from assistant.storage.db import write_session
from assistant.storage.models import UTCDateTime

from .parsing import Said, same_item


class _ListBase(SQLModel, registry=registry()):
    """Tables of the shopping-list skill."""


class ShoppingListRow(_ListBase, table=True):
    """One line of the shopping list."""

    __tablename__ = "shopping_list_item"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    """The item as first said ("eggs")."""
    quantity: int | None = None
    """How many; None when never said."""
    unit: str = ""
    """Unit or container as said ("dozen", "boîtes"); may be empty."""
    added_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    """When it was first put on the list."""


@dataclass(frozen=True)
class Line:
    """A line of the list, as the skill reads it."""

    id: int
    """Row id."""
    item: Said
    """Name, quantity and unit."""


@dataclass(frozen=True)
class Added:
    """What adding one item did."""

    line: Line
    """The line as it now is."""
    status: Literal["new", "more", "same"]
    """`new` line; `more`: already on the list, the quantity said was added; `same`: already on it, unchanged."""


class ListStore:
    """Reads and changes the household's list; every change is one write transaction."""

    def __init__(self, engine: Engine, lang: str, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.lang = lang
        self.clock = clock

    @staticmethod
    def create_table(engine: Engine) -> None:
        """Create the list's table in the household database if it is not there yet."""
        with write_session(engine) as session:
            _ListBase.metadata.create_all(session.connection())
            session.commit()

    def lines(self) -> list[Line]:
        """Every line, oldest first."""
        with Session(self.engine) as session:
            return [_line(r) for r in session.exec(select(ShoppingListRow).order_by(col(ShoppingListRow.id)))]

    def add(self, items: Iterable[Said]) -> list[Added]:
        """Put items on the list; an item already on it gets the new quantity added to its line."""
        done = []
        with write_session(self.engine) as session:
            rows = list(session.exec(select(ShoppingListRow).order_by(col(ShoppingListRow.id))))
            for item in items:
                row = next((r for r in rows if same_item(r.name, item.name, self.lang)), None)
                status: Literal["new", "more", "same"] = "same"
                if row is None:
                    status = "new"
                    row = ShoppingListRow(name=item.name, quantity=item.quantity, unit=item.unit, added_at=self.clock())
                    rows.append(row)
                elif item.quantity is not None:
                    status = "more"
                    row.quantity = (row.quantity or 1) + item.quantity
                    row.unit = row.unit or item.unit
                session.add(row)
                session.flush()
                done.append(Added(_line(row), status))
            session.commit()
        return done

    def remove(self, names: Sequence[str]) -> tuple[list[Line], list[str]]:
        """Take the named items off the list: (lines removed, names not on it)."""
        removed, missing = [], []
        with write_session(self.engine) as session:
            rows = list(session.exec(select(ShoppingListRow)))
            for name in names:
                row = next((r for r in rows if same_item(r.name, name, self.lang)), None)
                if row is None:
                    missing.append(name)
                    continue
                rows.remove(row)
                removed.append(_line(row))
                session.delete(row)
            session.commit()
        return removed, missing

    def remove_ids(self, ids: Iterable[int]) -> None:
        """Take these lines off the list (those still on it)."""
        with write_session(self.engine) as session:
            for row_id in ids:
                row = session.get(ShoppingListRow, row_id)
                if row is not None:
                    session.delete(row)
            session.commit()

    def clear(self) -> int:
        """Empty the list; how many lines it had."""
        with write_session(self.engine) as session:
            rows = list(session.exec(select(ShoppingListRow)))
            for row in rows:
                session.delete(row)
            session.commit()
        return len(rows)


def _line(row: ShoppingListRow) -> Line:
    assert row.id is not None
    return Line(row.id, Said(row.name, row.quantity, row.unit))
