"""The poll against the sandbox Gerrit over HTTP, on a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from integration_support import POLLED, WIP_CHANGE, queries
from sqlalchemy import select

from govbot.db import make_engine, session_scope
from govbot.db.models import PollCursor, WorkItem, WorkState
from govbot.db.queue import claim, complete
from govbot.paths import glob_regex
from govbot.sandbox import lifecycle
from govbot.sandbox.seed import COMPUTE, COMPUTE_SPEC_PATH, COMPUTE_SPECS
from govbot.services.intake import (
    REVIEW_KIND,
    build_query,
    change_number,
    change_ref,
    file_filter,
    poll_once,
    work_key,
)


def queued_changes(engine) -> set[int]:
    with session_scope(engine) as session:
        keys = session.scalars(
            select(WorkItem.key).where(
                WorkItem.kind == REVIEW_KIND, WorkItem.state == WorkState.QUEUED
            )
        ).all()
    return {change_number(k) for k in keys}


def finish_all(engine, now) -> None:
    """What a worker would do, minus the review: every queued item claimed and done."""
    with session_scope(engine) as session:
        items = claim(session, "test-worker", now, limit=1000)
    with session_scope(engine) as session:
        for item in items:
            assert complete(session, item, now)


def test_first_poll_queues_the_open_spec_changes(gerrit, client, db_engine, settings, policy, now):
    """The first poll queues exactly the open, non-WIP changes that touch an API spec (or a
    design spec, by the policy's blueprint globs)."""
    result = poll_once(client, db_engine, settings, policy, now)
    assert result.ok, result.errors
    assert set(result.queued) == POLLED
    assert queued_changes(db_engine) == POLLED
    assert WIP_CHANGE not in result.queued
    # One query per watched project: the file filter did the selection in Gerrit.
    assert result.queries == queries(gerrit) == len(settings.gerrit_projects)


def test_quiet_poll_costs_one_query_per_project_and_queues_nothing(
    gerrit, client, db_engine, settings, policy, now
):
    """A second poll with nothing new asks Gerrit once per project/branch and queues nothing."""
    poll_once(client, db_engine, settings, policy, now)
    finish_all(db_engine, now)
    gerrit.clear_requests()
    again = poll_once(client, db_engine, settings, policy, now + dt.timedelta(minutes=1))
    assert again.ok
    assert again.queued == ()
    assert again.queries == queries(gerrit) == len(settings.gerrit_projects)
    # Every project is read incrementally from its cursor on.
    with gerrit.lock:
        sent = [r.query for r in gerrit.requests]
    assert sum("after%3A" in q for q in sent) == len(settings.gerrit_projects), sent


def test_an_item_still_queued_absorbs_the_repeat(gerrit, client, db_engine, settings, policy, now):
    """Polling twice before any worker ran leaves one item per change."""
    poll_once(client, db_engine, settings, policy, now)
    poll_once(client, db_engine, settings, policy, now)
    with session_scope(db_engine) as session:
        count = len(session.scalars(select(WorkItem.id)).all())
    assert count == len(POLLED)


def test_new_patch_set_is_queued_again(gerrit, client, db_engine, settings, policy, now):
    """A new patch set after the last poll is found by the next, alone."""
    poll_once(client, db_engine, settings, policy, now)
    finish_all(db_engine, now)
    gerrit.clock.advance(minutes=5)
    lifecycle.add_patchset(
        gerrit, 2, {COMPUTE_SPEC_PATH: "openapi: 3.0.0\ninfo: {title: x, version: '1'}\n"}
    )
    result = poll_once(client, db_engine, settings, policy, now + dt.timedelta(minutes=5))
    assert result.queued == (2,)


def test_paging_reads_every_page(gerrit, client, db_engine, settings, policy, now):
    """With a small page size the poll follows ``_more_changes`` with ``S=`` to the end."""
    new = {
        lifecycle.create_change(
            gerrit,
            COMPUTE,
            subject=f"Spec change {i}",
            files={COMPUTE_SPEC_PATH: f"openapi: 3.0.0\ninfo: {{title: t{i}, version: '1'}}\n"},
            owner="alice",
        ).number
        for i in range(7)
    }
    result = poll_once(client, db_engine, settings, policy, now, page_size=3)
    assert result.ok
    assert set(result.queued) == POLLED | new
    compute = next(w for w in result.watches if w.project == COMPUTE)
    assert compute.seen == 10  # 1, 2, 7 and the seven new ones
    assert compute.queries == 4  # pages of 3, 3, 3, 1
    assert gerrit.count_requests("GET", r"^/a/changes/$") == result.queries
    with gerrit.lock:
        starts = [r.query for r in gerrit.requests if "S=" in r.query]
    assert len(starts) == 3


def test_a_failed_page_keeps_the_cursor(gerrit, client, db_engine, settings, policy, now):
    """Gerrit failing on the second page: what was read is queued, the cursor stays put,
    and the next poll reads the rest (a crash mid-pass loses nothing)."""
    new = {
        lifecycle.create_change(
            gerrit,
            COMPUTE,
            subject=f"Spec change {i}",
            files={COMPUTE_SPEC_PATH: f"openapi: 3.0.0\ninfo: {{title: t{i}, version: '1'}}\n"},
            owner="alice",
        ).number
        for i in range(4)
    }
    gerrit.fail_next(2, 503, method="GET", path=r"^/a/changes/$")  # with the client's retry
    first = poll_once(
        client,
        db_engine,
        dataclasses.replace(settings, gerrit_projects=(COMPUTE,)),
        policy,
        now,
        page_size=3,
    )
    assert first.errors
    assert first.queued == ()  # the failure hit the first page
    with session_scope(db_engine) as session:
        assert session.scalars(select(PollCursor)).all() == []
    second = poll_once(client, db_engine, settings, policy, now, page_size=3)
    assert second.ok
    assert set(second.queued) == POLLED | new


def test_late_change_inside_the_overlap_is_not_missed(
    gerrit, client, db_engine, settings, policy, now
):
    """A change that shows up late with an ``updated`` just before the cursor (Gerrit's
    index lag) is still found: the query reaches back by the overlap."""
    first = poll_once(client, db_engine, settings, policy, now)
    cursor = max(w.cursor_after for w in first.watches if w.cursor_after)
    finish_all(db_engine, now)
    late = lifecycle.create_change(
        gerrit,
        COMPUTE,
        subject="Indexed late",
        files={COMPUTE_SPEC_PATH: "openapi: 3.0.0\ninfo: {title: late, version: '1'}\n"},
        owner="alice",
        created=cursor - dt.timedelta(seconds=10),
    )
    result = poll_once(client, db_engine, settings, policy, now)
    assert result.queued == (late.number,)


def test_wip_changes_are_polled_when_the_policy_reviews_them(
    gerrit, client, db_engine, settings, policy, now
):
    """``review.skip_wip: false`` drops ``-is:wip`` from the query."""
    reviews_wip = dataclasses.replace(
        policy, review=dataclasses.replace(policy.review, skip_wip=False)
    )
    result = poll_once(client, db_engine, settings, reviews_wip, now)
    assert set(result.queued) == POLLED | {WIP_CHANGE}


def test_only_the_watched_branch_is_polled(gerrit, client, db_engine, settings, policy, now):
    """``project:branch`` limits the poll to that branch."""
    stable = dataclasses.replace(settings, gerrit_projects=(f"{COMPUTE}:stable/2026.1",))
    result = poll_once(client, db_engine, stable, policy, now)
    assert result.ok and result.queued == ()
    with gerrit.lock:
        sent = gerrit.requests[-1].query
    assert "branch%3Astable%2F2026.1" in sent


def test_a_host_without_regex_search_is_polled_without_the_file_filter(
    gerrit, client, db_engine, settings, policy, now
):
    """Gerrit refusing the ``file:^regex`` term (400): the poll asks again without it, and
    the review itself sorts out the changes without specs."""
    gerrit.fail_next(1, 400, method="GET", path=r"^/a/changes/$", message="regex disabled")
    result = poll_once(
        client, db_engine, dataclasses.replace(settings, gerrit_projects=(COMPUTE,)), policy, now
    )
    assert result.ok
    assert set(result.queued) == {1, 2, 7}  # the WIP change 4 is still excluded
    assert result.queries == 2


def test_a_restart_loses_nothing(gerrit, client, db_url, db_engine, settings, policy, now):
    """Items and cursors live in the database: a new engine (a restarted govbot) sees them."""
    poll_once(client, db_engine, settings, policy, now)
    db_engine.dispose()
    restarted = make_engine(db_url)
    try:
        assert queued_changes(restarted) == POLLED
        gerrit.clear_requests()
        result = poll_once(client, restarted, settings, policy, now)
        assert result.queued == ()
        assert queries(gerrit) == len(settings.gerrit_projects)
        with gerrit.lock:
            assert all("after%3A" in r.query for r in gerrit.requests)
    finally:
        restarted.dispose()


@pytest.mark.parametrize(
    "path",
    [
        "api-specs/compute.yaml",
        "api-specs/v2/compute.json",
        "api-specs/a/b/c.yml",
        "api-specs/compute.yaml.orig",
        "docs/api-specs/compute.yaml",
        "api-specs.yaml",
        "api-specsXcompute.yaml",
    ],
)
def test_gerrit_regex_agrees_with_the_policy_globs(path, policy):
    """The ``file:^regex`` term selects exactly the files the policy's globs match."""
    import re

    regex = "|".join(glob_regex(g) for g in policy.spec_globs)
    assert (re.fullmatch(f"({regex})", path) is not None) == policy.is_spec(path)


def test_query_shape():
    """The query names what Gerrit's user-search.html documents, quoted where Gerrit needs it."""
    after = dt.datetime(2026, 11, 21, 11, 59, 30, 500000, tzinfo=dt.UTC)
    query = build_query(
        "openstack/compute-api", "master", after=after, files=file_filter(["api-specs/*.yaml"])
    )
    assert query == (
        "status:open -is:wip -is:private project:openstack/compute-api branch:master "
        'file:"^(api-specs/[^/]*[.]yaml)" after:"2026-11-21 11:59:30"'
    )
    assert work_key(12, "nova/api") == "change:nova/api~12"
    assert (
        change_number("change:nova/api~12") == 12
        and change_ref("change:nova/api~12") == "nova/api~12"
    )
    assert change_number("change:12") == change_ref("change:12") == 12  # the older key form
    with pytest.raises(ValueError):
        change_ref("change:~12")


def test_the_watch_settings(tmp_path):
    """GOVBOT_GERRIT_PROJECTS, the intervals and the file-filter switch, as the poll reads
    them; secrets stay out of the settings' repr."""
    from govbot.errors import ConfigError
    from govbot.settings import Settings

    env = {
        "GOVBOT_GERRIT_PROJECTS": " openstack/nova , openstack/cinder:stable/2026.1,",
        "GOVBOT_POLL_INTERVAL": "2m",
        "GOVBOT_WORKER_INTERVAL": "1.5",
        "GOVBOT_GERRIT_TIMEOUT": "10s",
        "GOVBOT_GERRIT_FILE_FILTER": "false",
        "GOVBOT_WEBHOOK_SECRET": "s3cr3t-hook",
        "GOVBOT_GERRIT_PASSWORD": "s3cr3t-pw",
    }
    s = Settings.from_env(environ=env, cwd=tmp_path)
    assert s.watched == (("openstack/nova", None), ("openstack/cinder", "stable/2026.1"))
    assert (s.poll_interval, s.worker_interval, s.gerrit_timeout) == (120.0, 1.5, 10.0)
    assert s.gerrit_file_filter is False
    assert "s3cr3t" not in repr(s)
    for name, bad in (
        ("GOVBOT_GERRIT_PROJECTS", "nova:"),
        ("GOVBOT_POLL_INTERVAL", "soon"),
        ("GOVBOT_POLL_INTERVAL", "0"),
        ("GOVBOT_GERRIT_FILE_FILTER", "maybe"),
    ):
        with pytest.raises(ConfigError, match=name.removeprefix("GOVBOT_").lower()):
            Settings.from_env(environ={name: bad}, cwd=tmp_path)
    toml = tmp_path / "govbot.toml"
    toml.write_text('[gerrit]\nprojects = ["a/b", "c/d:main"]\n[poll]\ninterval = 30\n')
    s = Settings.from_env(toml, environ={}, cwd=tmp_path)
    assert s.watched == (("a/b", None), ("c/d", "main")) and s.poll_interval == 30.0


def test_the_poll_queues_what_the_spec_review_needs(
    gerrit, client, db_engine, settings, policy, now
):
    """Besides API specs: design specs, files under the policy's API paths, and changes
    flagged APIImpact are queued; a change touching none of them is not."""
    gerrit.clock.advance(minutes=1)
    api_path = lifecycle.create_change(
        gerrit,
        COMPUTE,
        subject="Filter flavors",
        files={"nova/api/openstack/compute/flavors.py": "x = 1\n"},
        owner="alice",
    )
    flagged = lifecycle.create_change(
        gerrit,
        COMPUTE,
        subject="Docs",
        files={"README.rst": "x\n"},
        owner="alice",
        body="APIImpact",
    )
    design = lifecycle.create_change(
        gerrit,
        COMPUTE_SPECS,
        subject="Propose a spec",
        files={"specs/2027.1/approved/new-thing.rst": "New thing\n=========\n"},
        owner="alice",
    )
    neither = lifecycle.create_change(
        gerrit, COMPUTE, subject="Docs", files={"README.rst": "y\n"}, owner="alice"
    )
    result = poll_once(client, db_engine, settings, policy, now + dt.timedelta(minutes=1))
    assert result.ok, result.errors
    assert {api_path.number, flagged.number, design.number} <= set(result.queued)
    assert neither.number not in result.queued
    assert result.queries == len(settings.gerrit_projects)  # still one query per project


def test_the_poll_knows_the_patch_set_on_a_server_before_3_10(
    gerrit, client, db_engine, settings, policy, now
):
    """gerrit-fidelity #7: ``current_revision_number`` exists from 3.10 only; the poll asks
    for CURRENT_REVISION, so the patch set is known (and a reviewed one skipped) anyway."""
    gerrit.version = "3.9.5"
    poll_once(client, db_engine, settings, policy, now)
    polls = [r for r in gerrit.requests if r.method == "GET" and r.path == "/a/changes/"]
    assert polls and all("o=CURRENT_REVISION" in r.query for r in polls)
    with session_scope(db_engine) as session:
        payloads = session.scalars(select(WorkItem.payload)).all()
    assert payloads and all(isinstance(p["patch_set"], int) for p in payloads)
    raw = client._json("get", "changes/1", params={"o": ["CURRENT_REVISION"]})
    assert "current_revision_number" not in raw  # the sandbox answers as 3.9 does
