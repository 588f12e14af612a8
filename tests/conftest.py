"""Shared fixtures: the repository's paths, a fixed day, the default policy, spec files."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from govbot.policy import Policy, load_policy

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep govbot's validation cache out of the user's ~/.cache during tests."""
    mp = pytest.MonkeyPatch()
    mp.setenv("GOVBOT_CACHE_DIR", str(tmp_path_factory.mktemp("govbot-cache")))
    yield
    mp.undo()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The govbot repository (for policies/, api-specs/ and tests/data/)."""
    return REPO


@pytest.fixture
def today() -> dt.date:
    """A fixed day, so that sunsets and waiver expiry do not depend on the clock."""
    return dt.date(2025, 6, 1)


@pytest.fixture(scope="session")
def default_policy() -> Policy:
    """The repository's default policy (policies/)."""
    return load_policy(REPO / "policies")


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write dedented text to ``tmp_path / name`` (parents created) and return the path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives headless Chromium (/usr/bin/chromium) with Playwright"
    )
