"""review_change against the sandbox Gerrit over real HTTP, on SQLite and PostgreSQL.

Each test drives the real client; the sandbox's request log counts what was posted.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from review_support import (
    BOT,
    LABELS_PATH,
    PROJECT,
    SPEC,
    TAG,
    TRAIT_DELETE_START,
    add_labels_path,
    base_spec,
    line_of,
    remove_trait_delete,
)
from sqlalchemy import Engine, delete, func, select, update

from govbot import render
from govbot.db.models import (
    Change,
    Evaluation,
    EvaluationStatus,
    FindingRecord,
    PatchSet,
    PostedReview,
)
from govbot.db.session import session_scope
from govbot.gerrit.client import GerritClient
from govbot.gerrit.errors import GerritUnavailable
from govbot.policy import Policy
from govbot.sandbox import Sandbox, lifecycle, people
from govbot.services.review import (
    RESERVATION_LEASE,
    ReviewInProgress,
    ReviewStatus,
    review_change,
)

DOCS = "https://govbot.example.org"
REVIEW_POST = r"/revisions/[^/]+/review$"
HEAD_V1 = add_labels_path(remove_trait_delete(base_spec()))
# Patch set 2 keeps every problem of patch set 1 and adds one: a second camelCase field.
HEAD_V2 = HEAD_V1.replace(
    "                        labelName:\n",
    "                        labelColor:\n"
    "                          type: string\n"
    "                          description: Its colour.\n"
    "                        labelName:\n",
)


@pytest.fixture
def review(
    client: GerritClient, db_engine: Engine, default_policy: Policy, now: dt.datetime
) -> Callable[..., Any]:
    """review_change with the test's client, database, policy and clock."""

    def run(change: int, **kw: Any) -> Any:
        kw.setdefault("client", client)
        kw.setdefault("engine_or_session", db_engine)
        kw.setdefault("policy", default_policy)
        kw.setdefault("now", now)
        kw.setdefault("docs_base", DOCS)
        return review_change(change, **kw)

    return run


def upload(gerrit: Sandbox, text: str = HEAD_V1, **kw: Any) -> Any:
    return lifecycle.create_change(
        gerrit,
        kw.pop("project", PROJECT),
        subject=kw.pop("subject", "Add resource provider labels"),
        files={SPEC: text},
        owner="alice",
        **kw,
    )


def posts(gerrit: Sandbox) -> int:
    return gerrit.count_requests("POST", REVIEW_POST)


def bot_messages(gerrit: Sandbox, number: int) -> list[Any]:
    return [m for m in gerrit.change(number).messages if m.tag == TAG]


def bot_comments(gerrit: Sandbox, number: int, patch_set: int | None = None) -> list[Any]:
    return [
        c
        for c in gerrit.change(number).comments
        if c.tag == TAG and (patch_set is None or c.patch_set == patch_set)
    ]


def api_review_votes(gerrit: Sandbox, number: int, patch_set: int) -> dict[str, int]:
    return {
        label: a.value
        for (label, _), a in gerrit.change(number).votes[patch_set].items()
        if label == "API-Review"
    }


def rows(engine: Engine, model: Any) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


# --- one patch set, one review ---------------------------------------------------------------


