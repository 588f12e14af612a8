"""Fixtures: a sandbox Gerrit with a real OpenStack spec, the client, and both databases.

``db_url`` / ``db_engine`` are the database fixtures of ``tests/db`` (SQLite and
PostgreSQL), so every service test runs on both.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from review_support import BOT, NOW, PROJECT, SPEC, base_spec

from govbot.gerrit.client import GerritClient
from govbot.sandbox import Clock, Sandbox, lifecycle, people, running_sandbox
from govbot.sandbox.seed import DEMO_LABELS
from tests.db.conftest import db_engine, db_url

__all__ = ["db_engine", "db_url"]


@pytest.fixture
def now():
    """The fixed time of the sandbox's clock and of the database records."""
    return NOW


def _sandbox(**options: object) -> Iterator[Sandbox]:
    with running_sandbox(seed="empty", clock=Clock(NOW), **options) as sandbox:
        people.add_account(sandbox, "alice", "Alice Ferreira", password="alice-pw")
        lifecycle.add_project(
            sandbox,
            PROJECT,
            {SPEC: base_spec(), "README.rst": "Placement API\n"},
            labels=DEMO_LABELS,
            when=NOW,
        )
        lifecycle.add_project(sandbox, "openstack/no-label-api", {SPEC: base_spec()}, when=NOW)
        yield sandbox


@pytest.fixture
def gerrit() -> Iterator[Sandbox]:
    """The sandbox (empty seed + alice + two projects holding the placement spec).

    It rejects votes on outdated patch sets with a 409: a tripwire, as real Gerrit
    would accept them silently.
    """
    yield from _sandbox(reject_outdated_votes=True)


@pytest.fixture
def client(gerrit: Sandbox) -> Iterator[GerritClient]:
    """The real client, logged in as the bot; quick retries."""
    with GerritClient(gerrit.url, *BOT, timeout=10, retries=2, backoff=0.01) as c:
        yield c
