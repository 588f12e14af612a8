"""The spec documents the index keeps are stored deflated (zlib).

``spec_documents.content`` holds every version of every spec file the index read: as
written, a history of 500 versions of a 1.8 MB spec took 0.9 GB. The column's type is
unchanged (binary); its values are now deflated, and govbot.db.types.Deflated inflates
them when read. This migration deflates the rows already stored (and the downgrade
inflates them), one row at a time, so memory stays that of the largest document.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

Written out in full (no imports from govbot.db.models), like 0001 to 0005.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_documents = sa.table(
    "spec_documents",
    sa.column("digest", sa.String(64)),
    sa.column("content", sa.LargeBinary()),
)


def upgrade() -> None:
    _rewrite(lambda data: zlib.compress(data, 1))


def downgrade() -> None:
    _rewrite(zlib.decompress)


def _rewrite(convert: Callable[[bytes], bytes]) -> None:
    connection = op.get_bind()
    digests = connection.execute(sa.select(_documents.c.digest)).scalars().all()
    for digest in digests:
        where = _documents.c.digest == digest
        data = connection.execute(sa.select(_documents.c.content).where(where)).scalar_one()
        connection.execute(_documents.update().where(where).values(content=convert(bytes(data))))
