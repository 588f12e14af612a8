"""Review one Gerrit change: check the specs its patch set changed, post one review.

The whole pipeline for one patch set (design.md §4.5, research/gerrit.md §1.6, §7):

1. read the change (current revision, files, commit, messages, labels); a closed change
   ends quietly, a WIP or private one is skipped unless the policy says otherwise;
2. remember the change and the patch set in the database;
3. **at most once** per (change, patch set, policy digest, purpose):

   a. a posted review in the database: done;
   b. a review on Gerrit carrying the tag, the patch set and this policy's marker (the
      last line of the summary): done, and recorded. This settles a crash between the
      POST and its record, a POST whose answer was lost, and a lost database;
   c. otherwise reserve the review (an INSERT that only one process can win), run the
      engine on the patch set against its parent, render, POST, and record it.
      A reservation left by a crashed process is taken over once its lease has run out;
      a failed POST gives it up at once (the next attempt looks on Gerrit first);

4. votes only on a patch set that is still current right before the POST (Zuul's
   rule: report on the patch set tested, never vote on an outdated one); the comments
   are still posted on the patch set they are about;
5. findings already posted as inline comments (on this change's earlier patch sets, or
   by an earlier policy version) are not posted as new threads again: the summary
   counts them. They are known from the database *and* from the bot's comments on
   Gerrit (each ends with a ``[govbot:CODE:fingerprint]`` marker), so a lost database
   does not bring duplicates.

Errors: 409 (the change was closed meanwhile) ends quietly; 5xx and timeouts propagate
(:class:`~govbot.gerrit.client.GerritUnavailable`: the worker retries the item); a 400
on the full review is logged and the review is posted once more without inline comments
and vote, with Gerrit's reason in the summary; a 403 on the vote likewise without it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from govbot import render
from govbot.db.models import (
    Change,
    Evaluation,
    EvaluationStatus,
    FindingRecord,
    PatchSet,
    PostedReview,
    Project,
)
from govbot.db.session import insert_ignore, session_scope
from govbot.errors import GovbotError
from govbot.evaluate import DEFAULT_DOCS_BASE
from govbot.findings import Finding, Severity
from govbot.gerrit.client import (
    ChangeClosed,
    GerritAuthError,
    GerritBadRequest,
    GerritClient,
    GerritNotFound,
)
from govbot.gerrit.model import ChangeInfo, ChangeMessageInfo, RevisionInfo
from govbot.gerrit.sources import ChangeSpecs, GitMirror, change_specs
from govbot.policy import Policy, ReviewConfig
from govbot.services.check import Report, SpecSource, check_pairs

LOG = logging.getLogger(__name__)

# What one review needs to know about the change, in the first request.
CHANGE_OPTIONS = (
    "CURRENT_REVISION",
    "CURRENT_FILES",
    "CURRENT_COMMIT",
    "MESSAGES",
    "DETAILED_LABELS",
    "DETAILED_ACCOUNTS",
)
# Reviewing an older patch set (an explicit ``revision``) needs every revision.
ALL_REVISIONS_OPTIONS = ("ALL_REVISIONS", "ALL_FILES", "ALL_COMMITS", "MESSAGES", "DETAILED_LABELS")
# The last look before posting: is the patch set still current, is the change open,
# has a review with our marker appeared meanwhile?
RECHECK_OPTIONS = ("CURRENT_REVISION", "MESSAGES")
# A reservation older than this whose review was never recorded belongs to a process
# that died: another may take it over (after looking on Gerrit first). The same as the
# work queue's lease, so a retried work item finds the reservation free.
RESERVATION_LEASE = dt.timedelta(minutes=5)


class ReviewStatus(StrEnum):
    POSTED = "posted"
    SKIPPED_WIP = "skipped-wip"
    SKIPPED_PRIVATE = "skipped-private"
    SKIPPED_CLOSED = "skipped-closed"
    ALREADY_POSTED = "already-posted"
    NO_SPECS = "no-specs"
    DRY_RUN = "dry-run"


class ReviewInProgress(GovbotError):
    """Another process reserved this review moments ago and may be posting it: try later."""


@dataclass(frozen=True)
class ReviewOutcome:
    """What :func:`review_change` did for one change."""

    change: int
    patch_set: int | None
    status: ReviewStatus
    review_input: Mapping[str, Any] | None = None
    findings: tuple[Finding, ...] = ()
    reason: str = ""
    revision: str | None = None  # the commit SHA reviewed

    @property
    def posted(self) -> bool:
        return self.status is ReviewStatus.POSTED


@dataclass(frozen=True)
class _Key:
    """The identity of a review: at most one is posted per key."""

    change: int
    patch_set: int
    digest: str
    purpose: str

    def where(self, model: type[PostedReview] | type[Evaluation]) -> Any:
        return (
            (model.change_number == self.change)
            & (model.patch_set_number == self.patch_set)
            & (model.policy_digest == self.digest)
            & (model.purpose == self.purpose)
        )


def review_change(
    change: int | str,
    *,
    client: GerritClient,
    engine_or_session: Engine | Session | None,
    policy: Policy,
    now: dt.datetime,
    dry_run: bool = False,
    docs_base: str = DEFAULT_DOCS_BASE,
    revision: int | str | None = None,
    mirror: GitMirror | None = None,
) -> ReviewOutcome:
    """Review ``change`` (a number or ``project~number``) once per patch set and policy.

    ``revision`` (a patch set number or commit SHA) reviews that patch set instead of
    the current one; it gets no vote unless it is current. ``dry_run`` reads Gerrit
    (and the database, if given) but writes nothing: the outcome carries the
    ReviewInput that would be posted. ``now`` is the time recorded in the database.
    """
    db = engine_or_session
    if db is None and not dry_run:
        raise ValueError("review_change needs a database unless dry_run")
    config = policy.review
    options = CHANGE_OPTIONS if revision is None else ALL_REVISIONS_OPTIONS
    info = client.change(change, options=options)
    target = _target(info, revision)
    number, ps = info.number, target.number
    where = f"change={number} ps={ps}"

    if db is not None and not dry_run:
        with _unit(db) as session:
            _record_change(session, info, target, now)

    skip = _skip(info, target, config.skip_wip, config.skip_private)
    if skip is not None:
        status, reason = skip
        LOG.info("%s: %s: %s", where, status, reason)
        return ReviewOutcome(number, ps, status, reason=reason, revision=target.sha)

    key = _Key(number, ps, policy.digest, config.purpose)
    took_over = False
    if not dry_run:
        assert db is not None
        done = _already_posted(db, key, info.messages, config.tag, now)
        if done is not None:
            LOG.info("%s: review already posted (%s)", where, done)
            return ReviewOutcome(
                number, ps, ReviewStatus.ALREADY_POSTED, reason=done, revision=target.sha
            )
        with _unit(db) as session:
            skipped = session.scalar(
                select(Evaluation.detail).where(
                    key.where(Evaluation), Evaluation.status == EvaluationStatus.SKIPPED
                )
            )
        if skipped is not None:
            return ReviewOutcome(
                number, ps, ReviewStatus.NO_SPECS, reason=skipped, revision=target.sha
            )

    specs = change_specs(
        client,
        info,
        globs=policy.spec_globs,
        mirror=mirror,
        revision=None if revision is None else target.sha,
    )
    if not specs.files:
        reason = "the patch set changes no file matching the policy's spec globs"
        LOG.info("%s: no specs: %s", where, reason)
        if db is not None and not dry_run:
            with _unit(db) as session:
                _record_skipped(session, key, reason, now)
        return ReviewOutcome(number, ps, ReviewStatus.NO_SPECS, reason=reason, revision=target.sha)

    if not dry_run:
        assert db is not None
        took_over = _reserve(db, key, config.tag, now)
    try:
        report = check_pairs(_pairs(specs), policy=policy, today=now.date(), docs_base=docs_base)
        findings = tuple(f.with_fingerprint() for f in report.findings)
        evaluation_id = None
        if db is not None and not dry_run:
            with _unit(db) as session:
                evaluation_id = _record_evaluation(session, key, findings, now)
        carried = _carried(client, db, info, key, config.tag, config)

        labels = render.review_vote(findings, policy)
        vote, notes = _may_vote(info, labels, config.vote.label if config.vote else None)
        fresh = info
        if not dry_run and ((labels and vote) or took_over):
            # The last look: a newer patch set, a closed change, or the review itself
            # (posted by the attempt whose reservation we took over).
            fresh = client.change(number, options=RECHECK_OPTIONS)
            if not fresh.is_open:
                _release(db, key)
                reason = f"the change was {fresh.status.lower()} while it was checked"
                LOG.info("%s: %s", where, reason)
                return _outcome(number, ps, ReviewStatus.SKIPPED_CLOSED, findings, reason, target)
            if _find_posted(fresh.messages, key, config.tag) is not None:
                assert db is not None
                done = _already_posted(
                    db, key, fresh.messages, config.tag, now, evaluation_id=evaluation_id
                )
                return _outcome(
                    number, ps, ReviewStatus.ALREADY_POSTED, findings, done or "", target
                )
        current = fresh.current
        if labels and vote and current is not None and current.number != ps:
            vote = False
            notes.append(
                f"No vote: patch set {current.number} was uploaded after this one; "
                "it is reviewed on its own."
            )
        review = render.review_input(
            findings,
            files_in_revision=specs.changed,
            policy=policy,
            docs_base=docs_base,
            patch_set=ps,
            carried=carried,
            vote=vote,
            audiences=report.classifications,
            notes=notes,
        )
        if dry_run:
            return _outcome(number, ps, ReviewStatus.DRY_RUN, findings, "", target, review)

        assert db is not None
        try:
            review = _post(client, info, target, review, findings, policy, report, docs_base)
        except ChangeClosed as exc:
            _release(db, key)
            LOG.info("%s: change closed while posting: %s", where, exc)
            return _outcome(number, ps, ReviewStatus.SKIPPED_CLOSED, findings, str(exc), target)
        with _unit(db) as session:
            _record_posted(session, key, evaluation_id, review, now)
    except BaseException:
        if db is not None and not dry_run:
            _release(db, key)
        raise

    LOG.info(
        "%s: posted review: %d findings, %d inline comments, vote %s",
        where,
        len(findings),
        sum(len(v) for v in review.get("comments", {}).values()),
        review.get("labels") or "none",
    )
    return _outcome(number, ps, ReviewStatus.POSTED, findings, "", target, review)


# --- steps -------------------------------------------------------------------------------


def _target(info: ChangeInfo, revision: int | str | None) -> RevisionInfo:
    """The revision to review: the current one, or the one asked for."""
    if revision is None:
        found = info.current
    else:
        text = str(revision)
        found = info.revision(int(text)) if text.isdigit() and len(text) < 7 else None
        if found is None:
            found = next((r for sha, r in info.revisions.items() if sha.startswith(text)), None)
    if found is None:
        raise GerritNotFound(
            f"change {info.number} has no revision {revision or 'current'}",
            status=404,
            change=info.number,
        )
    return found


def _skip(
    info: ChangeInfo, target: RevisionInfo, skip_wip: bool, skip_private: bool
) -> tuple[ReviewStatus, str] | None:
    if not info.is_open:
        return ReviewStatus.SKIPPED_CLOSED, f"the change is {info.status.lower()}"
    if info.work_in_progress and skip_wip:
        return ReviewStatus.SKIPPED_WIP, "work in progress (the policy skips WIP changes)"
    if info.is_private and skip_private:
        return ReviewStatus.SKIPPED_PRIVATE, "private (the policy skips private changes)"
    return None


def _pairs(specs: ChangeSpecs) -> list[tuple[SpecSource | None, SpecSource | None]]:
    """(base, head) per changed spec: added (no base), deleted (no head), renamed."""
    pairs: list[tuple[SpecSource | None, SpecSource | None]] = []
    for c in specs.files:
        base = SpecSource(c.old_path, specs.base) if c.old_path else None
        head = SpecSource(c.new_path, specs.head) if c.new_path else None
        pairs.append((base, head))
    return pairs


def _may_vote(
    info: ChangeInfo, labels: Mapping[str, int], label: str | None
) -> tuple[bool, list[str]]:
    """Whether the vote can be sent to this change's project; notes saying why not."""
    if not labels or label is None:
        return False, []
    value = labels[label]
    known = info.labels.get(label)
    if known is None:
        return False, [f"No vote: this project has no {label} label."]
    if known.values and value not in known.values:
        return False, [f"No vote: {label} has no value {value:+d} on this project."]
    return True, []


