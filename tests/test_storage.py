"""The household database on a real SQLite file: pragmas, schema version, migrations, refusals, types."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session

from assistant.errors import StorageError
from assistant.storage import db
from assistant.storage.db import open_db
from assistant.storage.models import SCHEMA_VERSION, Order, OrderLine, OrderState


def raw(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_a_new_database_has_wal_full_sync_foreign_keys_and_its_version(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "assistant.sqlite"
    engine = open_db(path)
    assert path.exists()
    with engine.connect() as conn:
        pragmas = [conn.execute(text(f"PRAGMA {p}")).scalar() for p in ("journal_mode", "synchronous", "foreign_keys")]
    assert pragmas == ["wal", 2, 1]  # 2 = FULL
    assert raw(path, "select id, version from schemainfo") == [(1, SCHEMA_VERSION)]


def test_every_connection_gets_the_pragmas(tmp_path: Path) -> None:
    engine = open_db(tmp_path / "a.sqlite")
    engine.dispose()  # the next connection is a new one
    with engine.connect() as first, engine.connect() as second:
        for conn in (first, second):
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2


def test_reopening_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    add_order(open_db(path), "O-1")
    with Session(open_db(path)) as session:
        order = session.get(Order, "O-1")
        assert order is not None
        assert order.created_at == datetime(2026, 11, 20, 9, tzinfo=UTC)  # aware UTC again after the round trip


def add_order(engine: object, order_id: str, **fields: object) -> None:
    with Session(engine) as session:  # type: ignore[arg-type]
        values = {
            "retailer": "demo",
            "state": OrderState.CONFIRMED,
            "currency": "EUR",
            "total_minor": 1490,
            "created_at": datetime(2026, 11, 20, 10, 0, tzinfo=timezone(timedelta(hours=1))),
            "updated_at": datetime(2026, 11, 20, 9, tzinfo=UTC),
            **fields,
        }
        session.add(Order(id=order_id, **values))
        session.commit()


def test_state_is_stored_as_its_lowercase_value(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite"
    add_order(open_db(path), "O-1")
    assert raw(path, "select state from 'order'") == [("confirmed",)]


def test_naive_datetimes_and_bad_rows_are_refused(tmp_path: Path) -> None:
    engine = open_db(tmp_path / "a.sqlite")
    with pytest.raises(StatementError, match="naive datetime"):
        add_order(engine, "O-1", created_at=datetime(2026, 11, 20, 9))
    add_order(engine, "O-2")
    with Session(engine) as session, pytest.raises(IntegrityError):
        session.add(OrderLine(order_id="O-2", sku="S", name="n", quantity=0, unit_price_minor=1, currency="EUR"))
        session.commit()
    with Session(engine) as session, pytest.raises(IntegrityError):  # foreign keys are enforced
        session.add(OrderLine(order_id="nope", sku="S", name="n", quantity=1, unit_price_minor=1, currency="EUR"))
        session.commit()


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "assistant.sqlite"
    path.write_text("my shopping notes\n", encoding="utf-8")
    with pytest.raises(StorageError) as info:
        open_db(path)
    assert "is not an SQLite database" in str(info.value)
    assert "move the file away" in str(info.value)
    assert path.read_text(encoding="utf-8") == "my shopping notes\n"


def test_another_programs_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "assistant.sqlite"
    raw(path, "create table recipes (name text)")
    with pytest.raises(StorageError, match="not the assistant's"):
        open_db(path)
    assert raw(path, "select name from sqlite_master") == [("recipes",)]


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "assistant.sqlite"
    open_db(path).dispose()
    raw(path, f"update schemainfo set version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError) as info:
        open_db(path)
    message = str(info.value)
    assert f"schema v{SCHEMA_VERSION + 1}" in message and "newer version" in message and "upgrade assistant" in message
    assert raw(path, "select version from schemainfo") == [(SCHEMA_VERSION + 1,)]


def make_v0(path: Path) -> None:
    """A synthetic older database: the order table has no `lang` column yet, version says 0."""
    add_order(open_db(path), "O-OLD")
    with sqlite3.connect(path) as conn:
        conn.execute('ALTER TABLE "order" DROP COLUMN lang')
        conn.execute("update schemainfo set version = 0")


def add_lang(conn: Connection) -> None:
    conn.execute(text("ALTER TABLE \"order\" ADD COLUMN lang VARCHAR NOT NULL DEFAULT 'en'"))


def test_an_older_database_is_migrated_with_a_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if SCHEMA_VERSION != 1:
        pytest.skip("the synthetic v0 below is written against schema v1")
    path = tmp_path / "assistant.sqlite"
    make_v0(path)
    monkeypatch.setitem(db.MIGRATIONS, 0, add_lang)
    open_db(path)
    assert raw(path, "select version from schemainfo") == [(1,)]
    assert raw(path, "select id, lang from 'order'") == [("O-OLD", "en")]
    backup = tmp_path / "assistant.sqlite.v0.bak"
    assert raw(backup, "select version from schemainfo") == [(0,)]


def test_a_failing_migration_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "assistant.sqlite"
    make_v0(path)

    def half_done(conn: Connection) -> None:
        add_lang(conn)
        conn.execute(text("UPDATE no_such_table SET x = 1"))

    monkeypatch.setitem(db.MIGRATIONS, 0, half_done)
    with pytest.raises(StorageError) as info:
        open_db(path)
    assert "from schema v0 to v1 failed" in str(info.value) and "left unchanged" in str(info.value)
    assert raw(path, "select version from schemainfo") == [(0,)]
    columns = [row[1] for row in raw(path, "pragma table_info('order')")]
    assert "lang" not in columns  # the ALTER TABLE was rolled back with the rest


def test_an_older_database_without_a_migration_step_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "assistant.sqlite"
    make_v0(path)
    with pytest.raises(StorageError, match="cannot upgrade"):
        open_db(path)
