"""Engines and sessions for SQLite (the default) and PostgreSQL (production)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import URL, ColumnElement, Engine, create_engine, event, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session

from govbot.errors import ConfigError

DEFAULT_URL = "sqlite:///govbot.db"
# How long a SQLite writer waits for another one before "database is locked".
SQLITE_BUSY_TIMEOUT_S = 30.0
# A PostgreSQL server that does not answer fails the call instead of hanging it.
PG_CONNECT_TIMEOUT_S = 10


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL; a bare ``postgresql://`` means the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL = DEFAULT_URL, **kwargs: Any) -> Engine:
    """An engine set up for govbot's use of each database.

    SQLite: WAL (readers don't block the writer), foreign keys enforced, a busy timeout
    so concurrent writers (several processes) wait for each other instead of failing.
    PostgreSQL: connections checked before use, so a restarted server costs no errors,
    and a connect timeout.
    """
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT_S, **kwargs.pop("connect_args", {})}
        engine = create_engine(parsed, connect_args=connect_args, **kwargs)
        in_memory = parsed.database in (None, "", ":memory:")
        event.listen(engine, "connect", _sqlite_pragmas(wal=not in_memory))
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    connect_args = {"connect_timeout": PG_CONNECT_TIMEOUT_S, **kwargs.pop("connect_args", {})}
    return create_engine(parsed, connect_args=connect_args, **kwargs)


def _sqlite_pragmas(*, wal: bool) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            if wal:
                _enable_wal(cursor)
                cursor.execute("PRAGMA synchronous=NORMAL")  # durable enough with WAL
        finally:
            cursor.close()

    return on_connect


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL (a lasting property of the file, so normally done once).

    The switch needs the database to itself and SQLite does not wait for that with the
    busy timeout, so processes opening a new file together retry until one of them
    has made the switch.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            # Returns the mode now in force; a file system without WAL support keeps
            # the old one, which is not an error.
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit when the block ends, roll back if it raises.

    Objects stay readable after the commit (``expire_on_commit=False``): a worker claims
    items in one short transaction and uses them while it works, outside it.
    """
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def insert_ignore(
    session: Session,
    model: type[DeclarativeBase],
    values: Mapping[str, Any],
    *,
    conflict: Iterable[str],
    where: ColumnElement[bool] | None = None,
) -> bool:
    """INSERT a row unless it collides on ``conflict`` (a unique key); True if inserted.

    Atomic on both databases (``INSERT ... ON CONFLICT DO NOTHING``), so two processes
    racing to record the same thing both succeed and exactly one row results. ``where``
    names the predicate of a partial unique index.
    """
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:
        # make_engine accepts any SQLAlchemy URL; govbot's atomic upserts need one of these.
        raise ConfigError(
            f"database {dialect!r} is not supported: use SQLite or PostgreSQL (GOVBOT_DATABASE_URL)"
        )
    table = model.__table__
    stmt = (
        insert(table)
        .on_conflict_do_nothing(index_elements=list(conflict), index_where=where)
        .returning(*table.primary_key.columns)
    )
    # The values as the execution's parameters, not in the statement: one statement,
    # compiled once per set of columns, for every row a backfill inserts this way.
    return session.execute(stmt, dict(values)).first() is not None
