"""What govbot remembers: SQLAlchemy 2 typed models.

Keys follow Gerrit where Gerrit's are stable: a change is its number (one Gerrit per
deployment), a patch set is (change number, patch-set number). Every time is a
timezone-aware UTC ``datetime`` on both databases (see :class:`UTCDateTime`).

The column types and enumerations are in :mod:`govbot.db.types` (re-exported here).
The schema is created by the Alembic migrations in :mod:`govbot.migrations`, never by
``create_all``; ``tests/db`` checks that the two agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from govbot.db.types import (
    NAMING_CONVENTION,
    SHA_LENGTH,
    Deflated,
    EscalationStage,
    EvaluationStatus,
    UTCDateTime,
    WorkState,
    str_enum,
    utcnow,
)
from govbot.findings import Audience, Scope, Severity, Side


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads this class attribute)
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        Severity: str_enum(Severity, "severity"),
        Audience: str_enum(Audience, "audience"),
        WorkState: str_enum(WorkState, "state"),
        EvaluationStatus: str_enum(EvaluationStatus, "status"),
        EscalationStage: str_enum(EscalationStage, "stage"),
        Side: str_enum(Side, "side", length=8),
        Scope: str_enum(Scope, "scope", length=8),
    }


# A 64-bit key on PostgreSQL for tables that grow without bound; on SQLite only
# "INTEGER PRIMARY KEY" is the auto-incrementing rowid (and it is 64-bit anyway).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Project(Base):
    """A Gerrit project ("openstack/compute-api")."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    # Deleting is left to the database's ON DELETE CASCADE (passive_deletes).
    changes: Mapped[list[Change]] = relationship(
        back_populates="project", cascade="all, delete-orphan", passive_deletes=True
    )


