"""Fixtures: databases of each kind (SQLite, and PostgreSQL when reachable), a small
sandbox Gerrit with a technical committee, and a GerritClient on it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from escalation_support import build_world
from sqlalchemy import Engine, make_url

from govbot.db import make_engine, upgrade
from govbot.gerrit.client import GerritClient
from govbot.sandbox import Sandbox
from tests.system_support import postgres_url


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A fresh PostgreSQL schema (dropped afterwards), as a URL whose search_path uses it."""
    base = postgres_url()
    schema = f"govbot_esc_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'govbot.db'}"
        return
    yield request.getfixturevalue("pg_schema_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head."""
    upgrade(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'govbot.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def world() -> Iterator[Sandbox]:
    """A sandbox frozen at ``NOW`` with a TC (ana, ben, chen), an owner and a reviewer."""
    sandbox = build_world()
    try:
        yield sandbox
    finally:
        sandbox.close()


@pytest.fixture
def client(world: Sandbox) -> Iterator[GerritClient]:
    with GerritClient(world.url, "govbot", "govbot-demo", retries=0) as gerrit:
        yield gerrit
