"""Fixtures of the dashboard tests: the app on a seeded database of each kind.

``db_url`` / ``db_engine`` are the database fixtures of ``tests/db`` (SQLite and
PostgreSQL), so every page and JSON test runs on both.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from web_support import Seeded, make_app, seed_world

from govbot.policy import Policy, load_policy
from tests.conftest import REPO
from tests.db.conftest import db_engine, db_url

__all__ = ["db_engine", "db_url"]


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(REPO / "policies")


@pytest.fixture
def seeded(db_engine: Engine, policy: Policy) -> Seeded:
    return seed_world(db_engine, policy)


@pytest.fixture
def app(db_engine: Engine, policy: Policy, seeded: Seeded) -> Flask:
    return make_app(db_engine, policy)


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client
