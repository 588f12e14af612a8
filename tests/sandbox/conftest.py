"""Fixtures: a small sandbox Gerrit per test, the demo seed per module, pygerrit2 clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pygerrit2 import GerritRestAPI
from sandbox_support import NOW, PROJECT, SPEC, SPEC_TEXT, client

from govbot.sandbox import Clock, Sandbox, running_sandbox
from govbot.sandbox.seed import DEMO_LABELS, seed_empty


@pytest.fixture
def gerrit() -> Iterator[Sandbox]:
    """A started sandbox frozen at ``NOW``: admin, the bot, zuul, alice (owner), dave (core
    of ``demo/api``), erin, ana, ben; a ``technical-committee`` group; one project."""
    sandbox = Sandbox(clock=Clock(NOW)).start()
    try:
        seed_empty(sandbox)
        for name in ("alice", "dave", "erin", "ana", "ben"):
            sandbox.add_account(name, name.title(), password=f"{name}-pw")
        sandbox.add_group("technical-committee", ["ana", "ben", "dave"])
        sandbox.add_project(
            PROJECT, {SPEC: SPEC_TEXT, "README.rst": "Pets\n"}, labels=DEMO_LABELS, cores=["dave"]
        )
        yield sandbox
    finally:
        sandbox.close()


@pytest.fixture(scope="module")
def demo() -> Iterator[Sandbox]:
    """The demo seed frozen at ``NOW``, shared by one module's read-only tests."""
    with running_sandbox(seed="demo", clock=Clock(NOW)) as sandbox:
        yield sandbox


@pytest.fixture
def rest(gerrit: Sandbox) -> GerritRestAPI:
    """pygerrit2 logged in as the bot."""
    return client(gerrit)


@pytest.fixture
def as_user(gerrit: Sandbox) -> Callable[[str], GerritRestAPI]:
    """pygerrit2 logged in as one of the fixture's humans."""
    return lambda name: client(gerrit, name, f"{name}-pw")
