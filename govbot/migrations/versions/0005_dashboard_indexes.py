"""Indexes for the dashboard's lists at a million stored findings.

* ``changes (project_id, status, updated)`` replaces ``(project_id, status)``: an API's
  open changes, newest first, are then read in order from the index instead of walking
  every change by ``updated`` (govbot.web.queries.apis.open_changes).
* ``review_queue (waited_days)``: the longest-waiting changes of the queue (stale and
  at-risk ones, which are the ones that waited longest) are read in order from the
  index instead of sorting the whole queue (govbot.web.queries.queue.queue_page).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03

Written out in full (no imports from govbot.db.models), like 0001 to 0004.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_changes_project_id_status_updated", "changes", ["project_id", "status", "updated"]
    )
    op.drop_index("ix_changes_project_id_status", table_name="changes")
    op.create_index("ix_review_queue_waited_days", "review_queue", ["waited_days"])


def downgrade() -> None:
    op.drop_index("ix_review_queue_waited_days", table_name="review_queue")
    op.create_index("ix_changes_project_id_status", "changes", ["project_id", "status"])
    op.drop_index("ix_changes_project_id_status_updated", table_name="changes")
