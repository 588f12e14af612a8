"""Escalation of stale reviews: escalation steps, TC member state, the digest archive,
and job leases (scheduled jobs that run once across processes).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Written out in full (no imports from govbot.db.models), like 0001.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("change_number", sa.Integer(), nullable=False),
        sa.Column("project", sa.String(length=255), nullable=False),
        sa.Column("branch", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("episode_start", TIME, nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("assignee", sa.String(length=255), nullable=False),
        sa.Column("assignee_account_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("attention_reason", sa.Text(), nullable=True),
        sa.Column("waited_days", sa.Float(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("acted_at", TIME, nullable=True),
        sa.Column("resolved_at", TIME, nullable=True),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.Column("resolved_by", sa.String(length=255), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "stage IN ('escalate', 'remind', 'handoff')", name=op.f("ck_escalations_stage")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
        sa.UniqueConstraint(
            "change_number",
            "episode_start",
            "stage",
            name="uq_escalations_change_episode_stage",
        ),
    )
    op.create_index(
        "ix_escalations_assignee_resolved_at", "escalations", ["assignee", "resolved_at"]
    )
    op.create_index("ix_escalations_resolved_at", "escalations", ["resolved_at"])

    op.create_table(
        "tc_members",
        sa.Column("username", sa.String(length=255), nullable=False),
        sa.Column("away_until", TIME, nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_tc_members")),
    )

    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_start", TIME, nullable=False),
        sa.Column("period_end", TIME, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("sent_at", TIME, nullable=True),
        sa.Column("recipients", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
    )
    op.create_index(op.f("ix_digests_period_end"), "digests", ["period_end"])

    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("lease_until", TIME, nullable=False),
        sa.Column("slot", TIME, nullable=True),
        sa.Column("last_run_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )


def downgrade() -> None:
    for table in ("job_leases", "digests", "tc_members", "escalations"):
        op.drop_table(table)
