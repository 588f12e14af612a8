"""Fixtures: a small sandbox Gerrit per test, the demo seed per module, pygerrit2 clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from gerrit_support import NOW, client, small_world
from pygerrit2 import GerritRestAPI

from govbot.sandbox import Clock, Sandbox, running_sandbox


@pytest.fixture
def gerrit() -> Iterator[Sandbox]:
    """The small world of ``gerrit_support`` over real HTTP, frozen at ``NOW``."""
    with small_world() as sandbox:
        yield sandbox


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
