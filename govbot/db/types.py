"""The column types and value sets the models are built from (no tables here).

Every time is a timezone-aware UTC ``datetime`` on both databases (:class:`UTCDateTime`);
enumerations are stored as their values in portable VARCHAR + CHECK columns
(:func:`str_enum`); constraint names follow :data:`NAMING_CONVENTION`. The tables are in
:mod:`govbot.db.models`, which re-exports these names.
"""

from __future__ import annotations

import datetime as dt
import zlib
from enum import StrEnum

from sqlalchemy import DateTime, Dialect, Enum, LargeBinary
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names, so later migrations can name what they alter or drop
# (SQLite's batch mode needs names too). Long composite names are given explicitly:
# PostgreSQL cuts identifiers at 63 bytes.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Enough for SHA-1 (40) and SHA-256 (64) object ids.
SHA_LENGTH = 64


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC ``datetime`` in, an aware UTC ``datetime`` out, on every database.

    PostgreSQL stores ``timestamp with time zone``. SQLite has no time zones, so the value
    is stored as naive UTC text (fixed width, so text order is time order) and given
    ``UTC`` back when read. Naive datetimes are refused: their meaning is a guess.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: govbot stores aware UTC times only")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class WorkState(StrEnum):
    QUEUED = "queued"  # waiting for its not_before time and a free worker
    CLAIMED = "claimed"  # a worker holds it until lease_until
    DONE = "done"
    FAILED = "failed"  # gave up: attempts exhausted, or superseded by a newer queued item


class EvaluationStatus(StrEnum):
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # nothing to check (no spec touched, WIP, private ...); see detail


class EscalationStage(StrEnum):
    """The ladder of README.md, Stale reviews: one row per (change, episode, stage)."""

    ESCALATE = "escalate"  # a TC member is added and put in the attention set
    REMIND = "remind"  # the same member, reminded
    HANDOFF = "handoff"  # the next member; after this, digest only


def str_enum(enum_class: type[StrEnum], name: str, length: int = 16) -> Enum:
    """A portable enum column: VARCHAR plus a named CHECK, storing the values ("queued").

    Not a native PostgreSQL ENUM: adding a value later is then a plain migration of the
    CHECK constraint on both databases.
    """
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class Deflated(TypeDecorator[bytes]):
    """Bytes stored deflated (zlib), given back as written.

    For the spec documents the index keeps of every version: a history of 500 versions of
    a 1.8 MB JSON spec is 0.9 GB as written and about a tenth of that deflated. Level 1:
    the fastest, since every indexed commit writes its new documents, and already most of
    what the higher levels save on JSON and YAML text.
    """

    impl = LargeBinary
    cache_ok = True
    LEVEL = 1

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        return None if value is None else zlib.compress(value, self.LEVEL)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        return None if value is None else zlib.decompress(value)


__all__ = [
    "NAMING_CONVENTION",
    "SHA_LENGTH",
    "Deflated",
    "EscalationStage",
    "EvaluationStatus",
    "UTCDateTime",
    "WorkState",
    "str_enum",
    "utcnow",
]
