"""The review's store on SQLite and PostgreSQL: the database store writes, the dry-run
store writes nothing, and ``run_review(dry_run=True)`` uses the latter.

Row counts of every table of the schema are compared before and after, so a write
added to the review later that bypasses the store shows up here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from review_support import PROJECT, SPEC, TAG, add_labels_path, base_spec, remove_trait_delete
from sqlalchemy import Engine, func, select

from govbot.db.models import Base
from govbot.db.session import session_scope
from govbot.findings import Finding, Severity
from govbot.gerrit.changes import ChangeInfo
from govbot.gerrit.reviews import ChangeMessageInfo
from govbot.gerrit.revisions import RevisionInfo
from govbot.policy import Policy
from govbot.sandbox import Sandbox, lifecycle
from govbot.services.reservations import RESERVATION_LEASE, Held, ReviewKey
from govbot.services.review import ReviewStatus, review_change
from govbot.services.review_plan import Recorded
from govbot.services.review_store import DatabaseStore, DryRunStore, ReviewStore, review_store

HEAD = add_labels_path(remove_trait_delete(base_spec()))


def counts(engine: Engine) -> dict[str, int]:
    """Rows per table, for every table of the schema."""
    with session_scope(engine) as s:
        return {
            t.name: s.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


def grown(before: dict[str, int], after: dict[str, int]) -> set[str]:
    return {name for name in after if after[name] != before[name]}


def upload(gerrit: Sandbox, subject: str) -> Any:
    return lifecycle.create_change(
        gerrit, PROJECT, subject=subject, files={SPEC: HEAD}, owner="alice"
    )


def test_a_dry_run_writes_no_row_and_a_real_run_does(
    gerrit, client, db_engine, default_policy, now
):
    def review(number: int, **kw: Any) -> Any:
        return review_change(
            number, client=client, engine_or_session=db_engine, policy=default_policy, now=now, **kw
        )

    posted = upload(gerrit, "Add resource provider labels")
    assert review(posted.number).status is ReviewStatus.POSTED
    fresh = upload(gerrit, "Add resource provider labels again")
    before = counts(db_engine)
    assert before["posted_reviews"] == 1 and before["findings"] > 0

    # A dry run of a new change, and of one already posted (a dry run consults no records).
    for number in (fresh.number, posted.number):
        dry = review(number, dry_run=True)
        assert dry.status is ReviewStatus.DRY_RUN and dry.review_input is not None
    assert counts(db_engine) == before
    assert gerrit.count_requests("POST", r"/revisions/[^/]+/review$") == 1

    assert review(fresh.number).status is ReviewStatus.POSTED
    after = counts(db_engine)
    assert {"changes", "patch_sets", "evaluations", "findings", "posted_reviews"} <= grown(
        before, after
    )
    assert review(posted.number, dry_run=True).status is ReviewStatus.DRY_RUN
    assert counts(db_engine) == after


# --- the stores alone, on plain values ----------------------------------------------------

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
DIGEST = "ab" * 32


def facts() -> tuple[ChangeInfo, RevisionInfo]:
    target = RevisionInfo("c" * 40, 1, kind="REWORK", created=NOW)
    info = ChangeInfo(
        number=7,
        project="openstack/placement",
        branch="master",
        change_id="I" + "7" * 40,
        subject="Add labels",
        current_revision=target.sha,
        revisions={target.sha: target},
    )
    return info, target


def finding() -> Finding:
    return Finding(
        "DEP001", "removal-needs-deprecation", Severity.ERROR, "removed", SPEC, 3, "/paths"
    ).with_fingerprint()


def exercise(store: ReviewStore) -> list[Any]:
    """Every write of the store, in the order a review makes them; what the reads said."""
    info, target = facts()
    posted, skipped, uncertain, released, found = (
        ReviewKey(7, 1, DIGEST, purpose) for purpose in ("api-review", "spec-review", "a", "b", "c")
    )
    held = Held()
    store.record_change(info, target, NOW)
    store.record_skipped(skipped, "no spec changed", NOW)
    store.record_evaluation(uncertain, [], NOW, detail="quiet: nothing")
    evaluation_id = store.record_evaluation(posted, [finding()], NOW)
    for key in (posted, uncertain, released):
        store.reserve(key, TAG, NOW, held, lease=RESERVATION_LEASE)
    store.fence(posted, held, NOW)
    store.record_posted(posted, evaluation_id, {"labels": {"API-Review": -1}}, NOW)
    store.keep_uncertain(uncertain, held, NOW + dt.timedelta(minutes=1), lease=RESERVATION_LEASE)
    store.release(released, held)
    message = ChangeMessageInfo("m-9", "Patch Set 1: posted", NOW, tag=TAG, revision_number=1)
    store.record_found(found, message, TAG, NOW)
    return [store.recorded(k) for k in (posted, skipped, found)]


def test_the_database_store_writes_every_record(db_engine):
    before = counts(db_engine)
    posted, skipped, found = exercise(DatabaseStore(db_engine))
    assert {"projects", "changes", "patch_sets", "evaluations", "findings"} <= grown(
        before, counts(db_engine)
    )
    assert isinstance(posted, Recorded) and posted.reserved and posted.posted_at is not None
    assert skipped == Recorded(verdict=skipped.verdict, detail="no spec changed")
    assert found.posted_at is not None


def test_the_dry_run_store_writes_nothing(db_engine):
    exercise(DatabaseStore(db_engine))  # records to read, and rows that must stay
    before = counts(db_engine)
    assert exercise(DryRunStore(db_engine)) == [None, None, None]
    assert exercise(DryRunStore(None)) == [None, None, None]
    assert counts(db_engine) == before


def test_a_dry_run_store_still_reads_what_was_posted(db_engine):
    """The findings posted inline before are read, so a dry run shows the same review."""
    exercise(DatabaseStore(db_engine))
    key = ReviewKey(7, 2, DIGEST, "api-review")
    config = Policy().review
    expected = frozenset({finding().fingerprint})
    assert DatabaseStore(db_engine).carried(key, config) == expected
    assert DryRunStore(db_engine).carried(key, config) == expected
    assert DryRunStore(None).carried(key, config) == frozenset()


def test_which_store_a_review_uses(db_engine):
    assert isinstance(review_store(db_engine, dry_run=True), DryRunStore)
    assert isinstance(review_store(None, dry_run=True), DryRunStore)
    assert isinstance(review_store(db_engine, dry_run=False), DatabaseStore)
    with pytest.raises(ValueError, match="needs a database"):
        review_store(None, dry_run=False)