def _post(
    client: GerritClient,
    info: ChangeInfo,
    target: RevisionInfo,
    review: dict[str, Any],
    findings: Sequence[Finding],
    policy: Policy,
    report: Report,
    docs_base: str,
) -> dict[str, Any]:
    """POST the review on the exact revision; once more, smaller, if Gerrit refuses it.

    A 400 or 403 means Gerrit applied nothing, so a second POST cannot duplicate.
    """
    where = f"change={info.number} ps={target.number}"
    try:
        client.review(info, target.sha, review)
        return review
    except GerritBadRequest as exc:
        if not review.get("comments") and not review.get("labels"):
            raise
        LOG.warning("%s: Gerrit refused the review (%s); posting the summary alone", where, exc)
        reason = render.fit_utf8((exc.body or str(exc)).strip(), 1000, " …")
        note = (
            f"Gerrit refused the inline comments and the vote ({reason}); "
            "the findings are listed here instead."
        )
        files: tuple[str, ...] = ()
    except GerritAuthError as exc:
        if exc.status != 403 or not review.get("labels"):
            raise  # 401: the credentials themselves; nothing a smaller review changes
        LOG.warning("%s: Gerrit refused the vote (%s); posting without it", where, exc)
        reason = render.fit_utf8((exc.body or str(exc)).strip(), 1000, " …")
        note = f"No vote: Gerrit refused it ({reason})."
        files = tuple(review.get("comments", {}))
    smaller = render.review_input(
        findings,
        files_in_revision=files,
        policy=policy,
        docs_base=docs_base,
        patch_set=target.number,
        vote=False,
        audiences=report.classifications,
        notes=[note],
    )
    client.review(info, target.sha, smaller)
    return smaller


