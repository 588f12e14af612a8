"""One contract suite, two servers: what govbot expects of Gerrit, asked of the sandbox and
of a real Gerrit 3.10 (``real_gerrit.py``), so the sandbox cannot drift from the real thing.

The real server starts once per session (tens of seconds; minutes on a loaded machine) and
is shared by every module here; tests that change it work on changes of their own (a
topic of their own when they query). Without Java the real-server cases skip locally
with the reason, and fail on CI (``CI=true`` or ``GOVBOT_REQUIRE_REALDATA=1``), like the
other real-data tests.

The real world: the bot (HTTP password and SSH key, in "Service Users", which may stream
events), alice (who uploads), erin, the ``technical-committee`` (ana, ben, dave) and
``api-core`` (dave) groups, visible to all, and ``hidden-core`` (ana), visible only to its
members; projects ``demo/api`` (the small world's two specs and README, with an
``API-Review`` label the bot may vote on) and ``demo/api-specs`` (design specs).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from contract_support import (
    Inbox,
    RealWorld,
    Server,
    populate,
    real_server,
    sandbox_server,
)
from gerrit_support import small_world
from real_gerrit import free_port, start


def _required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("GOVBOT_REQUIRE_REALDATA") == "1"


@pytest.fixture(scope="session")
def real_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealWorld]:
    java = shutil.which("java")
    if java is None:
        message = "real Gerrit needs a Java 17 runtime (java not on PATH)"
        if _required():
            pytest.fail(message)
        pytest.skip(message)
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    # One sending thread: emails leave in the order Gerrit queued them.
    mail = {
        "sendemail.enable": "true",
        "sendemail.smtpServer": "127.0.0.1",
        "sendemail.smtpServerPort": str(smtp.port),
        "sendemail.threadPoolSize": "1",
    }
    try:
        gerrit = start(tmp_path_factory.mktemp("gerrit-site"), java, mail)
        try:
            print(f"\nreal Gerrit {gerrit.url} ready in {gerrit.started_in:.1f}s")
            yield populate(gerrit, tmp_path_factory.mktemp("gerrit-world"), inbox)
        finally:
            gerrit.stop()
    finally:
        smtp.stop()


@pytest.fixture(scope="module", params=["sandbox", "real"])
def gerrit_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """The sandbox and the real Gerrit, in turn."""
    if request.param == "sandbox":
        with small_world() as sandbox:
            yield sandbox_server(sandbox)
        return
    yield real_server(request.getfixturevalue("real_world"))
