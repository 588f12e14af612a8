"""The scalars of Gerrit's JSON: tolerant readers of its fields, its timestamps, its XSSI line.

Two families of shapes reach govbot and the typed views (``accounts``, ``revisions``,
``reviews``, ``changes``, ``events``) accept both through these readers:

* REST entities (``ChangeInfo``, ``RevisionInfo``, ...): integer ``_number``, timestamps as
  ``"2026-11-21 20:44:01.000000000"`` (UTC, nanoseconds), false/null fields omitted, the
  last item of a query page carrying ``_more_changes``. Old servers (2.8 era) add ``kind``
  and ``_sortkey`` and use the ``project~branch~Change-Id`` triplet as ``id``.
* stream events and ``gerrit query --format json`` lines (``ChangeAttribute``,
  ``PatchSetAttribute``...): camelCase, epoch seconds, and numbers that old servers send
  as strings (``"number": "60244"``, ``"value": "-1"``).

Unknown fields are ignored and missing optional ones get defaults, so a newer or older
Gerrit does not break parsing; a missing *required* field raises ``GerritDataError``.
Timestamps become timezone-aware UTC datetimes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

from govbot.gerrit.errors import GerritDataError

XSSI_PREFIX = ")]}'"

# What an absent object field becomes: read-only, so every frozen view may share it.
EMPTY: Mapping[Any, Any] = MappingProxyType({})


def no_mapping() -> Mapping[Any, Any]:
    """The ``default_factory`` of the views' mapping fields."""
    return EMPTY


_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def strip_xssi(text: str) -> str:
    """Remove the ``)]}'`` line Gerrit puts before every JSON body (absent: unchanged)."""
    if text.startswith(XSSI_PREFIX):
        return text[len(XSSI_PREFIX) :].lstrip("\r\n")
    return text


def parse_timestamp(value: object) -> datetime | None:
    """A Gerrit time as an aware UTC datetime.

    Accepts REST strings (``2013-02-21 11:16:36.775000000``, nanoseconds truncated to
    microseconds), ISO 8601 with ``T``/offset, and epoch seconds as int, float or digit
    string (stream events). ``None`` and ``""`` give ``None``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise GerritDataError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        raise GerritDataError(f"not a timestamp: {value!r}")
    text = value.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    match = _TIMESTAMP.match(text)
    if match is None:
        raise GerritDataError(f"not a Gerrit timestamp: {value!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "").ljust(6, "0")[:6])
    zone_info = UTC
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:])
        zone_info = timezone(timedelta(minutes=minutes if zone[0] == "+" else -minutes))
    stamp = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micros, zone_info
    )
    return stamp.astimezone(UTC)


def format_timestamp(when: datetime) -> str:
    """``when`` as Gerrit writes it in REST JSON: UTC, space separator, nine fraction digits."""
    if when.tzinfo is None:
        raise ValueError("format_timestamp needs an aware datetime")
    utc = when.astimezone(UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S.") + f"{utc.microsecond * 1000:09d}"


def as_int(value: object, what: str) -> int | None:
    """An integer that may arrive as a JSON number or a numeric string (``"12"``, ``"+1"``)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise GerritDataError(f"{what}: expected a number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise GerritDataError(f"{what}: expected a number, got {value!r}")


def required_int(data: Mapping[str, Any], *keys: str) -> int:
    for key in keys:
        number = as_int(data.get(key), key)
        if number is not None:
            return number
    raise GerritDataError(f"missing {' or '.join(keys)} in {describe(data)}")


def as_str(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise GerritDataError(f"expected a string, got {value!r}")


def required_str(data: Mapping[str, Any], key: str) -> str:
    value = as_str(data.get(key))
    if value is None:
        raise GerritDataError(f"missing {key} in {describe(data)}")
    return value


def as_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def as_mapping(value: object, what: str) -> Mapping[str, Any]:
    if value is None:
        return EMPTY
    if not isinstance(value, Mapping):
        raise GerritDataError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def as_list(value: object, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise GerritDataError(f"{what}: expected a list, got {type(value).__name__}")
    return value


def describe(data: Mapping[str, Any]) -> str:
    keys = ", ".join(sorted(str(k) for k in data)[:8])
    return "{" + keys + ("..." if len(data) > 8 else "") + "}"


def frozen(mapping: dict[Any, Any]) -> Mapping[Any, Any]:
    return MappingProxyType(mapping) if mapping else EMPTY
