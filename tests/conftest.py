"""Shared fixtures: the repository's paths, a fixed day, the default policy, spec files."""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from govbot.policy import Policy, load_policy
from tests.system_support import INSTALL

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


_PACKAGE = re.compile(r"\(Debian package ([\w.+-]+)\)")


def pytest_unconfigure(config: pytest.Config) -> None:
    """After pytest's own summary, the last lines: the tests skipped for want of a
    system package, and the one command that installs them all."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    by_package: dict[str, list[str]] = {}
    for report in reporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        match = _PACKAGE.search(str(reason))
        if match:
            by_package.setdefault(match.group(1), []).append(report.nodeid)
    if not by_package:
        return
    total = sum(len(ids) for ids in by_package.values())
    reporter.write_line("")
    reporter.write_line(f"{total} tests were skipped: this machine lacks what they need.")
    for package, ids in sorted(by_package.items()):
        files = sorted({nodeid.split("::")[0] for nodeid in ids})
        reporter.write_line(f"  {len(ids)} need the Debian package {package}: {', '.join(files)}")
    reporter.write_line(f"Install it all, then run make test again: {INSTALL}")