def test_a_new_patch_set_gets_exactly_one_review_with_inline_comments_at_the_right_lines(
    gerrit, review, db_engine, default_policy
):
    """Four findings on touched surface: four comments at their lines, an unresolved error
    on the parent side, a summary with counts, links and the marker, and API-Review -1."""
    change = upload(gerrit)
    outcome = review(change.number)
    assert outcome.status is ReviewStatus.POSTED and outcome.patch_set == 1
    assert posts(gerrit) == 1

    (message,) = bot_messages(gerrit, change.number)
    assert message.message.startswith("Patch Set 1: API-Review-1\n\n(4 comments)\n\n")
    assert "govbot API review of patch set 1: 1 error, " in message.message
    assert f"* DEP001 removed-without-deprecation: 1 error ({DOCS}/rules/DEP001)" in message.message
    assert message.message.splitlines()[-1] == render.policy_marker(default_policy.digest)

    comments = {(c.side, c.line): c for c in bot_comments(gerrit, change.number)}
    base, head = base_spec(), HEAD_V1
    removed = comments[("PARENT", line_of(base, TRAIT_DELETE_START))]
    assert removed.message.startswith("error DEP001 removed-without-deprecation")
    assert removed.unresolved is True and removed.path == SPEC
    camel = comments[("REVISION", line_of(head, "labelName:"))]
    assert camel.message.startswith("warning CON001 field-snake-case") and not camel.unresolved
    assert ("REVISION", line_of(head, LABELS_PATH.splitlines()[0])) in comments  # CON006
    assert ("REVISION", line_of(head, "  version: '1.39'")) in comments  # DEP023
    assert len(comments) == 4  # existing-surface warnings and info: counted only

    assert api_review_votes(gerrit, change.number, 1) == {"API-Review": -1}
    with session_scope(db_engine) as s:
        posted = s.scalars(select(PostedReview)).one()
        assert posted.posted_at is not None and posted.vote_value == -1
        assert posted.vote_label == "API-Review" and posted.tag == TAG
        evaluation = s.scalars(select(Evaluation)).one()
        assert evaluation.status is EvaluationStatus.SUCCEEDED
        assert evaluation.error_count == 1 and posted.evaluation_id == evaluation.id
        assert s.scalar(select(func.count()).select_from(FindingRecord)) == len(outcome.findings)
        assert s.get(Change, change.number).current_patch_set == 1
        assert s.get(PatchSet, (change.number, 1)).revision == change.current.sha


def test_reviewing_again_posts_nothing_and_costs_one_request(gerrit, review):
    """A second poll, a restart or a duplicated event: one GET, no POST."""
    change = upload(gerrit)
    assert review(change.number).status is ReviewStatus.POSTED
    gerrit.clear_requests()
    again = review(change.number)
    assert again.status is ReviewStatus.ALREADY_POSTED
    assert posts(gerrit) == 0 and gerrit.count_requests() == 1
    assert len(bot_messages(gerrit, change.number)) == 1


def test_rest_calls_of_one_review(gerrit, review):
    """The figures: change, files, two contents, the last look, the POST."""
    change = upload(gerrit)
    gerrit.clear_requests()
    review(change.number)
    calls = [(r.method, r.path.split("/revisions/")[-1]) for r in gerrit.requests]
    assert gerrit.count_requests("GET") == 5, calls
    assert gerrit.count_requests("POST") == 1
    assert gerrit.count_requests("GET", r"/content$") == 2


def test_a_crash_between_post_and_record_is_reconciled_by_the_tag(gerrit, review, db_engine):
    """Posted but not recorded (the process died): the next run finds the review on
    Gerrit by tag, patch set and policy marker, records it, and posts nothing."""
    change = upload(gerrit)
    review(change.number)
    with session_scope(db_engine) as s:
        s.execute(update(PostedReview).values(posted_at=None, gerrit_message_id=None))
    again = review(change.number)
    assert again.status is ReviewStatus.ALREADY_POSTED and "found on Gerrit" in again.reason
    assert posts(gerrit) == 1 and len(bot_messages(gerrit, change.number)) == 1
    with session_scope(db_engine) as s:
        row = s.scalars(select(PostedReview)).one()
        assert row.posted_at is not None
        assert row.gerrit_message_id == bot_messages(gerrit, change.number)[0].id


def test_a_lost_database_posts_nothing_again(gerrit, review, db_engine):
    """With every record gone, the review on Gerrit is still found and recorded."""
    change = upload(gerrit)
    review(change.number)
    with session_scope(db_engine) as s:
        s.execute(delete(PostedReview))
        s.execute(delete(Evaluation))
    assert review(change.number).status is ReviewStatus.ALREADY_POSTED
    assert posts(gerrit) == 1
    assert rows(db_engine, PostedReview) == 1


