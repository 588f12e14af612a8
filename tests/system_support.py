"""Tests that need a part of the machine (a Debian package): skipped without it, failed on CI.

Every such skip says ``(Debian package NAME)``, so that the end of the run can name the
skipped tests and the one command that installs what they need (``tests/conftest.py``).
"""

from __future__ import annotations

import functools
import os

import pytest
from sqlalchemy import make_url

from govbot.db import make_engine

INSTALL = "sudo make system-deps"


def require(present: object, what: str, package: str) -> None:
    """Skip the test unless ``present``: ``what`` is missing (failed on CI, where
    ``make test`` runs as root and installs ``package``)."""
    if present:
        return
    message = f"{what} is missing (Debian package {package})"
    if os.environ.get("CI"):
        pytest.fail(f"{message}; on CI `make test` runs as root and installs it")
    pytest.skip(message)


POSTGRES_URL = os.environ.get(
    "GOVBOT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@functools.cache
def _postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can (asked once per run)."""
    engine = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return None
    except Exception as exc:  # any failure to connect means "not here"
        cause = getattr(exc, "orig", None) or exc  # the driver's words, not SQLAlchemy's
        return f"{type(cause).__name__}: {cause}".splitlines()[0]
    finally:
        engine.dispose()


def postgres_url() -> str:
    """``GOVBOT_TEST_POSTGRES_URL`` when a server answers there; else the test is skipped
    (failed on CI). ``make test`` points it at a server of its own when none answers
    (scripts/with_postgres.py)."""
    problem = _postgres_unreachable()
    where = make_url(POSTGRES_URL).render_as_string(hide_password=True)
    require(problem is None, f"a PostgreSQL server answering at {where} ({problem})", "postgresql")
    return POSTGRES_URL
