"""Database fixtures: every test that uses them runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``GOVBOT_TEST_POSTGRES_URL`` (default: the CI machine's server on
127.0.0.1:5432). Each test gets its own schema there, dropped afterwards, so tests never
see each other's rows. When the server is unreachable the PostgreSQL half is skipped,
except on CI (``CI`` set), where that is a failure.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session

from govbot.db import make_engine, upgrade

POSTGRES_URL = os.environ.get(
    "GOVBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@functools.cache
def _postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    engine = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return None
    except Exception as exc:  # any failure to connect means "not here"
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        engine.dispose()


def _postgres_schema_url(schema: str) -> str:
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of each kind (a temp file; a fresh schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'govbot.db'}"
        return
    problem = _postgres_unreachable()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is required on CI: {problem}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}: {problem}")
    schema = f"govbot_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        yield _postgres_schema_url(schema)
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        admin.dispose()


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head."""
    upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db_session(db_engine: Engine) -> Iterator[Session]:
    """A session on the migrated database; whatever the test left uncommitted is rolled back."""
    with Session(db_engine, expire_on_commit=False) as session:
        yield session
        session.rollback()


@pytest.fixture
def now() -> dt.datetime:
    """A fixed, aware UTC instant: queue tests move it instead of sleeping."""
    return dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