def _outcome(
    number: int,
    ps: int,
    status: ReviewStatus,
    findings: Sequence[Finding],
    reason: str,
    target: RevisionInfo,
    review: Mapping[str, Any] | None = None,
) -> ReviewOutcome:
    return ReviewOutcome(number, ps, status, review, tuple(findings), reason, target.sha)


# --- what was posted before --------------------------------------------------------------


def _find_posted(
    messages: Sequence[ChangeMessageInfo], key: _Key, tag: str
) -> ChangeMessageInfo | None:
    """The change message of this review on Gerrit: the tag, the patch set, the marker."""
    for m in messages:
        if (
            m.tag == tag
            and m.revision_number == key.patch_set
            and render.has_policy_marker(m.message, key.digest)
        ):
            return m
    return None


def _already_posted(
    db: Engine | Session,
    key: _Key,
    messages: Sequence[ChangeMessageInfo],
    tag: str,
    now: dt.datetime,
    *,
    evaluation_id: int | None = None,
) -> str | None:
    """Why this review needs no posting (recorded, or found on Gerrit), else None."""
    with _unit(db) as session:
        row = session.scalar(select(PostedReview).where(key.where(PostedReview)))
        if row is not None and row.posted_at is not None:
            return f"posted at {row.posted_at.isoformat()}"
        found = _find_posted(messages, key, tag)
        if found is None:
            return None
        # Posted, but not recorded: a crash (or a lost answer) between POST and record,
        # or a database that was lost. Record it now; never post it again.
        posted_at = found.date or now
        if row is None:
            insert_ignore(
                session,
                PostedReview,
                {
                    "change_number": key.change,
                    "patch_set_number": key.patch_set,
                    "policy_digest": key.digest,
                    "purpose": key.purpose,
                    "tag": tag,
                    "reserved_at": posted_at,
                },
                conflict=_KEY_COLUMNS,
            )
        session.execute(
            update(PostedReview)
            .where(key.where(PostedReview), PostedReview.posted_at.is_(None))
            .values(
                posted_at=posted_at,
                gerrit_message_id=found.id,
                **({"evaluation_id": evaluation_id} if evaluation_id is not None else {}),
            )
        )
        LOG.info(
            "change=%s ps=%s: found the review on Gerrit (message %s); recorded",
            key.change,
            key.patch_set,
            found.id,
        )
        return f"found on Gerrit (message {found.id})"


