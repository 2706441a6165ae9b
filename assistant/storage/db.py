"""Open the household's SQLite file: WAL, synchronous=FULL, foreign keys, schema version and migrations.

Every SQLAlchemy transaction is a real SQLite transaction (SQLAlchemy issues BEGIN itself): the sqlite3
module's legacy mode would run reads and DDL outside any transaction, which breaks migrations and
read-then-write checks. Readers use a deferred BEGIN (WAL: they never wait); a `write_session` begins
IMMEDIATE, taking the write lock before its first read, so a read-then-write cannot lose a race.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlmodel import Session, SQLModel

from ..errors import StorageError
from . import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from .models import SCHEMA_VERSION

log = logging.getLogger(__name__)

#: Upgrade steps: MIGRATIONS[n] turns a version-n database into version n+1, inside one transaction.
#: Tables that are new in a version need no step: they are created after the steps run.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}
#: How long a connection waits for another one's write lock before giving up.
BUSY_TIMEOUT_S = 30.0
#: Execution option saying how a transaction begins ("IMMEDIATE": take the write lock at once).
BEGIN_MODE = "sqlite_begin"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_MOVE_HINT = "move the file away or set ASSISTANT_HOME to another folder to start a new household"


def open_db(path: Path) -> Engine:
    """The household database at `path`, created or migrated to `SCHEMA_VERSION`."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StorageError(f"cannot create the household folder {path.parent}: {err.strerror}") from err
    _check_sqlite_file(path)
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": BUSY_TIMEOUT_S})
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    try:
        _prepare(engine, path)
    except DatabaseError as err:
        engine.dispose()
        raise StorageError(f"{path}: cannot open the household database ({err.orig})", hint=_MOVE_HINT) from err
    except StorageError:
        engine.dispose()
        raise
    return engine


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" hook below issues BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _on_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get(BEGIN_MODE, "")
    connection.exec_driver_sql(f"BEGIN {mode}".strip())


def write_session(engine: Engine) -> Session:
    """A session holding the write lock from its first statement (use it for anything that writes).

    Never open a second write session while one is open in the same thread: it would wait for the lock.
    """
    session = Session(engine)
    session.connection(execution_options={BEGIN_MODE: "IMMEDIATE"})
    return session


def _writer(engine: Engine) -> Engine:
    return engine.execution_options(**{BEGIN_MODE: "IMMEDIATE"})


def _check_sqlite_file(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    try:
        with path.open("rb") as f:
            head = f.read(len(_SQLITE_MAGIC))
    except OSError as err:
        raise StorageError(f"cannot read the household database {path}: {err.strerror}") from err
    if head != _SQLITE_MAGIC:
        raise StorageError(f"{path} is not an SQLite database", hint=_MOVE_HINT)


def _prepare(engine: Engine, path: Path) -> None:
    with _writer(engine).begin() as conn:
        tables = set(inspect(conn).get_table_names())
        version = _stored_version(conn, tables)
        if version is None and tables:
            raise StorageError(
                f"{path} is an SQLite database but not the assistant's (it has tables {', '.join(sorted(tables)[:5])})",
                hint=_MOVE_HINT,
            )
        if version is not None and version > SCHEMA_VERSION:
            raise StorageError(
                f"{path} was written by a newer version of assistant (schema v{version}; "
                f"this one reads up to v{SCHEMA_VERSION})",
                hint="upgrade assistant, or " + _MOVE_HINT,
            )
    if version is not None and version < SCHEMA_VERSION:
        _migrate(engine, path, version)
    with _writer(engine).begin() as conn:
        SQLModel.metadata.create_all(conn)
        if version is None:
            conn.execute(text("INSERT INTO schemainfo (id, version) VALUES (1, :v)"), {"v": SCHEMA_VERSION})
            log.info("created household database %s (schema v%d)", path, SCHEMA_VERSION)


def _stored_version(conn: Connection, tables: set[str]) -> int | None:
    if "schemainfo" not in tables:
        return None
    return conn.execute(text("SELECT version FROM schemainfo WHERE id = 1")).scalar_one_or_none()


def _migrate(engine: Engine, path: Path, version: int) -> None:
    """Run every step from `version` to `SCHEMA_VERSION` in one transaction, after a backup copy."""
    missing = [v for v in range(version, SCHEMA_VERSION) if v not in MIGRATIONS]
    if missing:
        raise StorageError(
            f"{path} has schema v{version}, which this version of assistant cannot upgrade "
            f"(no step from v{missing[0]})",
            hint=_MOVE_HINT,
        )
    backup = path.with_name(f"{path.name}.v{version}.bak")
    _backup(path, backup)
    log.warning("migrating %s from schema v%d to v%d (backup: %s)", path, version, SCHEMA_VERSION, backup)
    step = version
    try:
        with _writer(engine).begin() as conn:
            for step in range(version, SCHEMA_VERSION):
                MIGRATIONS[step](conn)
            SQLModel.metadata.create_all(conn)
            conn.execute(text("UPDATE schemainfo SET version = :v WHERE id = 1"), {"v": SCHEMA_VERSION})
    except (DatabaseError, OperationalError, ValueError) as err:
        raise StorageError(
            f"upgrading {path} from schema v{step} to v{step + 1} failed ({err}); the database was left unchanged",
            hint=f"a copy from before the upgrade is at {backup}",
        ) from err


def _backup(path: Path, backup: Path) -> None:
    try:
        with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(backup)) as target:
            source.backup(target)
    except sqlite3.Error as err:
        raise StorageError(f"cannot back up {path} to {backup} before upgrading it: {err}") from err
