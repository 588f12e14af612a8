"""API health: snapshots of merged specs (operations, findings, deprecations), the spec
documents they were read from, cross-service findings, blueprint verdicts, the index
job's cursors, the review queue as last assessed, and the dashboard's admin records
(waivers, escalation acknowledgements).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Written out in full (no imports from govbot.db.models), like 0001 and 0002. The indexes
are the ones the dashboard's queries use: every list is read by an indexed key and
paginated by (key, id).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SEVERITIES = ("error", "warning", "info")
AUDIENCES = ("external", "external-admin", "internal")


def _one_of(column: str, values: tuple[str, ...], table: str) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(f"ck_{table}_{column}"))


def _counts() -> list[sa.Column]:
    return [
        sa.Column(name, sa.Integer(), nullable=False)
        for name in (
            "ops_external",
            "ops_external_admin",
            "ops_internal",
            "errors",
            "warnings",
            "infos",
            "deprecated",
        )
    ]


def upgrade() -> None:
    op.create_table(
        "api_specs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(length=255), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=False),
        sa.Column("file", sa.String(length=1024), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("latest_snapshot_id", sa.Integer(), nullable=True),
        sa.Column("commit", sa.String(length=64), nullable=False),
        sa.Column("merged_at", TIME, nullable=False),
        sa.Column("indexed_at", TIME, nullable=False),
        *_counts(),
        sa.Column("next_sunset", sa.Date(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        _one_of("audience", AUDIENCES, "api_specs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_specs")),
        sa.UniqueConstraint("project", "branch", "file", name="uq_api_specs_project_branch_file"),
    )

    op.create_table(
        "api_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_id", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(length=255), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=False),
        sa.Column("file", sa.String(length=1024), nullable=False),
        sa.Column("commit", sa.String(length=64), nullable=False),
        sa.Column("merged_at", TIME, nullable=False),
        sa.Column("change_number", sa.Integer(), nullable=True),
        sa.Column("indexed_at", TIME, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("version", sa.String(length=255), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        *_counts(),
        sa.Column("policy_digest", sa.String(length=64), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        _one_of("audience", AUDIENCES, "api_snapshots"),
        sa.ForeignKeyConstraint(
            ["api_id"],
            ["api_specs.id"],
            name=op.f("fk_api_snapshots_api_id_api_specs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_snapshots")),
        sa.UniqueConstraint("api_id", "commit", name="uq_api_snapshots_api_id_commit"),
    )
    op.create_index("ix_api_snapshots_api_id_merged_at", "api_snapshots", ["api_id", "merged_at"])

    op.create_table(
        "snapshot_findings",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=True),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("pointer", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        _one_of("severity", SEVERITIES, "snapshot_findings"),
        _one_of("audience", AUDIENCES, "snapshot_findings"),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["api_snapshots.id"],
            name=op.f("fk_snapshot_findings_snapshot_id_api_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snapshot_findings")),
    )
    op.create_index(op.f("ix_snapshot_findings_fingerprint"), "snapshot_findings", ["fingerprint"])
    op.create_index(
        "ix_snapshot_findings_snapshot_id_id", "snapshot_findings", ["snapshot_id", "id"]
    )
    op.create_index(
        "ix_snapshot_findings_snapshot_id_severity_id",
        "snapshot_findings",
        ["snapshot_id", "severity", "id"],
    )
    op.create_index(
        "ix_snapshot_findings_snapshot_id_rule_id",
        "snapshot_findings",
        ["snapshot_id", "rule", "id"],
    )

    op.create_table(
        "api_operations",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("operation_id", sa.Text(), nullable=True),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("evidence_file", sa.Text(), nullable=False),
        sa.Column("evidence_pointer", sa.Text(), nullable=False),
        sa.Column("deprecated", sa.Boolean(), nullable=False),
        _one_of("audience", AUDIENCES, "api_operations"),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["api_snapshots.id"],
            name=op.f("fk_api_operations_snapshot_id_api_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_operations")),
    )
    op.create_index("ix_api_operations_snapshot_id_id", "api_operations", ["snapshot_id", "id"])

    op.create_table(
        "api_deprecations",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("sunset", sa.Date(), nullable=True),
        sa.Column("sunset_raw", sa.String(length=255), nullable=True),
        sa.Column("replacement", sa.Text(), nullable=True),
        sa.Column("deprecated_since", TIME, nullable=False),
        _one_of("audience", AUDIENCES, "api_deprecations"),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["api_snapshots.id"],
            name=op.f("fk_api_deprecations_snapshot_id_api_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_deprecations")),
    )
    op.create_index(
        "ix_api_deprecations_snapshot_id_sunset", "api_deprecations", ["snapshot_id", "sunset"]
    )

    op.create_table(
        "spec_documents",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_spec_documents")),
    )

    op.create_table(
        "cross_findings",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("api_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=True),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("pointer", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("computed_at", TIME, nullable=False),
        _one_of("severity", SEVERITIES, "cross_findings"),
        _one_of("audience", AUDIENCES, "cross_findings"),
        sa.ForeignKeyConstraint(
            ["api_id"],
            ["api_specs.id"],
            name=op.f("fk_cross_findings_api_id_api_specs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cross_findings")),
    )
    op.create_index(op.f("ix_cross_findings_api_id"), "cross_findings", ["api_id"])
    op.create_index(op.f("ix_cross_findings_rule"), "cross_findings", ["rule"])

    op.create_table(
        "blueprint_verdicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(length=255), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=False),
        sa.Column("file", sa.String(length=1024), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("commit", sa.String(length=64), nullable=False),
        sa.Column("merged_at", TIME, nullable=False),
        sa.Column("indexed_at", TIME, nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("strength", sa.String(length=32), nullable=True),
        sa.Column("section", sa.Text(), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("words", sa.Integer(), nullable=False),
        sa.Column("rest_api_impact", sa.Boolean(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blueprint_verdicts")),
        sa.UniqueConstraint(
            "project", "branch", "file", name="uq_blueprint_verdicts_project_branch_file"
        ),
    )
    op.create_index(
        "ix_blueprint_verdicts_verdict_strength", "blueprint_verdicts", ["verdict", "strength"]
    )

    op.create_table(
        "index_cursors",
        sa.Column("project", sa.String(length=255), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=False),
        sa.Column("last_updated", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("project", "branch", name=op.f("pk_index_cursors")),
    )

    op.create_table(
        "review_queue",
        sa.Column("change_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("project", sa.String(length=255), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("skip_reason", sa.String(length=32), nullable=True),
        sa.Column("waited_days", sa.Float(), nullable=False),
        sa.Column("clock_start", TIME, nullable=True),
        sa.Column("due_at", TIME, nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("assignee", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("assessed_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("change_number", name=op.f("pk_review_queue")),
    )
    op.create_index("ix_review_queue_state_waited_days", "review_queue", ["state", "waited_days"])
    op.create_index("ix_review_queue_project", "review_queue", ["project"])

    op.create_table(
        "waivers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("api_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["api_id"],
            ["api_specs.id"],
            name=op.f("fk_waivers_api_id_api_specs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waivers")),
        sa.UniqueConstraint("api_id", "fingerprint", name="uq_waivers_api_id_fingerprint"),
    )
    op.create_index(op.f("ix_waivers_fingerprint"), "waivers", ["fingerprint"])

    op.create_table(
        "escalation_acks",
        sa.Column("escalation_id", BIG_ID, nullable=False),
        sa.Column("acknowledged_by", sa.String(length=255), nullable=False),
        sa.Column("acknowledged_at", TIME, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name=op.f("fk_escalation_acks_escalation_id_escalations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("escalation_id", name=op.f("pk_escalation_acks")),
    )


def downgrade() -> None:
    for table in (
        "escalation_acks",
        "waivers",
        "review_queue",
        "index_cursors",
        "blueprint_verdicts",
        "cross_findings",
        "spec_documents",
        "api_deprecations",
        "api_operations",
        "snapshot_findings",
        "api_snapshots",
        "api_specs",
    ):
        op.drop_table(table)