def test_a_500_on_the_post_keeps_the_reservation_until_the_reconcile_delay(
    gerrit, review, db_engine, client, now
):
    """A 500 after the body was sent may hide an applied review: the reservation stays
    for four client timeouts; the attempt after that finds nothing on Gerrit and posts."""
    change = upload(gerrit)
    gerrit.fail_next(1, 500, method="POST", path=REVIEW_POST)
    with pytest.raises(GerritUnavailable):
        review(change.number)
    assert bot_messages(gerrit, change.number) == []
    assert rows(db_engine, PostedReview) == 1  # kept: the outcome is unknown
    with pytest.raises(ReviewInProgress):
        review(change.number, now=now + dt.timedelta(seconds=3 * client.timeout))
    assert posts(gerrit) == 1
    later = now + dt.timedelta(seconds=5 * client.timeout)
    assert review(change.number, now=later).status is ReviewStatus.POSTED
    assert review(change.number, now=later).status is ReviewStatus.ALREADY_POSTED
    assert posts(gerrit) == 2 and len(bot_messages(gerrit, change.number)) == 1


def test_a_refused_post_gives_the_reservation_up_at_once(gerrit, review, db_engine):
    """A 429 applied nothing: the retry need not wait."""
    change = upload(gerrit)
    gerrit.fail_next(1, 429, method="POST", path=REVIEW_POST)
    with pytest.raises(GerritUnavailable):
        review(change.number)
    assert rows(db_engine, PostedReview) == 0
    assert review(change.number).status is ReviewStatus.POSTED
    assert len(bot_messages(gerrit, change.number)) == 1


def test_a_fresh_reservation_of_another_process_is_not_posted_twice(
    gerrit, review, db_engine, now, default_policy
):
    """A reservation younger than its lease means someone is posting: try later."""
    change = recorded_change(gerrit, review)
    reserve(db_engine, change.number, now - dt.timedelta(minutes=1), default_policy.digest)
    with pytest.raises(ReviewInProgress):
        review(change.number)
    assert posts(gerrit) == 0


def test_a_stale_reservation_of_a_dead_process_is_taken_over(
    gerrit, review, db_engine, now, default_policy
):
    """A reservation older than its lease, never posted: reviewed once, recorded."""
    change = recorded_change(gerrit, review)
    stale = now - RESERVATION_LEASE - dt.timedelta(seconds=1)
    reserve(db_engine, change.number, stale, default_policy.digest)
    assert review(change.number).status is ReviewStatus.POSTED
    assert posts(gerrit) == 1
    with session_scope(db_engine) as s:
        assert s.scalars(select(PostedReview)).one().posted_at == now


def recorded_change(gerrit: Sandbox, review: Callable[..., Any]) -> Any:
    """A change whose patch set is in the database, not reviewed yet."""
    change = upload(gerrit, wip=True)
    assert review(change.number).status is ReviewStatus.SKIPPED_WIP
    lifecycle.set_wip(gerrit, change.number, False)
    return change


def reserve(engine: Engine, number: int, when: dt.datetime, digest: str) -> None:
    with session_scope(engine) as s:
        s.add(
            PostedReview(
                change_number=number,
                patch_set_number=1,
                policy_digest=digest,
                purpose="api-review",
                tag=TAG,
                reserved_at=when,
            )
        )


# --- patch sets ------------------------------------------------------------------------------


def test_a_new_patch_set_gets_a_new_review_without_new_threads_for_old_findings(gerrit, review):
    """Patch set 2 keeps the four findings and adds one: one new comment, four carried."""
    change = upload(gerrit)
    review(change.number)
    lifecycle.add_patchset(gerrit, change.number, {SPEC: HEAD_V2})
    gerrit.clear_requests()
    outcome = review(change.number)
    assert outcome.status is ReviewStatus.POSTED and outcome.patch_set == 2
    # change, files, 2 contents, the bot's earlier comments, the last look; the POST
    assert gerrit.count_requests("GET") == 6 and posts(gerrit) == 1
    (new,) = bot_comments(gerrit, change.number, patch_set=2)
    assert new.message.startswith("warning CON001 field-snake-case")
    assert "`labelColor`" in new.message and new.line == line_of(HEAD_V2, "labelColor:")
    message = bot_messages(gerrit, change.number)[-1].message
    assert "4 findings already commented on earlier patch sets still apply." in message
    assert api_review_votes(gerrit, change.number, 2) == {"API-Review": -1}