def _carried(
    client: GerritClient,
    db: Engine | Session | None,
    info: ChangeInfo,
    key: _Key,
    tag: str,
    config: ReviewConfig,
) -> frozenset[str]:
    """Fingerprints of findings already posted as inline comments on this change.

    From the database (the findings of every posted review of this change and purpose,
    at or above the inline threshold) and from Gerrit (the markers in the bot's
    comments), so that either one alone is enough.
    """
    found: set[str] = set()
    if db is not None:
        # The findings that were eligible for an inline comment when they were posted
        # (by today's thresholds: the database does not keep which ones were).
        severities = [s for s in Severity if s.rank >= config.min_severity_inline.rank]
        query = (
            select(FindingRecord.fingerprint)
            .join(Evaluation, FindingRecord.evaluation_id == Evaluation.id)
            .join(PostedReview, PostedReview.evaluation_id == Evaluation.id)
            .where(
                Evaluation.change_number == key.change,
                Evaluation.purpose == key.purpose,
                PostedReview.posted_at.is_not(None),
                FindingRecord.severity.in_(severities),
            )
        )
        if not config.inline_existing:
            query = query.where(FindingRecord.scope != "existing")
        with _unit(db, commit=False) as session:
            found.update(session.scalars(query))
    # The bot's comments exist only if one of its reviews does: skip the call otherwise.
    if any(m.tag == tag for m in info.messages):
        for comments in client.comments(info).values():
            for c in comments:
                mine = c.tag == tag or (
                    c.author is not None
                    and client.username is not None
                    and c.author.username == client.username
                )
                if mine:
                    found.update(render.finding_fingerprints(c.message))
    return frozenset(found)


