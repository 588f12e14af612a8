"""Fixtures of the dashboard tests: the app on a seeded database of each kind, and the
demo's database served over real HTTP.

``db_url`` / ``db_engine`` are the database fixtures of ``tests/db`` (SQLite and
PostgreSQL), so every page and JSON test runs on both. ``demo_site`` (built once per
session: about a minute) is the sandbox's demo seed indexed, reviewed, escalated and
digested for real (:func:`web_support.build_demo`), served by the threaded server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from web_support import DEMO_ADMIN_PASSWORD, DemoSite, Seeded, build_demo, make_app, seed_world

from govbot.db import make_engine, upgrade
from govbot.policy import Policy, load_policy
from govbot.settings import Settings
from govbot.web import WebServer, create_app
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


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory, policy: Policy) -> Iterator[DemoSite]:
    """The demo database (SQLite) behind a running dashboard."""
    root = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{root / 'demo.db'}"
    upgrade(url)
    engine = make_engine(url)
    with WebServer(None, "127.0.0.1", 0) as server:
        settings = Settings(web_port=server.port, web_url=server.url)
        app = create_app(settings, engine, policy=policy, admin_password=DEMO_ADMIN_PASSWORD)
        server.mount(app)
        numbers = build_demo(engine, policy, str(root / "mirror"), server.url)
        yield DemoSite(server.url, numbers)
    engine.dispose()