def test_old_findings_are_known_from_gerrit_alone_after_the_database_is_lost(
    gerrit, review, db_engine
):
    """The markers in the bot's comments carry the fingerprints: no duplicate threads."""
    change = upload(gerrit)
    review(change.number)
    with session_scope(db_engine) as s:
        s.execute(delete(PostedReview))
        s.execute(delete(Evaluation))
    lifecycle.add_patchset(gerrit, change.number, {SPEC: HEAD_V2})
    assert review(change.number).status is ReviewStatus.POSTED
    assert len(bot_comments(gerrit, change.number, patch_set=2)) == 1


def test_a_work_in_progress_or_private_change_gets_no_review(gerrit, review):
    """WIP and private changes are skipped (policy default) without a POST."""
    wip = upload(gerrit, wip=True)
    private = upload(gerrit, private=True)
    people.add_reviewer(gerrit, private.number, "govbot")  # else the bot cannot even see it
    assert review(wip.number).status is ReviewStatus.SKIPPED_WIP
    assert review(private.number).status is ReviewStatus.SKIPPED_PRIVATE
    assert posts(gerrit) == 0
    lifecycle.set_wip(gerrit, wip.number, False)
    assert review(wip.number).status is ReviewStatus.POSTED


def test_no_vote_for_a_patch_set_outdated_while_it_was_checked(gerrit, review):
    """Patch set 2 arrives while patch set 1 is evaluated: the review lands on patch set 1
    with its comments but without a vote (the sandbox would 409 an outdated vote)."""
    change = upload(gerrit)
    hooked = HookedClient(
        gerrit, on_content=lambda: lifecycle.add_patchset(gerrit, change.number, {SPEC: HEAD_V2})
    )
    outcome = review(change.number, client=hooked)
    assert outcome.status is ReviewStatus.POSTED and outcome.patch_set == 1
    assert "labels" not in outcome.review_input
    assert "No vote: patch set 2 was uploaded after this one" in outcome.review_input["message"]
    assert api_review_votes(gerrit, change.number, 1) == {}
    assert len(bot_comments(gerrit, change.number, patch_set=1)) == 4
    assert review(change.number).status is ReviewStatus.POSTED  # patch set 2: its own review
    assert api_review_votes(gerrit, change.number, 2) == {"API-Review": -1}


def test_no_vote_when_an_older_patch_set_is_reviewed_explicitly(gerrit, review):
    """Reviewing patch set 1 after patch set 2 exists: comments, no vote."""
    change = upload(gerrit)
    lifecycle.add_patchset(gerrit, change.number, {SPEC: HEAD_V2})
    outcome = review(change.number, revision=1)
    assert outcome.status is ReviewStatus.POSTED and outcome.patch_set == 1
    assert "labels" not in outcome.review_input
    assert api_review_votes(gerrit, change.number, 1) == {}


def test_a_change_abandoned_while_it_is_checked_ends_quietly(gerrit, review, db_engine):
    """The last look before posting sees the change closed: nothing posted, no error."""
    change = upload(gerrit)
    hooked = HookedClient(gerrit, on_content=lambda: lifecycle.abandon(gerrit, change.number))
    outcome = review(change.number, client=hooked)
    assert outcome.status is ReviewStatus.SKIPPED_CLOSED
    assert posts(gerrit) == 0 and rows(db_engine, PostedReview) == 0


def test_a_409_on_the_post_ends_quietly(gerrit, review, db_engine):
    """Abandoned between the last look and the POST: Gerrit's 409 ends the attempt."""
    change = upload(gerrit)
    hooked = HookedClient(gerrit, on_review=lambda: lifecycle.abandon(gerrit, change.number))
    outcome = review(change.number, client=hooked)
    assert outcome.status is ReviewStatus.SKIPPED_CLOSED
    assert bot_messages(gerrit, change.number) == []
    assert rows(db_engine, PostedReview) == 0


def test_a_closed_change_is_skipped(gerrit, review):
    """A merged or abandoned change is not reviewed at all."""
    change = upload(gerrit)
    lifecycle.abandon(gerrit, change.number)
    assert review(change.number).status is ReviewStatus.SKIPPED_CLOSED
    assert posts(gerrit) == 0


