"""Keyset pagination (``limit`` and ``marker``, API-SIG) and id look-ups that never overflow.

A marker is the id of the previous page's last item. An id the database's column cannot
hold (``INTEGER`` on PostgreSQL is 32 bits, ``BIGINT`` 64) is never sent to it: a
look-up of such an id finds nothing, and a bound beyond the range is clamped to it, which
orders the same.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Column
from sqlalchemy.orm import InstrumentedAttribute, Session

T = TypeVar("T")
M = TypeVar("M")
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1


class BadQuery(ValueError):
    """A malformed query parameter (400)."""


class UnknownMarker(BadQuery):
    """A marker naming no item of the list (404 in the JSON API)."""


@dataclass(frozen=True)
class Page:
    """One page of a keyset-paginated list."""

    items: list[Any]
    limit: int
    next_marker: str | None

    @property
    def has_next(self) -> bool:
        return self.next_marker is not None


def make_page(rows: Sequence[T], limit: int, key: Callable[[T], Any]) -> Page:
    """``rows`` was fetched with ``limit + 1``: the extra row says there is a next page."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return Page(items, limit, str(key(items[-1])) if more and items else None)


def id_max(column: InstrumentedAttribute[Any] | Column[Any]) -> int:
    """The largest value ``column`` holds on every supported database."""
    return INT64_MAX if isinstance(column.type, BigInteger) else INT32_MAX


def int_marker(marker: str | None, column: InstrumentedAttribute[Any]) -> int | None:
    """``marker`` as an id of ``column`` (clamped to its range); BadQuery when not digits."""
    if marker is None:
        return None
    if not (marker.isascii() and marker.isdigit()):
        raise BadQuery(f"marker must be an id, not {marker!r}")
    return min(int(marker), id_max(column))


def lookup(s: Session, model: type[M], key: int | None) -> M | None:
    """``s.get(model, key)``, or None for a key the primary key column cannot hold."""
    if key is None:
        return None
    [column] = model.__table__.primary_key.columns  # type: ignore[attr-defined]
    if not 0 < key <= id_max(column):
        return None
    return s.get(model, key)


def marked(s: Session, model: type[M], marker: str | None, column: Any) -> M | None:
    """The row ``marker`` names (None without a marker); UnknownMarker when there is none."""
    after = int_marker(marker, column)
    if after is None:
        return None
    row = lookup(s, model, after)
    if row is None:
        raise UnknownMarker(f"unknown marker {marker!r}: no such item")
    return row


__all__ = [
    "DEFAULT_LIMIT",
    "INT32_MAX",
    "INT64_MAX",
    "MAX_LIMIT",
    "BadQuery",
    "Page",
    "UnknownMarker",
    "id_max",
    "int_marker",
    "lookup",
    "make_page",
    "marked",
]
