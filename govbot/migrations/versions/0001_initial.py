"""Initial schema: changes and patch sets, evaluations and findings, posted reviews,
the work queue and poll cursors.

Revision ID: 0001
Revises:
Create Date: 2026-11-21

Written out in full (no imports from govbot.db.models): a migration must create the
schema as it was at its revision, whatever the models say later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Aware UTC datetimes; the model's UTCDateTime converts on the way in and out.
TIME = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _one_of(column: str, values: tuple[str, ...], table: str) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(f"ck_{table}_{column}"))


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("name", name=op.f("uq_projects_name")),
    )

    op.create_table(
        "changes",
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=False),
        sa.Column("change_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("owner_account_id", sa.Integer(), nullable=True),
        sa.Column("owner_name", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("wip", sa.Boolean(), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("current_patch_set", sa.Integer(), nullable=True),
        sa.Column("created", TIME, nullable=False),
        sa.Column("updated", TIME, nullable=False),
        sa.Column("synced_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_changes_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_changes")),
    )
    op.create_index(op.f("ix_changes_change_id"), "changes", ["change_id"])
    op.create_index(op.f("ix_changes_project_id_status"), "changes", ["project_id", "status"])
    op.create_index(op.f("ix_changes_updated"), "changes", ["updated"])

    op.create_table(
        "patch_sets",
        sa.Column("change_number", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.String(length=64), nullable=False),
        sa.Column("parent_revision", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("uploaded", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["change_number"],
            ["changes.number"],
            name=op.f("fk_patch_sets_change_number_changes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("change_number", "number", name=op.f("pk_patch_sets")),
    )
    op.create_index(op.f("ix_patch_sets_revision"), "patch_sets", ["revision"])

    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("change_number", sa.Integer(), nullable=False),
        sa.Column("patch_set_number", sa.Integer(), nullable=False),
        sa.Column("policy_digest", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("finished_at", TIME, nullable=True),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("warning_count", sa.Integer(), nullable=False),
        sa.Column("info_count", sa.Integer(), nullable=False),
        _one_of("status", ("running", "succeeded", "failed", "skipped"), "evaluations"),
        sa.CheckConstraint(
            "error_count >= 0 AND warning_count >= 0 AND info_count >= 0",
            name=op.f("ck_evaluations_counts"),
        ),
        sa.ForeignKeyConstraint(
            ["change_number", "patch_set_number"],
            ["patch_sets.change_number", "patch_sets.number"],
            name=op.f("fk_evaluations_change_number_patch_set_number_patch_sets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
        sa.UniqueConstraint(
            "change_number",
            "patch_set_number",
            "policy_digest",
            "purpose",
            name=op.f("uq_evaluations_change_ps_digest_purpose"),
        ),
    )

    op.create_table(
        "findings",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=True),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("pointer", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        _one_of("severity", ("error", "warning", "info"), "findings"),
        _one_of("audience", ("external", "external-admin", "internal"), "findings"),
        _one_of("side", ("base", "head"), "findings"),
        _one_of("scope", ("new", "changed", "existing"), "findings"),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_findings_evaluation_id_evaluations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
    )
    op.create_index(op.f("ix_findings_evaluation_id"), "findings", ["evaluation_id"])
    op.create_index(op.f("ix_findings_fingerprint"), "findings", ["fingerprint"])

    op.create_table(
        "posted_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("evaluation_id", sa.Integer(), nullable=True),
        sa.Column("change_number", sa.Integer(), nullable=False),
        sa.Column("patch_set_number", sa.Integer(), nullable=False),
        sa.Column("policy_digest", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("tag", sa.String(length=255), nullable=False),
        sa.Column("reserved_at", TIME, nullable=False),
        sa.Column("posted_at", TIME, nullable=True),
        sa.Column("gerrit_message_id", sa.String(length=64), nullable=True),
        sa.Column("vote_label", sa.String(length=64), nullable=True),
        sa.Column("vote_value", sa.SmallInteger(), nullable=True),
        sa.CheckConstraint(
            "(vote_label IS NULL) = (vote_value IS NULL)", name=op.f("ck_posted_reviews_vote")
        ),
        sa.ForeignKeyConstraint(
            ["change_number", "patch_set_number"],
            ["patch_sets.change_number", "patch_sets.number"],
            name=op.f("fk_posted_reviews_change_number_patch_set_number_patch_sets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["evaluation_id"],
            ["evaluations.id"],
            name=op.f("fk_posted_reviews_evaluation_id_evaluations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posted_reviews")),
        sa.UniqueConstraint(
            "change_number",
            "patch_set_number",
            "policy_digest",
            "purpose",
            name=op.f("uq_posted_reviews_change_ps_digest_purpose"),
        ),
    )
    op.create_index(op.f("ix_posted_reviews_evaluation_id"), "posted_reviews", ["evaluation_id"])

    op.create_table(
        "work_items",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("not_before", TIME, nullable=False),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column("claimed_at", TIME, nullable=True),
        sa.Column("lease_until", TIME, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        _one_of("state", ("queued", "claimed", "done", "failed"), "work_items"),
        sa.CheckConstraint(
            "attempts >= 0 AND max_attempts >= 1", name=op.f("ck_work_items_attempts")
        ),
        sa.CheckConstraint(
            "state <> 'claimed' OR (claimed_by IS NOT NULL AND lease_until IS NOT NULL)",
            name=op.f("ck_work_items_lease"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_items")),
    )
    op.create_index(op.f("ix_work_items_state_not_before"), "work_items", ["state", "not_before"])
    # At most one queued and one claimed item per (kind, key): a burst of events for a
    # change collapses into one queued item (INSERT ... ON CONFLICT DO NOTHING).
    for state in ("queued", "claimed"):
        where = sa.text(f"state = '{state}'")
        op.create_index(
            op.f(f"uq_work_items_kind_key_{state}"),
            "work_items",
            ["kind", "key"],
            unique=True,
            sqlite_where=where,
            postgresql_where=where,
        )

    op.create_table(
        "poll_cursors",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=False),
        sa.Column("last_updated", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_poll_cursors_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "branch", name=op.f("pk_poll_cursors")),
    )


def downgrade() -> None:
    for table in (
        "poll_cursors",
        "work_items",
        "posted_reviews",
        "findings",
        "evaluations",
        "patch_sets",
        "changes",
        "projects",
    ):
        op.drop_table(table)