# --- other outcomes --------------------------------------------------------------------------


def test_a_change_without_specs_is_recorded_once(gerrit, review, db_engine):
    """No spec touched: nothing posted; asking again costs one request."""
    change = lifecycle.create_change(
        gerrit, PROJECT, subject="Docs", files={"README.rst": "More\n"}
    )
    assert review(change.number).status is ReviewStatus.NO_SPECS
    gerrit.clear_requests()
    assert review(change.number).status is ReviewStatus.NO_SPECS
    assert gerrit.count_requests() == 1 and posts(gerrit) == 0
    with session_scope(db_engine) as s:
        assert s.scalars(select(Evaluation)).one().status is EvaluationStatus.SKIPPED


def test_a_project_without_the_label_gets_comments_and_no_vote(gerrit, review):
    """The policy's label is not configured there: the review says why it has no vote."""
    change = upload(gerrit, project="openstack/no-label-api")
    outcome = review(change.number)
    assert outcome.status is ReviewStatus.POSTED
    assert "labels" not in outcome.review_input
    assert "No vote: this project has no API-Review label." in outcome.review_input["message"]


def test_dry_run_posts_and_records_nothing(gerrit, review, db_engine):
    """--dry-run returns the ReviewInput that would be posted; Gerrit and DB untouched."""
    change = upload(gerrit)
    outcome = review(change.number, dry_run=True)
    assert outcome.status is ReviewStatus.DRY_RUN
    assert outcome.review_input["labels"] == {"API-Review": -1}
    assert sum(len(v) for v in outcome.review_input["comments"].values()) == 4
    assert "vote: API-Review -1" in render.review_text(outcome.review_input)
    assert posts(gerrit) == 0
    assert rows(db_engine, PostedReview) == 0 and rows(db_engine, Evaluation) == 0


def test_dry_run_needs_no_database(gerrit, client, default_policy, now):
    """`govbot review N --dry-run` works without a database."""
    change = upload(gerrit)
    outcome = review_change(
        change.number,
        client=client,
        engine_or_session=None,
        policy=default_policy,
        now=now,
        dry_run=True,
    )
    assert outcome.status is ReviewStatus.DRY_RUN
    assert outcome.review_input["labels"] == {"API-Review": -1}
    assert posts(gerrit) == 0
    with pytest.raises(ValueError, match="needs a database"):
        review_change(
            change.number, client=client, engine_or_session=None, policy=default_policy, now=now
        )


def test_a_clean_change_gets_a_positive_vote_and_no_comments(gerrit, review):
    """Only a description edited: no finding on touched surface, API-Review +1, quiet."""
    text = base_spec().replace("List traits\n", "List all traits\n", 1)
    change = upload(gerrit, text)
    outcome = review(change.number)
    assert outcome.status is ReviewStatus.POSTED
    assert outcome.review_input["labels"] == {"API-Review": 1}
    assert outcome.review_input["notify"] == "NONE"
    assert "comments" not in outcome.review_input
    message = outcome.review_input["message"]
    assert message.startswith("govbot API review of patch set 1: no findings")
    assert "did not touch already has" in message and "not held against this change" in message
    assert api_review_votes(gerrit, change.number, 1) == {"API-Review": 1}


def test_a_400_on_the_review_posts_the_summary_alone(gerrit, review):
    """Gerrit rejected the comments (nothing applied): one more POST, summary only."""
    change = upload(gerrit)
    reason = "One or more comments were rejected in validation: Comment size exceeds limit"
    gerrit.fail_next(1, 400, method="POST", path=REVIEW_POST, message=reason)
    outcome = review(change.number)
    assert outcome.status is ReviewStatus.POSTED
    assert posts(gerrit) == 2
    (message,) = bot_messages(gerrit, change.number)
    assert f"Gerrit refused the inline comments and the vote ({reason})" in message.message
    assert "* error DEP001 api-specs/placement.yaml:" in message.message
    assert bot_comments(gerrit, change.number) == []
    assert api_review_votes(gerrit, change.number, 1) == {}


