"""A snapshot's findings may be another snapshot's rows: stored once per content.

Like the operations (0008): most commits of a history leave a spec's findings as they
were, placed on the same lines, yet ``snapshot_findings`` held them again for every
snapshot (500 commits of a 1.9 MB spec, ~260 findings each: 130,000 rows, most of them
copies). Two columns of ``api_snapshots`` let a snapshot read the rows of an earlier
snapshot of the same API (``findings_of``) when its own would be the same, found by the
SHA-256 of the rows (``findings_digest``, indexed with ``api_id``). The snapshots
already stored keep their own rows (digest empty: never shared). The downgrade copies
the shared rows to each snapshot that read them, then drops the columns.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

Written out in full (no imports from govbot.db.models), like 0001 to 0008.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_COLUMNS = (
    "rule",
    "name",
    "severity",
    "audience",
    "file",
    "line",
    "pointer",
    "message",
    "fingerprint",
)


def upgrade() -> None:
    with op.batch_alter_table("api_snapshots") as batch:
        batch.add_column(
            sa.Column("findings_digest", sa.String(length=64), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("findings_of", sa.Integer(), nullable=True))
        batch.create_index("ix_api_snapshots_api_id_findings_digest", ["api_id", "findings_digest"])


def downgrade() -> None:
    snapshots = sa.table(
        "api_snapshots", sa.column("id", sa.Integer()), sa.column("findings_of", sa.Integer())
    )
    findings = sa.table(
        "snapshot_findings",
        sa.column("id", sa.BigInteger()),
        sa.column("snapshot_id", sa.Integer()),
        *(sa.column(name) for name in _COLUMNS),
    )
    f, s = findings.c, snapshots.c
    # Each reader gets its own copy of the rows it read, in their order.
    copies = (
        sa.select(s.id, *(f[name] for name in _COLUMNS))
        .select_from(snapshots.join(findings, f.snapshot_id == s.findings_of))
        .where(s.findings_of.is_not(None))
        .order_by(s.id, f.id)
    )
    op.get_bind().execute(findings.insert().from_select(["snapshot_id", *_COLUMNS], copies))
    with op.batch_alter_table("api_snapshots") as batch:
        batch.drop_index("ix_api_snapshots_api_id_findings_digest")
        batch.drop_column("findings_of")
        batch.drop_column("findings_digest")
