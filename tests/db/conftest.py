"""Database fixtures: every test that uses them runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``GOVBOT_TEST_POSTGRES_URL`` (default 127.0.0.1:5432; ``make test``
starts a throw-away server when none answers, scripts/with_postgres.py). Each test gets
its own schema there, dropped afterwards, so tests never see each other's rows. When no
server answers the PostgreSQL half is skipped, except on CI (``CI`` set), where that is
a failure (tests/system_support.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, make_url
from sqlalchemy.orm import Session

from govbot.db import make_engine, upgrade
from tests.system_support import postgres_url


def _postgres_schema_url(schema: str) -> str:
    url = make_url(postgres_url()).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of each kind (a temp file; a fresh schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'govbot.db'}"
        return
    base = postgres_url()
    schema = f"govbot_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
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
