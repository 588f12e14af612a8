"""A snapshot's operations may be another snapshot's rows: stored once per content.

``api_operations`` held every operation of every snapshot: 500 commits of a spec with
516 operations took 264,000 rows, though 470 of those commits left every operation as
it was. Two columns of ``api_snapshots`` let a snapshot read the rows of an earlier
snapshot of the same API (``operations_of``) when its own would be the same, found by
the SHA-256 of the rows (``operations_digest``, indexed with ``api_id``). The snapshots
already stored keep their own rows (digest empty: never shared). The downgrade copies
the shared rows to each snapshot that read them, then drops the columns.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04

Written out in full (no imports from govbot.db.models), like 0001 to 0007.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_COLUMNS = (
    "key",
    "method",
    "path",
    "operation_id",
    "audience",
    "source",
    "evidence",
    "evidence_file",
    "evidence_pointer",
    "deprecated",
)


def upgrade() -> None:
    with op.batch_alter_table("api_snapshots") as batch:
        batch.add_column(
            sa.Column("operations_digest", sa.String(length=64), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("operations_of", sa.Integer(), nullable=True))
        batch.create_index(
            "ix_api_snapshots_api_id_operations_digest", ["api_id", "operations_digest"]
        )


def downgrade() -> None:
    snapshots = sa.table(
        "api_snapshots", sa.column("id", sa.Integer()), sa.column("operations_of", sa.Integer())
    )
    operations = sa.table(
        "api_operations",
        sa.column("id", sa.BigInteger()),
        sa.column("snapshot_id", sa.Integer()),
        *(sa.column(name) for name in _COLUMNS),
    )
    o, s = operations.c, snapshots.c
    # Each reader gets its own copy of the rows it read, in their order.
    copies = (
        sa.select(s.id, *(o[name] for name in _COLUMNS))
        .select_from(snapshots.join(operations, o.snapshot_id == s.operations_of))
        .where(s.operations_of.is_not(None))
        .order_by(s.id, o.id)
    )
    op.get_bind().execute(operations.insert().from_select(["snapshot_id", *_COLUMNS], copies))
    with op.batch_alter_table("api_snapshots") as batch:
        batch.drop_index("ix_api_snapshots_api_id_operations_digest")
        batch.drop_column("operations_of")
        batch.drop_column("operations_digest")
