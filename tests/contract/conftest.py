"""One contract suite, two servers: what govbot expects of Gerrit, asked of the sandbox and
of a real Gerrit 3.10 (``real_gerrit.py``), so the sandbox cannot drift from the real thing.

The real server starts once per session (tens of seconds; minutes on a loaded machine).
Without Java the real-server cases skip locally with the reason, and fail on CI
(``CI=true`` or ``GOVBOT_REQUIRE_REALDATA=1``), like the other real-data tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from gerrit_support import PROJECT, TC, small_world
from real_gerrit import RealGerrit, start

from govbot.gerrit.client import GerritClient
from govbot.sandbox.seed import BOT_PASSWORD, BOT_USERNAME


def _required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("GOVBOT_REQUIRE_REALDATA") == "1"


@dataclass(frozen=True)
class Server:
    """What a contract test needs of either server."""

    kind: str  # "sandbox" or "real"
    url: str
    bot: tuple[str, str]
    project: str
    tc_group: str
    tc: tuple[str, ...]

    def client(self) -> GerritClient:
        return GerritClient(self.url, *self.bot, timeout=60, retries=1, backoff=0.01)


@pytest.fixture(scope="session")
def real_gerrit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealGerrit]:
    java = shutil.which("java")
    if java is None:
        message = "real Gerrit needs a Java 17 runtime (java not on PATH)"
        if _required():
            pytest.fail(message)
        pytest.skip(message)
    server = start(tmp_path_factory.mktemp("gerrit-site"), java)
    try:
        print(f"\nreal Gerrit {server.url} ready in {server.started_in:.1f}s")
        server.add_account(BOT_USERNAME, BOT_PASSWORD)
        server.rest("POST", "groups/Service%20Users/members", json={"members": [BOT_USERNAME]})
        for name in TC:
            server.add_account(name, f"{name}-pw")
        server.add_group("technical-committee", list(TC))
        server.add_group("hidden-core", ["ana"], visible=False)
        server.add_project(PROJECT)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module", params=["sandbox", "real"])
def gerrit_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """The sandbox and the real Gerrit, in turn."""
    if request.param == "sandbox":
        with small_world() as sandbox:
            from govbot.sandbox import people

            people.add_group(sandbox, "hidden-core", ["ana"], visible_to_all=False)
            yield Server(
                "sandbox",
                sandbox.url,
                (BOT_USERNAME, BOT_PASSWORD),
                PROJECT,
                "technical-committee",
                TC,
            )
        return
    real: RealGerrit = request.getfixturevalue("real_gerrit")
    yield Server("real", real.url, (BOT_USERNAME, BOT_PASSWORD), PROJECT, "technical-committee", TC)
