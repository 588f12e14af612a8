"""The JSON API keeps its contract under schemathesis, a client that fuzzes it from the
same description: every check, every phase (examples, coverage, fuzzing, stateful).

A fixed seed and a bounded number of examples keep CI fast and reproducible; the soak
with a random seed and more examples is ``benchmarks/api_fuzz.py``. Any failure fails
the test. The runs' requests and time are written to
``test-artifacts/schemathesis/summary.txt``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_support import SEED, FuzzRun, run_schemathesis
from sqlalchemy import Engine
from web_support import DemoSite, Seeded, make_app

from govbot.policy import Policy
from govbot.web import WebServer
from tests.conftest import REPO

EXAMPLES = 10
ARTIFACTS = REPO / "test-artifacts" / "schemathesis"


def _record(where: str, run: FuzzRun) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (ARTIFACTS / "summary.txt").open("a", encoding="utf-8") as out:
        out.write(f"{where}: {run.summary}\n")


def _assert_clean(run: FuzzRun) -> None:
    assert run.returncode == 0, run.output[-20_000:]
    assert run.requests > 0, run.output[-5_000:]


def test_the_demo_api_under_schemathesis(demo_site: DemoSite, tmp_path: Path) -> None:
    """the demo's data (SQLite) served over real HTTP, as `govbot demo` serves it"""
    run = run_schemathesis(
        f"{demo_site.url}/api", seed=SEED, max_examples=EXAMPLES, report_dir=tmp_path
    )
    _record("demo data, SQLite", run)
    _assert_clean(run)


@pytest.fixture
def seeded_server(db_engine: Engine, policy: Policy, seeded: Seeded) -> Iterator[str]:
    with WebServer(make_app(db_engine, policy), "127.0.0.1", 0) as server:
        yield server.url


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_seeded_api_on_postgresql_under_schemathesis(
    seeded_server: str, tmp_path: Path
) -> None:
    """PostgreSQL's stricter integers (32-bit INTEGER columns) under the same client"""
    run = run_schemathesis(
        f"{seeded_server}/api", seed=SEED, max_examples=EXAMPLES, report_dir=tmp_path
    )
    _record("seeded data, PostgreSQL", run)
    _assert_clean(run)