# --- the database ------------------------------------------------------------------------

_KEY_COLUMNS = ("change_number", "patch_set_number", "policy_digest", "purpose")


@contextlib.contextmanager
def _unit(db: Engine | Session, *, commit: bool = True) -> Iterator[Session]:
    """One unit of work on an engine (its own session) or on the caller's session."""
    if isinstance(db, Session):
        try:
            yield db
            if commit:
                db.commit()
        except BaseException:
            db.rollback()
            raise
        return
    with session_scope(db) as session:
        yield session


def _record_change(
    session: Session, info: ChangeInfo, target: RevisionInfo, now: dt.datetime
) -> None:
    """Upsert the project, the change (as Gerrit shows it now) and the patch set."""
    insert_ignore(session, Project, {"name": info.project, "created_at": now}, conflict=["name"])
    project_id = session.scalar(select(Project.id).where(Project.name == info.project))
    current = info.current
    owner = info.owner
    values = {
        "project_id": project_id,
        "branch": info.branch,
        "change_id": info.change_id,
        "subject": info.subject,
        "owner_account_id": owner.account_id if owner else None,
        "owner_name": (owner.name or owner.username) if owner else None,
        "status": info.status,
        "wip": info.work_in_progress,
        "private": info.is_private,
        "current_patch_set": current.number if current else info.current_revision_number,
        "created": info.created or now,
        "updated": info.updated or now,
        "synced_at": now,
    }
    if not insert_ignore(session, Change, {"number": info.number, **values}, conflict=["number"]):
        session.execute(update(Change).where(Change.number == info.number).values(**values))
    parent = target.commit.parents[0].commit if target.commit and target.commit.parents else None
    insert_ignore(
        session,
        PatchSet,
        {
            "change_number": info.number,
            "number": target.number,
            "revision": target.sha,
            "parent_revision": parent,
            "kind": target.kind,
            "uploaded": target.created or now,
        },
        conflict=["change_number", "number"],
    )


