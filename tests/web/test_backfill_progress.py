"""The background backfill's progress on the overview, /healthz and /metrics (read from
``backfill_cursors``, as ``govbot serve``'s backfill job writes them)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from sqlalchemy import Engine
from web_support import SETTINGS

from govbot.db.models import BackfillCursor
from govbot.db.session import session_scope
from govbot.policy import Policy
from govbot.web import create_app

NOW = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)


def _cursor(project: str, planned: int, done: int, **extra: object) -> BackfillCursor:
    return BackfillCursor(
        project=project,
        branch="master",
        head="a" * 40,
        planned=planned,
        done=done,
        started_at=NOW,
        updated_at=NOW,
        **extra,
    )


def test_progress_is_shown_until_every_branch_is_done(db_engine: Engine, policy: Policy) -> None:
    settings = dataclasses.replace(SETTINGS, git_mirror_dir="/var/cache/govbot/git")
    app = create_app(settings, db_engine, policy=policy, now=lambda: NOW)
    client = app.test_client()
    assert "History backfill" not in client.get("/").get_data(as_text=True)
    with session_scope(db_engine) as s:
        s.add(_cursor("openstack/compute-api", 50, 12))
        s.add(_cursor("openstack/block-storage-api", 7, 7, finished_at=NOW))
    html = client.get("/").get_data(as_text=True)
    assert "History backfill" in html
    assert re.search(r"openstack/compute-api</span> master: 12 of 50 commits", html)
    assert re.search(r"openstack/block-storage-api</span> master: done, 7 commits", html)
    # The empty dashboard says the heads are read at start-up (a mirror is set).
    assert "records the head of every watched branch" in html

    health = client.get("/healthz").get_json()
    assert health["index"]["backfill"] == {
        "running": False,
        "branches": 2,
        "finished": 1,
        "planned": 57,
        "done": 19,
    }
    assert "doctor" not in health  # only `govbot serve` runs the start-up checks

    metrics = client.get("/metrics").get_data(as_text=True)
    labels = 'branch="master",project="openstack/compute-api"'
    assert f"govbot_backfill_planned_commits{{{labels}}} 50.0" in metrics
    assert f"govbot_backfill_done_commits{{{labels}}} 12.0" in metrics
    assert f"govbot_backfill_finished{{{labels}}} 0.0" in metrics

    with session_scope(db_engine) as s:
        row = s.get(BackfillCursor, ("openstack/compute-api", "master"))
        assert row is not None
        row.done, row.finished_at = 50, NOW
    assert "History backfill" not in client.get("/").get_data(as_text=True)


def test_a_failing_branch_stays_visible(db_engine: Engine, policy: Policy) -> None:
    app = create_app(SETTINGS, db_engine, policy=policy, now=lambda: NOW)
    with session_scope(db_engine) as s:
        s.add(_cursor("openstack/compute-api", 50, 3, error="cannot fetch: gone"))
    html = app.test_client().get("/").get_data(as_text=True)
    assert "failed</span> cannot fetch: gone" in html
    assert "No git mirror is configured" in html