class Change(Base):
    """A Gerrit change as last seen (ChangeInfo), keyed by its number."""

    __tablename__ = "changes"
    # An API's open changes, newest first, in index order (govbot.web.queries.apis).
    __table_args__ = (
        Index("ix_changes_project_id_status_updated", "project_id", "status", "updated"),
    )

    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    branch: Mapped[str] = mapped_column(String(255))
    # Gerrit's Change-Id footer ("I8473b9..."), ChangeInfo.change_id; not unique across
    # branches (cherry-picks keep it).
    change_id: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(Text)
    owner_account_id: Mapped[int | None]
    owner_name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # NEW, MERGED, ABANDONED (as Gerrit says)
    wip: Mapped[bool] = mapped_column(default=False)
    private: Mapped[bool] = mapped_column(default=False)
    current_patch_set: Mapped[int | None]
    # Gerrit's own times (ChangeInfo.created / .updated); ``updated`` moves on any write,
    # the bot's included, so it is no measure of human activity.
    created: Mapped[dt.datetime]
    updated: Mapped[dt.datetime] = mapped_column(index=True)
    synced_at: Mapped[dt.datetime] = mapped_column(default=utcnow)  # when govbot last read it

    project: Mapped[Project] = relationship(back_populates="changes")
    patch_sets: Mapped[list[PatchSet]] = relationship(
        back_populates="change",
        order_by="PatchSet.number",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class PatchSet(Base):
    """One revision of a change (RevisionInfo)."""

    __tablename__ = "patch_sets"

    change_number: Mapped[int] = mapped_column(
        ForeignKey("changes.number", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    revision: Mapped[str] = mapped_column(String(SHA_LENGTH), index=True)
    parent_revision: Mapped[str | None] = mapped_column(String(SHA_LENGTH))  # first parent
    kind: Mapped[str | None] = mapped_column(String(32))  # REWORK, TRIVIAL_REBASE, ...
    uploaded: Mapped[dt.datetime]  # RevisionInfo.created

    change: Mapped[Change] = relationship(back_populates="patch_sets")


class Evaluation(Base):
    """One run of the engine on one patch set under one policy version, for one purpose."""

    __tablename__ = "evaluations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["change_number", "patch_set_number"],
            ["patch_sets.change_number", "patch_sets.number"],
            ondelete="CASCADE",
        ),
        UniqueConstraint(
            "change_number",
            "patch_set_number",
            "policy_digest",
            "purpose",
            name="uq_evaluations_change_ps_digest_purpose",
        ),
        CheckConstraint(
            "error_count >= 0 AND warning_count >= 0 AND info_count >= 0", name="counts"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    change_number: Mapped[int]
    patch_set_number: Mapped[int]
    policy_digest: Mapped[str] = mapped_column(String(64))  # Policy.digest (sha256 hex)
    purpose: Mapped[str] = mapped_column(String(64))  # "api-review": the tag's last part
    status: Mapped[EvaluationStatus] = mapped_column(default=EvaluationStatus.RUNNING)
    detail: Mapped[str | None] = mapped_column(Text)  # why skipped / the error that failed it
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    error_count: Mapped[int] = mapped_column(default=0)
    warning_count: Mapped[int] = mapped_column(default=0)
    info_count: Mapped[int] = mapped_column(default=0)

    patch_set: Mapped[PatchSet] = relationship()
    findings: Mapped[list[FindingRecord]] = relationship(
        back_populates="evaluation",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="FindingRecord.id",
    )


class FindingColumns:
    """The columns of a stored :class:`govbot.findings.Finding`, shared by the finding tables."""

    rule: Mapped[str] = mapped_column(String(16))  # "DEP001"
    name: Mapped[str] = mapped_column(String(100))  # "removed-without-deprecation"
    severity: Mapped[Severity]
    audience: Mapped[Audience | None]
    file: Mapped[str] = mapped_column(Text)
    line: Mapped[int | None]
    pointer: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    # Finding.with_fingerprint(): the same finding on another patch set has the same one.
    fingerprint: Mapped[str] = mapped_column(String(64))


class FindingRecord(FindingColumns, Base):
    """A :class:`govbot.findings.Finding` as produced by one evaluation."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(
        ForeignKey("evaluations.id", ondelete="CASCADE"), index=True
    )
    # Indexed: a finding already posted (by fingerprint) is not posted again as a new thread.
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    side: Mapped[Side] = mapped_column(default=Side.HEAD)
    scope: Mapped[Scope] = mapped_column(default=Scope.NEW)

    evaluation: Mapped[Evaluation] = relationship(back_populates="findings")


class PostedReview(Base):
    """A review govbot posted (or is posting) on Gerrit: at most one per identity.

    The identity (change, patch set, policy digest, purpose) is unique, so inserting
    this row *before* posting reserves the post across processes and restarts:
    ``posted_at`` stays NULL until Gerrit accepted it. A row left NULL by a crash is
    settled by reconciling with the change's messages (by tag) before posting again.
    """

    __tablename__ = "posted_reviews"
    __table_args__ = (
        ForeignKeyConstraint(
            ["change_number", "patch_set_number"],
            ["patch_sets.change_number", "patch_sets.number"],
            ondelete="CASCADE",
        ),
        UniqueConstraint(
            "change_number",
            "patch_set_number",
            "policy_digest",
            "purpose",
            name="uq_posted_reviews_change_ps_digest_purpose",
        ),
        CheckConstraint("(vote_label IS NULL) = (vote_value IS NULL)", name="vote"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Kept when the evaluation is pruned; NULL for a review found only on Gerrit.
    evaluation_id: Mapped[int | None] = mapped_column(
        ForeignKey("evaluations.id", ondelete="SET NULL"), index=True
    )
    change_number: Mapped[int]
    patch_set_number: Mapped[int]
    policy_digest: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(64))
    tag: Mapped[str] = mapped_column(String(255))  # "autogenerated:govbot:api-review"
    reserved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    posted_at: Mapped[dt.datetime | None]
    gerrit_message_id: Mapped[str | None] = mapped_column(String(64))  # ChangeMessageInfo.id
    vote_label: Mapped[str | None] = mapped_column(String(64))
    vote_value: Mapped[int | None] = mapped_column(SmallInteger)

    evaluation: Mapped[Evaluation | None] = relationship()


# The predicates of the partial unique indexes on work_items. ``enqueue`` repeats the
# queued one literally in ON CONFLICT: PostgreSQL matches the index by its predicate,
# which a bound parameter would not match.
QUEUED_ONLY = "state = 'queued'"
CLAIMED_ONLY = "state = 'claimed'"


class WorkItem(Base):
    """A unit of work in the shared queue (see :mod:`govbot.db.queue`).

    ``(kind, key)`` names the work ("recheck-change", "change:1234"); the payload is a
    hint. At most one item per (kind, key) is queued and at most one is claimed, which
    two partial unique indexes guarantee on both databases.
    """

    __tablename__ = "work_items"
    __table_args__ = (
        Index(
            "uq_work_items_kind_key_queued",
            "kind",
            "key",
            unique=True,
            sqlite_where=text(QUEUED_ONLY),
            postgresql_where=text(QUEUED_ONLY),
        ),
        Index(
            "uq_work_items_kind_key_claimed",
            "kind",
            "key",
            unique=True,
            sqlite_where=text(CLAIMED_ONLY),
            postgresql_where=text(CLAIMED_ONLY),
        ),
        Index("ix_work_items_state_not_before", "state", "not_before"),
        CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="attempts"),
        CheckConstraint(
            "state <> 'claimed' OR (claimed_by IS NOT NULL AND lease_until IS NOT NULL)",
            name="lease",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[WorkState] = mapped_column(default=WorkState.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)  # claims so far
    max_attempts: Mapped[int] = mapped_column(default=5)
    not_before: Mapped[dt.datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_at: Mapped[dt.datetime | None]
    lease_until: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PollCursor(Base):
    """How far the poll of one project/branch has read (Gerrit's ``updated``)."""

    __tablename__ = "poll_cursors"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    branch: Mapped[str] = mapped_column(String(255), primary_key=True)
    last_updated: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# --- escalation of stale reviews, the TC digest, job leases (migration 0002) --------------


class Escalation(Base):
    """One step of the escalation of one waiting episode of a change.

    An episode is named by its clock start (``episode_start``): a new episode begins
    when the owner makes the change ready again after a review. The unique key
    (change, episode, stage) is reserved *before* govbot writes to Gerrit, so each step
    happens once across processes and restarts; ``acted_at`` stays NULL until Gerrit
    accepted it. ``resolved_at``/``resolution`` are set on every row of the episode when
    it ends (reviewed, merged, abandoned, WIP, opted out, ...).
    """

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint(
            "change_number", "episode_start", "stage", name="uq_escalations_change_episode_stage"
        ),
        Index("ix_escalations_assignee_resolved_at", "assignee", "resolved_at"),
        Index("ix_escalations_resolved_at", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    change_number: Mapped[int]
    project: Mapped[str] = mapped_column(String(255))
    branch: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(255), default="")
    episode_start: Mapped[dt.datetime]  # the clock start of the waiting episode
    stage: Mapped[EscalationStage]
    assignee: Mapped[str] = mapped_column(String(255))  # Gerrit username of the TC member
    assignee_account_id: Mapped[int | None]
    reason: Mapped[str] = mapped_column(Text)  # why this member was picked
    attention_reason: Mapped[str | None] = mapped_column(Text)  # as shown in Gerrit
    waited_days: Mapped[float] = mapped_column(Float)  # in the policy's day mode, at the step
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    acted_at: Mapped[dt.datetime | None]
    resolved_at: Mapped[dt.datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(32))  # reviewed, merged, ...
    resolved_by: Mapped[str | None] = mapped_column(String(255))  # the reviewer, if reviewed
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)  # what was done on Gerrit


class TCMember(Base):
    """What govbot knows about a TC member beyond Gerrit: away until, own capacity."""

    __tablename__ = "tc_members"

    username: Mapped[str] = mapped_column(String(255), primary_key=True)
    away_until: Mapped[dt.datetime | None]
    capacity: Mapped[int | None]  # open escalations at most; NULL: the policy's cap
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DigestRecord(Base):
    """An archived TC digest, as built (and when and to whom it was sent)."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[dt.datetime]
    period_end: Mapped[dt.datetime] = mapped_column(index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    recipients: Mapped[str | None] = mapped_column(Text)  # comma-separated
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the JSON form


class JobLease(Base):
    """Who runs a scheduled job now, and the last slot it ran for (``govbot.db.leases``)."""

    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255))
    lease_until: Mapped[dt.datetime]
    slot: Mapped[dt.datetime | None]  # the scheduled time the last run was for
    last_run_at: Mapped[dt.datetime | None]  # when a run last finished


__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "Change",
    "DigestRecord",
    "Escalation",
    "EscalationStage",
    "Evaluation",
    "EvaluationStatus",
    "FindingRecord",
    "JobLease",
    "PatchSet",
    "PollCursor",
    "PostedReview",
    "Project",
    "TCMember",
    "UTCDateTime",
    "WorkItem",
    "WorkState",
    "utcnow",
]


# --- API health: snapshots of merged specs, blueprints, the review queue, dashboard admin
# --- actions (migration 0003) ----------------------------------------------------------------


class ApiSpec(Base):
    """One API: a spec file on a project's branch, with the health of its latest snapshot.

    The counts are copied from the latest snapshot (by merge time) so that the overview
    of every API is one indexed read, however long the history.
    """

    __tablename__ = "api_specs"
    __table_args__ = (
        UniqueConstraint("project", "branch", "file", name="uq_api_specs_project_branch_file"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project: Mapped[str] = mapped_column(String(255))
    branch: Mapped[str] = mapped_column(String(255))
    file: Mapped[str] = mapped_column(String(1024))
    title: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[str] = mapped_column(String(255), default="")
    audience: Mapped[Audience]
    latest_snapshot_id: Mapped[int | None]  # api_snapshots.id (no FK: the two refer to each other)
    commit: Mapped[str] = mapped_column(String(SHA_LENGTH))
    merged_at: Mapped[dt.datetime]
    indexed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ops_external: Mapped[int] = mapped_column(default=0)
    ops_external_admin: Mapped[int] = mapped_column(default=0)
    ops_internal: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    warnings: Mapped[int] = mapped_column(default=0)
    infos: Mapped[int] = mapped_column(default=0)
    deprecated: Mapped[int] = mapped_column(default=0)
    next_sunset: Mapped[dt.date | None]  # the nearest sunset among its deprecations
    problem: Mapped[str | None] = mapped_column(Text)  # the latest version could not be loaded


class ApiSnapshot(Base):
    """An API as merged at one commit: its surface by audience and its findings by severity."""

    __tablename__ = "api_snapshots"
    __table_args__ = (
        UniqueConstraint("api_id", "commit", name="uq_api_snapshots_api_id_commit"),
        Index("ix_api_snapshots_api_id_merged_at", "api_id", "merged_at"),
        Index("ix_api_snapshots_api_id_operations_digest", "api_id", "operations_digest"),
        Index("ix_api_snapshots_api_id_findings_digest", "api_id", "findings_digest"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    api_id: Mapped[int] = mapped_column(ForeignKey("api_specs.id", ondelete="CASCADE"))
    project: Mapped[str] = mapped_column(String(255))
    branch: Mapped[str] = mapped_column(String(255))
    file: Mapped[str] = mapped_column(String(1024))
    commit: Mapped[str] = mapped_column(String(SHA_LENGTH))
    merged_at: Mapped[dt.datetime]  # the commit's time on the branch (committer date)
    change_number: Mapped[int | None]  # the Gerrit change that merged it, when known
    indexed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    title: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[str] = mapped_column(String(255), default="")
    audience: Mapped[Audience]
    ops_external: Mapped[int] = mapped_column(default=0)
    ops_external_admin: Mapped[int] = mapped_column(default=0)
    ops_internal: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    warnings: Mapped[int] = mapped_column(default=0)
    infos: Mapped[int] = mapped_column(default=0)
    deprecated: Mapped[int] = mapped_column(default=0)
    policy_digest: Mapped[str] = mapped_column(String(64), default="")
    # Every file the spec was read from ($refs included): path -> spec_documents.digest.
    documents: Mapped[dict[str, Any]] = mapped_column(default=dict)
    problem: Mapped[str | None] = mapped_column(Text)
    # The api_operations rows are stored once per content of the API's operations: a
    # snapshot whose rows would be an earlier snapshot's, row for row (most commits of
    # a history leave every operation as it was), reads that snapshot's
    # (operations_of; None: its own). operations_digest (SHA-256 of the rows) finds it.
    operations_digest: Mapped[str] = mapped_column(String(64), default="", server_default="")
    operations_of: Mapped[int | None]  # api_snapshots.id (no FK: of the same API)
    # Its snapshot_findings rows likewise: a snapshot whose findings would be an earlier
    # snapshot's, row for row (placed on the same lines), reads that one's.
    findings_digest: Mapped[str] = mapped_column(String(64), default="", server_default="")
    findings_of: Mapped[int | None]  # api_snapshots.id (no FK: of the same API)


class SnapshotFinding(FindingColumns, Base):
    """A finding on a merged spec (a snapshot), as ``govbot check`` reports it."""

    __tablename__ = "snapshot_findings"
    __table_args__ = (
        Index("ix_snapshot_findings_snapshot_id_id", "snapshot_id", "id"),
        Index("ix_snapshot_findings_snapshot_id_severity_id", "snapshot_id", "severity", "id"),
        Index("ix_snapshot_findings_snapshot_id_rule_id", "snapshot_id", "rule", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("api_snapshots.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)


class ApiOperation(Base):
    """An operation of a snapshot, with its audience and the evidence that decided it."""

    __tablename__ = "api_operations"
    __table_args__ = (Index("ix_api_operations_snapshot_id_id", "snapshot_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("api_snapshots.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(Text)  # "GET /servers/{}": stable across versions
    method: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(Text)
    operation_id: Mapped[str | None] = mapped_column(Text)
    audience: Mapped[Audience]
    source: Mapped[str] = mapped_column(String(64))  # x-audience, policy:<key>, default ...
    evidence: Mapped[str] = mapped_column(Text)
    evidence_file: Mapped[str] = mapped_column(Text, default="")
    evidence_pointer: Mapped[str] = mapped_column(Text, default="")
    deprecated: Mapped[bool] = mapped_column(default=False)


class ApiDeprecation(Base):
    """A deprecated operation of a snapshot: its sunset (``x-sunset``) and replacement."""

    __tablename__ = "api_deprecations"
    __table_args__ = (Index("ix_api_deprecations_snapshot_id_sunset", "snapshot_id", "sunset"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("api_snapshots.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(Text)
    operation: Mapped[str] = mapped_column(Text)  # "DELETE /os-keypairs/{id}"
    audience: Mapped[Audience]
    sunset: Mapped[dt.date | None]
    sunset_raw: Mapped[str | None] = mapped_column(String(255))  # as written, when unparsable
    replacement: Mapped[str | None] = mapped_column(Text)
    # When it was first seen deprecated in this API's history (a merge time).
    deprecated_since: Mapped[dt.datetime]


class SpecDocument(Base):
    """The bytes of one spec file version, by content digest (shared by every snapshot).

    A version may be kept as its difference from another one (``base``, the previous
    version indexed): its first ``head`` and last ``tail`` bytes are the base's, and
    ``content`` is what lies between. ``depth`` counts the bases under it, which stays
    small (a version is kept whole every so often), so that reading one back
    (:mod:`govbot.db.documents`) never follows a long chain.
    """

    __tablename__ = "spec_documents"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex
    content: Mapped[bytes] = mapped_column(Deflated)  # stored deflated, read back as written
    size: Mapped[int]  # as written
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    base: Mapped[str | None] = mapped_column(String(64), default=None)
    head: Mapped[int] = mapped_column(default=0, server_default="0")
    tail: Mapped[int] = mapped_column(default=0, server_default="0")
    depth: Mapped[int] = mapped_column(default=0, server_default="0")


class CrossFinding(FindingColumns, Base):
    """A cross-service inconsistency (CON080-CON099) among the latest external specs.

    Recomputed as a whole after each index run: the minority usage is reported on the
    API that has it, naming the majority's spec and line. ``file`` is
    ``"<project>/<path>"`` as checked.
    """

    __tablename__ = "cross_findings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    api_id: Mapped[int] = mapped_column(ForeignKey("api_specs.id", ondelete="CASCADE"), index=True)
    rule: Mapped[str] = mapped_column(String(16), index=True)
    computed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BlueprintVerdict(Base):
    """The use-case verdict of a merged design spec (its latest indexed version)."""

    __tablename__ = "blueprint_verdicts"
    __table_args__ = (
        UniqueConstraint(
            "project", "branch", "file", name="uq_blueprint_verdicts_project_branch_file"
        ),
        Index("ix_blueprint_verdicts_verdict_strength", "verdict", "strength"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project: Mapped[str] = mapped_column(String(255))
    branch: Mapped[str] = mapped_column(String(255))
    file: Mapped[str] = mapped_column(String(1024))
    title: Mapped[str] = mapped_column(Text, default="")
    commit: Mapped[str] = mapped_column(String(SHA_LENGTH))
    merged_at: Mapped[dt.datetime]
    indexed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    verdict: Mapped[str] = mapped_column(String(16))  # justified | unjustified | template
    strength: Mapped[str | None] = mapped_column(String(32))  # strong, good, unclear, missing-*
    section: Mapped[str | None] = mapped_column(Text)
    line: Mapped[int | None]
    evidence: Mapped[str] = mapped_column(Text, default="")
    words: Mapped[int] = mapped_column(default=0)
    rest_api_impact: Mapped[bool] = mapped_column(default=False)
    findings: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"items": [finding JSON]}


class IndexCursor(Base):
    """How far the index job has read the merged changes of one project/branch."""

    __tablename__ = "index_cursors"

    project: Mapped[str] = mapped_column(String(255), primary_key=True)
    branch: Mapped[str] = mapped_column(String(255), primary_key=True)
    last_updated: Mapped[dt.datetime]  # Gerrit's ``updated`` of the newest merged change read
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class BackfillCursor(Base):
    """How far the background backfill has walked one watched branch's history.

    The plan is fixed when it starts (the branch head then, and the newest ``planned``
    commits before it that touched a spec), so a restart resumes after ``last_commit``;
    a project added to the settings gets its own row at the next start.
    """

    __tablename__ = "backfill_cursors"

    project: Mapped[str] = mapped_column(String(255), primary_key=True)
    branch: Mapped[str] = mapped_column(String(255), primary_key=True)
    head: Mapped[str] = mapped_column(String(SHA_LENGTH))  # the branch head the plan starts at
    depth: Mapped[int] = mapped_column(default=0)  # backfill_depth when it was planned
    planned: Mapped[int] = mapped_column(default=0)  # commits to index
    done: Mapped[int] = mapped_column(default=0)  # of those, indexed so far
    last_commit: Mapped[str | None] = mapped_column(String(SHA_LENGTH))
    error: Mapped[str | None] = mapped_column(Text)  # the last failure, one line
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]


class QueueState(Base):
    """The review-queue state of an open change, as the last escalation pass assessed it."""

    __tablename__ = "review_queue"
    __table_args__ = (
        Index("ix_review_queue_state_waited_days", "state", "waited_days"),
        Index("ix_review_queue_project", "project"),
        # The longest-waiting changes first without sorting the queue (dashboard).
        Index("ix_review_queue_waited_days", "waited_days"),
    )

    change_number: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    project: Mapped[str] = mapped_column(String(255))
    branch: Mapped[str] = mapped_column(String(255), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(255), default="")
    state: Mapped[str] = mapped_column(String(16))  # stale | at-risk | waiting | skipped
    skip_reason: Mapped[str | None] = mapped_column(String(32))
    waited_days: Mapped[float] = mapped_column(Float, default=0.0)
    clock_start: Mapped[dt.datetime | None]
    due_at: Mapped[dt.datetime | None]
    action: Mapped[str] = mapped_column(String(32), default="none")
    assignee: Mapped[str | None] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text, default="")
    assessed_at: Mapped[dt.datetime]


class Waiver(Base):
    """A finding on a merged spec waived from the dashboard (by its fingerprint)."""

    __tablename__ = "waivers"
    __table_args__ = (
        UniqueConstraint("api_id", "fingerprint", name="uq_waivers_api_id_fingerprint"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    api_id: Mapped[int] = mapped_column(ForeignKey("api_specs.id", ondelete="CASCADE"))
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    rule: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class EscalationAck(Base):
    """A TC member's acknowledgement of an escalation step, from the dashboard."""

    __tablename__ = "escalation_acks"

    escalation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("escalations.id", ondelete="CASCADE"), primary_key=True
    )
    acknowledged_by: Mapped[str] = mapped_column(String(255))
    acknowledged_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)


__all__ += [
    "ApiDeprecation",
    "ApiOperation",
    "ApiSnapshot",
    "ApiSpec",
    "BackfillCursor",
    "BlueprintVerdict",
    "CrossFinding",
    "EscalationAck",
    "IndexCursor",
    "QueueState",
    "SnapshotFinding",
    "SpecDocument",
    "Waiver",
]
