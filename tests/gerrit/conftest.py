"""Fixtures for the Gerrit client and sources: a sandbox Gerrit over real HTTP, a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gerrit_support import NOW, PROJECT, SPEC, SPEC_TEXT

from govbot.gerrit.client import GerritClient
from govbot.sandbox import Clock, Sandbox
from govbot.sandbox.seed import BOT_PASSWORD, BOT_USERNAME, DEMO_LABELS, seed_empty


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
    """A started sandbox frozen at ``NOW``: admin, the bot, zuul, alice; project ``demo/api``."""
    sandbox = Sandbox(clock=Clock(NOW)).start()
    try:
        seed_empty(sandbox)
        sandbox.add_account("alice", "Alice", password="alice-pw")
        sandbox.add_group("technical-committee", ["alice"])
        sandbox.add_project(
            PROJECT,
            {SPEC: SPEC_TEXT, "api-specs/old.yaml": SPEC_TEXT, "README.rst": "Pets\n"},
            labels=DEMO_LABELS,
        )
        yield sandbox
    finally:
        sandbox.close()


@pytest.fixture
def client(gerrit: Sandbox) -> Iterator[GerritClient]:
    """The bot's client: short timeout, tiny back-off, so fault tests stay fast."""
    with GerritClient(
        gerrit.url, BOT_USERNAME, BOT_PASSWORD, timeout=2.0, retries=3, backoff=0.001
    ) as gerrit_client:
        yield gerrit_client