def _record_skipped(session: Session, key: _Key, reason: str, now: dt.datetime) -> None:
    insert_ignore(
        session,
        Evaluation,
        {
            "change_number": key.change,
            "patch_set_number": key.patch_set,
            "policy_digest": key.digest,
            "purpose": key.purpose,
            "status": EvaluationStatus.SKIPPED,
            "detail": reason,
            "started_at": now,
            "finished_at": now,
        },
        conflict=_KEY_COLUMNS,
    )


def _record_evaluation(
    session: Session, key: _Key, findings: Sequence[Finding], now: dt.datetime
) -> int:
    """Store the evaluation and its findings (replacing those of an earlier attempt)."""
    evaluation = session.scalar(select(Evaluation).where(key.where(Evaluation)))
    if evaluation is None:
        evaluation = Evaluation(
            change_number=key.change,
            patch_set_number=key.patch_set,
            policy_digest=key.digest,
            purpose=key.purpose,
        )
        session.add(evaluation)
    else:
        session.execute(delete(FindingRecord).where(FindingRecord.evaluation_id == evaluation.id))
    evaluation.status = EvaluationStatus.SUCCEEDED
    evaluation.detail = None
    evaluation.started_at = now
    evaluation.finished_at = now
    counts = {s: sum(1 for f in findings if f.severity is s) for s in Severity}
    evaluation.error_count = counts[Severity.ERROR]
    evaluation.warning_count = counts[Severity.WARNING]
    evaluation.info_count = counts[Severity.INFO]
    session.flush()
    session.add_all(
        FindingRecord(
            evaluation_id=evaluation.id,
            rule=f.rule,
            name=f.name,
            severity=f.severity,
            audience=f.audience,
            file=f.file,
            line=f.line,
            pointer=f.pointer,
            message=f.message,
            fingerprint=f.fingerprint,
            side=f.side,
            scope=f.scope,
        )
        for f in findings
    )
    return evaluation.id


def _reserve(db: Engine | Session, key: _Key, tag: str, now: dt.datetime) -> bool:
    """Reserve the review for this process; True when an earlier reservation was taken over.

    Raises :class:`ReviewInProgress` while another process's reservation is fresh.
    """
    with _unit(db) as session:
        values = {
            "change_number": key.change,
            "patch_set_number": key.patch_set,
            "policy_digest": key.digest,
            "purpose": key.purpose,
            "tag": tag,
            "reserved_at": now,
        }
        if insert_ignore(session, PostedReview, values, conflict=_KEY_COLUMNS):
            return False
        # Taken over only when its lease ran out: one UPDATE, so one process wins.
        taken = session.execute(
            update(PostedReview)
            .where(
                key.where(PostedReview),
                PostedReview.posted_at.is_(None),
                PostedReview.reserved_at <= now - RESERVATION_LEASE,
            )
            .values(reserved_at=now)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return True
    raise ReviewInProgress(
        f"change {key.change} patch set {key.patch_set}: another govbot process is posting "
        "this review; try again later"
    )


def _release(db: Engine | Session | None, key: _Key) -> None:
    """Give up an unposted reservation, so the next attempt need not wait for its lease.

    The next attempt looks for the review on Gerrit before posting, so a POST that
    Gerrit applied although it answered with an error is not repeated.
    """
    if db is None:
        return
    with _unit(db) as session:
        session.execute(
            delete(PostedReview).where(key.where(PostedReview), PostedReview.posted_at.is_(None))
        )


def _record_posted(
    session: Session,
    key: _Key,
    evaluation_id: int | None,
    review: Mapping[str, Any],
    now: dt.datetime,
) -> None:
    labels = review.get("labels") or {}
    label, value = next(iter(labels.items())) if labels else (None, None)
    session.execute(
        update(PostedReview)
        .where(key.where(PostedReview))
        .values(posted_at=now, evaluation_id=evaluation_id, vote_label=label, vote_value=value)
    )


__all__ = [
    "ReviewInProgress",
    "ReviewOutcome",
    "ReviewStatus",
    "review_change",
]
