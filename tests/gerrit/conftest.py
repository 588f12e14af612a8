"""Fixtures for the Gerrit client and sources: a sandbox Gerrit over real HTTP, a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gerrit_support import small_world

from govbot.gerrit.client import GerritClient
from govbot.sandbox import Sandbox
from govbot.sandbox.seed import BOT_PASSWORD, BOT_USERNAME


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A developer's ~/.netrc or GOVBOT_GERRIT_* never reaches these tests."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("NETRC", raising=False)
    for name in ("URL", "USERNAME", "PASSWORD", "PASSWORD_FILE"):
        monkeypatch.delenv(f"GOVBOT_GERRIT_{name}", raising=False)


@pytest.fixture
def gerrit() -> Iterator[Sandbox]:
    """The small world of ``gerrit_support`` over real HTTP, frozen at ``NOW``."""
    with small_world() as sandbox:
        yield sandbox


@pytest.fixture
def client(gerrit: Sandbox) -> Iterator[GerritClient]:
    """The bot's client: short timeout, tiny back-off, so fault tests stay fast."""
    with GerritClient(
        gerrit.url, BOT_USERNAME, BOT_PASSWORD, timeout=2.0, retries=3, backoff=0.001
    ) as gerrit_client:
        yield gerrit_client
