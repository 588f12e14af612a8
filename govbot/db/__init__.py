"""Storage: SQLAlchemy models, sessions, the work queue and Alembic migrations.

SQLite in the working directory by default (``sqlite:///govbot.db``); PostgreSQL in
production, where several govbot processes share one database and its work queue.
"""

from __future__ import annotations

from govbot.db.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    is_up_to_date,
    schema_differences,
    upgrade,
)
from govbot.db.models import Base, utcnow
from govbot.db.session import DEFAULT_URL, insert_ignore, make_engine, session_scope

__all__ = [
    "DEFAULT_URL",
    "Base",
    "alembic_config",
    "current_revision",
    "head_revision",
    "insert_ignore",
    "is_up_to_date",
    "make_engine",
    "schema_differences",
    "session_scope",
    "upgrade",
    "utcnow",
]
