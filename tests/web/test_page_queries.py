"""What the dashboard's reads cost and count, on SQLite and PostgreSQL: a fixed number of
statements per page, and the API rows' figures (waivers, cross-service findings) read in
the statement that reads the APIs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session
from web_support import COMPUTE, Seeded

from govbot.db.models import ApiSpec, CrossFinding, SnapshotFinding, Waiver
from govbot.db.session import session_scope
from govbot.findings import Severity
from govbot.web import queries
from govbot.web.context import EXTENSION, db


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on ``engine`` inside the block (BEGIN and the like aside)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_each_page_runs_a_fixed_number_of_statements(
    app: Flask, client: FlaskClient, db_engine: Engine, seeded: Seeded
) -> None:
    """the overview reads in 6 statements and an API page in 7, however many APIs and
    findings there are (counts come with the rows that show them, never one per row)"""
    api_id = seeded.api_ids[COMPUTE]
    for path, budget in (("/", 6), (f"/apis/{api_id}", 7)):
        assert client.get(path).status_code == 200  # the trend is cached after this one
        with statements(db_engine) as seen:
            assert client.get(path).status_code == 200
        assert len(seen) == budget, (path, seen)


def test_page_reads_hold_no_transaction_open(app: Flask) -> None:
    """a request's read session runs each statement in autocommit mode (no BEGIN and
    ROLLBACK round trips); sessions of the engine itself still open transactions"""
    with app.test_request_context("/"):
        connection = db().connection()
        driver = connection.connection.driver_connection
        assert connection.get_execution_options()["isolation_level"] == "AUTOCOMMIT"
        if connection.dialect.name == "postgresql":
            assert driver.autocommit is True
        else:
            assert driver.isolation_level is None  # sqlite3's autocommit
    engine = app.extensions[EXTENSION].engine
    with engine.connect() as c:
        if c.dialect.name == "postgresql":
            assert c.connection.driver_connection.autocommit is False


def _waive(s: Session, api_id: int, finding: SnapshotFinding) -> None:
    s.add(
        Waiver(
            api_id=api_id,
            fingerprint=finding.fingerprint,
            rule=finding.rule,
            reason="test",
            created_by="ana",
        )
    )


def test_api_rows_subtract_waived_findings_by_severity_and_count_inconsistencies(
    db_engine: Engine, seeded: Seeded
) -> None:
    """one waived finding of each severity on the latest snapshot leaves the API's counts,
    the overview's row and the community totals one lower each; a waiver whose finding is
    not on the latest snapshot, or belongs to another API, changes nothing"""
    with Session(db_engine) as s:
        # An API with cross-service findings (the seed's compute API has none).
        api_id = s.scalar(select(CrossFinding.api_id).order_by(CrossFinding.api_id).limit(1))
        assert api_id is not None and api_id in seeded.api_ids.values()
        before = queries.api(s, api_id)
        totals_before = queries.summary(s).counts
        assert before is not None
        spec = before.spec
        waived: dict[str, int] = {}
        for severity in Severity:
            finding = s.scalars(
                select(SnapshotFinding)
                .where(
                    SnapshotFinding.snapshot_id == spec.latest_snapshot_id,
                    SnapshotFinding.severity == severity,
                )
                .limit(1)
            ).first()
            if finding is not None:
                waived[str(severity)] = 1
        assert waived, "the seed has findings on that API"
        cross = s.scalar(
            select(func.count()).select_from(CrossFinding).where(CrossFinding.api_id == api_id)
        )
        other = s.scalar(select(ApiSpec.id).where(ApiSpec.id != api_id).limit(1))
    assert cross
    with session_scope(db_engine) as s:
        for severity in waived:
            finding = s.scalars(
                select(SnapshotFinding).where(
                    SnapshotFinding.snapshot_id == spec.latest_snapshot_id,
                    SnapshotFinding.severity == severity,
                )
            ).first()
            assert finding is not None
            _waive(s, api_id, finding)
        # Neither of these counts: an unknown fingerprint, another API's waiver.
        s.add(Waiver(api_id=api_id, fingerprint="f" * 40, rule="X", reason="", created_by="a"))
        assert other is not None
        s.add(Waiver(api_id=other, fingerprint="e" * 40, rule="X", reason="", created_by="a"))

    with Session(db_engine) as s:
        after = queries.api(s, api_id)
        [listed] = [
            r for r in queries.api_page(s, limit=100, marker=None).items if r.spec.id == api_id
        ]
        totals_after = queries.summary(s).counts
    assert after is not None
    for row in (after, listed):
        assert row.inconsistencies == cross
        assert row.counts.waived == sum(waived.values())
        assert row.counts.error == before.counts.error - waived.get("error", 0)
        assert row.counts.warning == before.counts.warning - waived.get("warning", 0)
        assert row.counts.info == before.counts.info - waived.get("info", 0)
        assert row.counts.operations == before.counts.operations
    assert totals_after.waived == totals_before.waived + sum(waived.values())
    assert totals_after.error == totals_before.error - waived.get("error", 0)
    assert totals_after.warning == totals_before.warning - waived.get("warning", 0)
    assert totals_after.info == totals_before.info - waived.get("info", 0)


def test_an_unknown_or_out_of_range_api_id_reads_nothing(db_engine: Engine, seeded: Seeded) -> None:
    """ids no API has, including ones beyond the id column's range, are None, not errors"""
    with Session(db_engine) as s:
        for api_id in (0, -1, max(seeded.api_ids.values()) + 1000, 2**31, 2**70):
            assert queries.api(s, api_id) is None


def test_the_open_changes_statement_carries_its_constants_in_its_text(
    client: FlaskClient, db_engine: Engine, seeded: Seeded
) -> None:
    """the open, reviewed, not skipped changes: statuses and purpose are literals of the
    SQL, so that PostgreSQL's generic plan of the prepared statement knows them"""
    with statements(db_engine) as seen:
        assert client.get(f"/apis/{seeded.api_ids[COMPUTE]}").status_code == 200
    [sql] = [s for s in seen if "FROM changes" in s]
    for constant in ("'NEW'", "'skipped'", f"'{queries.common.REVIEW_PURPOSE}'"):
        assert constant in sql, constant
