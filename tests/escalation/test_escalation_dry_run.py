"""Dry runs write nothing: ``govbot escalate --dry-run`` and the digest preview leave every
table as it was, while the real runs on the same state write (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from escalation_support import HOUR, NOW, POLICY, new_change
from sqlalchemy import Engine, select

from govbot.db import session_scope
from govbot.db.models import Base
from govbot.gerrit.client import GerritClient
from govbot.sandbox import Sandbox, lifecycle
from govbot.services.digest import digest_command, digest_job
from govbot.services.escalation import escalate, escalate_command


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every govbot table, in a stable order."""
    with session_scope(engine) as session:
        return {
            table.name: sorted((tuple(row) for row in session.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }


def counts(snap: dict[str, list[tuple[Any, ...]]]) -> dict[str, int]:
    return {name: len(rows) for name, rows in snap.items() if rows}


def test_escalate_dry_run_writes_nothing_and_the_real_run_writes(
    world: Sandbox, client: GerritClient, engine: Engine
) -> None:
    """With an episode that ended (abandoned) and a change newly stale, the dry run reports
    the resolution and the escalation it would make; tables and Gerrit stay untouched."""
    first = new_change(world, NOW, "First")
    second = new_change(world, NOW + 5 * HOUR, "Second")
    world.clock.set(NOW + 49 * HOUR)
    escalate(client, engine, POLICY, NOW + 49 * HOUR)
    lifecycle.abandon(world, first, by="olivia")
    before = snapshot(engine)
    assert counts(before) == {"escalations": 1}

    when = NOW + 55 * HOUR
    world.clock.set(when)
    world.clear_requests()
    text, code = escalate_command(client, engine, POLICY, when, dry_run=True)
    assert code == 0
    assert f"#{first}: abandoned" in text and "escalate -> " in text and "(would escalate)" in text
    assert snapshot(engine) == before
    assert world.count_requests("POST") == 0

    report = escalate(client, engine, POLICY, when)
    assert [(r.change, r.resolution) for r in report.resolved] == [(first, "abandoned")]
    assert [(c.assessment.number, c.done) for c in report.actions] == [(second, True)]
    after = snapshot(engine)
    assert counts(after) == {"escalations": 2}
    assert after != before and world.count_requests("POST") > 0


def test_digest_preview_writes_nothing_and_the_job_archives(
    world: Sandbox, client: GerritClient, engine: Engine
) -> None:
    """``govbot digest`` without --send builds from a dry escalation pass and archives
    nothing; the scheduler's digest job archives one digest."""
    new_change(world, NOW)
    when = NOW + 49 * HOUR
    world.clock.set(when)
    before = snapshot(engine)
    out, code = digest_command(engine, client, POLICY, when)
    assert code == 0 and "Stale changes now" in out
    assert snapshot(engine) == before

    digest_id = digest_job(
        engine,
        lambda: client,
        POLICY,
        owner="test",
        now=lambda: when,
        smtp_host="",
        smtp_port=25,
        to=(),
    )
    assert digest_id is not None
    assert counts(snapshot(engine)).get("digests") == 1
