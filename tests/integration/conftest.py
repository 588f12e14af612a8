"""Fixtures: the demo sandbox over real HTTP, the real client, settings, both databases.

``db_url`` / ``db_engine`` come from ``tests/db`` (SQLite, and PostgreSQL when it is
reachable), so the intake, worker and fault tests run on both databases.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from integration_support import BOT, DEMO_PROJECTS, NOW, REPO, SECRET, ServedDemo, serving_demo

from govbot.gerrit.client import GerritClient
from govbot.policy import Policy, load_policy
from govbot.sandbox import Clock, Sandbox, running_sandbox
from govbot.settings import Settings
from tests.db.conftest import db_engine, db_url

__all__ = ["db_engine", "db_url"]


@pytest.fixture
def now():
    """The sandbox's (frozen, movable) clock starts here; the database records use it too."""
    return NOW


@pytest.fixture
def gerrit() -> Iterator[Sandbox]:
    """The sandbox Gerrit with the demo seed (README.md, Without a Gerrit), its clock frozen at
    ``NOW``."""
    with running_sandbox(seed="demo", clock=Clock(NOW)) as sandbox:
        yield sandbox


@pytest.fixture
def client(gerrit: Sandbox) -> Iterator[GerritClient]:
    """The real client logged in as the bot; one quick retry, so outages fail fast."""
    with GerritClient(gerrit.url, *BOT, timeout=10, retries=1, backoff=0.01) as c:
        yield c


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The repository's default policy (reviews vote on API-Review, skip WIP)."""
    return load_policy(REPO / "policies")


@pytest.fixture
def settings(gerrit: Sandbox, db_url: str, tmp_path) -> Settings:
    """Settings of a govbot watching the three demo projects of ``gerrit``, with a git
    mirror of them (blueprint references resolve in openstack/compute-specs)."""
    return Settings(
        git_mirror_dir=str(tmp_path / "mirror"),
        git_url=gerrit.git_url_template,
        gerrit_url=gerrit.url,
        gerrit_username=BOT[0],
        gerrit_password=BOT[1],
        gerrit_projects=DEMO_PROJECTS,
        database_url=db_url,
        webhook_secret=SECRET,
        web_url="http://govbot.test",
        gerrit_timeout=10,
    )


@pytest.fixture(scope="session")
def served_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedDemo]:
    """``govbot demo`` serving its dashboard (one process for the tests that read it)."""
    with serving_demo(tmp_path_factory.mktemp("served-demo")) as demo:
        yield demo
