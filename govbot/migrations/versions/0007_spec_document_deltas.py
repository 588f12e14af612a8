"""A spec document version may be kept as its difference from the previous one.

``spec_documents`` held every version of every spec file whole (deflated): 500 versions
of a 1.8 MB spec took some 250 MB, and deflating each new version was most of what
recording a commit cost. Four columns let a version be kept as the bytes between the
start and the end it shares with a ``base`` version (``head`` and ``tail`` bytes of it);
``depth`` counts the bases under a version. The rows already stored are whole versions
(base NULL, depth 0) and stay as they are. The downgrade writes every version whole
again (deflated), one row at a time, then drops the columns.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

Written out in full (no imports from govbot.db.models), like 0001 to 0006.
"""

from __future__ import annotations

import zlib

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_documents = sa.table(
    "spec_documents",
    sa.column("digest", sa.String(64)),
    sa.column("content", sa.LargeBinary()),
    sa.column("base", sa.String(64)),
    sa.column("head", sa.Integer()),
    sa.column("tail", sa.Integer()),
    sa.column("depth", sa.Integer()),
)


def upgrade() -> None:
    with op.batch_alter_table("spec_documents") as batch:
        batch.add_column(sa.Column("base", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("head", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("tail", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("depth", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    connection = op.get_bind()
    c = _documents.c
    # The shallowest first: a version's base is whole again by the time it is written.
    rows = connection.execute(
        sa.select(c.digest).where(c.base.is_not(None)).order_by(c.depth.asc())
    ).scalars()
    for digest in list(rows):
        whole = _whole(connection, digest)
        connection.execute(
            _documents.update()
            .where(c.digest == digest)
            .values(content=zlib.compress(whole, 1), base=None, head=0, tail=0, depth=0)
        )
    with op.batch_alter_table("spec_documents") as batch:
        batch.drop_column("depth")
        batch.drop_column("tail")
        batch.drop_column("head")
        batch.drop_column("base")


def _whole(connection: sa.Connection, digest: str) -> bytes:
    c = _documents.c
    row = connection.execute(
        sa.select(c.content, c.base, c.head, c.tail).where(c.digest == digest)
    ).one()
    middle = zlib.decompress(bytes(row.content))
    if row.base is None:
        return middle
    base = _whole(connection, row.base)
    return base[: row.head] + middle + base[len(base) - row.tail :]