def test_a_403_on_the_vote_posts_the_comments_without_it(gerrit, review, db_engine):
    """The bot may not vote on that label: the comments still land, the summary says why."""
    change = upload(gerrit)
    refusal = 'Applying label "API-Review": -1 is restricted'
    gerrit.fail_next(1, 403, method="POST", path=REVIEW_POST, message=refusal)
    outcome = review(change.number)
    assert outcome.status is ReviewStatus.POSTED and "labels" not in outcome.review_input
    assert (
        f"No vote: Gerrit refused it ({refusal})." in bot_messages(gerrit, change.number)[0].message
    )
    assert len(bot_comments(gerrit, change.number)) == 4
    with session_scope(db_engine) as s:
        assert s.scalars(select(PostedReview)).one().vote_label is None


def test_two_workers_reviewing_one_change_at_once_post_one_review(
    gerrit, db_engine, default_policy, now
):
    """Two processes on one change (a CLI run and the service): one POST; the other
    sees the review posted, or the fresh reservation (and would retry later)."""
    change = upload(gerrit)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def worker() -> None:
        # Both read the change and its files before either reserves the review.
        client = HookedClient(gerrit, on_files=lambda: barrier.wait(timeout=10))
        try:
            results.append(
                review_change(
                    change.number,
                    client=client,
                    engine_or_session=db_engine,
                    policy=default_policy,
                    now=now,
                ).status
            )
        except ReviewInProgress as exc:
            results.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert posts(gerrit) == 1 and len(bot_messages(gerrit, change.number)) == 1
    assert ReviewStatus.POSTED in results and len(results) == 2
    other = next(r for r in results if r is not ReviewStatus.POSTED)
    assert other is ReviewStatus.ALREADY_POSTED or isinstance(other, ReviewInProgress)


# --- helpers ---------------------------------------------------------------------------------


class HookedClient(GerritClient):
    """The real client, with one-shot hooks before the first file list, content read or
    review POST: the world changing in the middle of a review."""

    def __init__(
        self,
        gerrit: Sandbox,
        *,
        on_files: Callable[[], object] | None = None,
        on_content: Callable[[], object] | None = None,
        on_review: Callable[[], object] | None = None,
    ) -> None:
        super().__init__(gerrit.url, *BOT, timeout=10, retries=2, backoff=0.01)
        self.on_files = on_files
        self.on_content = on_content
        self.on_review = on_review

    def files(self, *args: Any, **kwargs: Any) -> Any:
        hook, self.on_files = self.on_files, None
        if hook is not None:
            hook()
        return super().files(*args, **kwargs)

    def content(self, *args: Any, **kwargs: Any) -> bytes:
        hook, self.on_content = self.on_content, None
        if hook is not None:
            hook()
        return super().content(*args, **kwargs)

    def review(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        hook, self.on_review = self.on_review, None
        if hook is not None:
            hook()
        return super().review(*args, **kwargs)


def test_a_finding_waived_on_the_dashboard_is_not_posted(gerrit, review, db_engine, now):
    """An admin's dashboard waiver (by fingerprint, for this API) keeps the bot quiet on it."""
    from govbot.db.models import ApiSpec, Waiver
    from govbot.findings import Audience

    change = upload(gerrit)
    dry = review(change.number, dry_run=True)
    (removed,) = [f for f in dry.findings if f.rule == "DEP001"]
    with session_scope(db_engine) as s:
        api = ApiSpec(
            project=PROJECT,
            branch=change.branch,
            file=SPEC,
            audience=Audience.EXTERNAL,
            latest_snapshot_id=None,
            commit="0" * 40,
            merged_at=now,
        )
        s.add(api)
        s.flush()
        s.add(
            Waiver(
                api_id=api.id,
                fingerprint=removed.fingerprint or removed.with_fingerprint().fingerprint,
                rule="DEP001",
                reason="the trait API was never released (TC 2026-11)",
                created_by="ana",
            )
        )

    outcome = review(change.number)
    assert outcome.status is ReviewStatus.POSTED and posts(gerrit) == 1
    assert "DEP001" not in {f.rule for f in outcome.findings}
    assert all(
        not c.message.startswith("error DEP001") for c in bot_comments(gerrit, change.number)
    )
    assert api_review_votes(gerrit, change.number, 1) == {"API-Review": 1}
