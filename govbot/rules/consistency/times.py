"""What a spec shows about a field named like a timestamp (CON031, API-SIG TIM-01).

A name proposes a time (``created_at``); the field's own declaration may confirm it (a
date format, a description that speaks of time, a sample that is a date) or refute it (a
duration in seconds, samples without a digit).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Bare participles: they name an event, whose time is one reading among others (a flag,
# a count: `{"result": {"deleted": "1"}}`); `created_at` names the time by its form.
EVENTS = frozenset({"created", "updated", "deleted"})
# A date (`2024-05-13`) or a time of day (`10:00`) written in a sample.
_DATE_SAMPLE = re.compile(r"\d{4}-\d{2}|\d{1,2}:\d{2}")


def shows_time(schema: Mapping[str, Any]) -> bool:
    """Whether the spec shows that a field named by a bare participle holds a time: a
    format of dates or times, a description that speaks of time, or a sample that is a
    date, a time of day or a Unix time (a number over one year of seconds)."""
    fmt = schema.get("format")
    if isinstance(fmt, str) and ("date" in fmt.lower() or "time" in fmt.lower()):
        return True
    text = schema.get("description")
    if isinstance(text, str) and _TIME_WORDS.search(text):
        return True
    samples = [schema[k] for k in ("example", "default") if k in schema]
    if isinstance(schema.get("examples"), list):
        samples.extend(schema["examples"])
    return any(
        (isinstance(v, str) and _DATE_SAMPLE.search(v))
        or (isinstance(v, int | float) and not isinstance(v, bool) and v > _YEAR)
        for v in samples
    )


# Words by which a field's description says it holds a point in time.
_TIME_WORDS = re.compile(
    r"\b(time|times|date|dates|timestamp|epoch|utc|iso ?8601|seconds?|milliseconds?|when)\b",
    re.IGNORECASE,
)


def says_time(schema: Mapping[str, Any]) -> bool:
    """Whether a non-string field named like a timestamp is one by the spec's own text.

    Without a description the name decides; with one, it must speak of time (a
    pagination ``startAt`` is "the index of the first item to return").
    """
    text = schema.get("description")
    if not isinstance(text, str) or not text.strip():
        return True
    return bool(_TIME_WORDS.search(text))


# A unit of duration, and the words by which a text places a count on the time line.
_UNITS = re.compile(r"\b(milli)?(seconds?|secs?|minutes?|mins?|hours?|days?|ms)\b", re.IGNORECASE)
_ABSOLUTE = re.compile(
    r"\b(epoch|unix|posix|1970|timestamp|date|utc|gmt|iso ?8601|rfc ?3339)\b", re.IGNORECASE
)
# No Unix time of a date an API could mean is below one year of seconds (1971).
_YEAR = 365 * 24 * 3600


def offset(schema: Mapping[str, Any]) -> bool:
    """Whether a field named like a timestamp counts a duration or an offset, not a point
    in time: its description gives a unit (``is in seconds``) and places nothing on the
    time line (no epoch, Unix time, date, UTC), or its numeric samples are all under one
    year of seconds (``example: 180``). A Unix time ("seconds since the epoch") is a
    point in time, which TIM-01 asks to write in ISO 8601."""
    text = schema.get("description")
    if isinstance(text, str) and _UNITS.search(text) and not _ABSOLUTE.search(text):
        return True
    samples = [schema[k] for k in ("example", "default") if k in schema]
    if isinstance(schema.get("examples"), list):
        samples.extend(schema["examples"])
    # Only JSON numbers: a string "2024" is a year, a date written short.
    numbers = [v for v in samples if isinstance(v, int | float) and not isinstance(v, bool)]
    return bool(samples) and len(numbers) == len(samples) and all(0 < v < _YEAR for v in numbers)


def samples_not_time(schema: Mapping[str, Any]) -> bool:
    """Whether the field's own sample values show it is no time: all strings, none with a
    digit (every date or time notation, ISO 8601 or not, has digits)."""
    samples: list[Any] = [schema[k] for k in ("example", "default") if k in schema]
    for key in ("examples", "enum"):
        if isinstance(schema.get(key), list):
            samples.extend(schema[key])
    return bool(samples) and all(
        isinstance(v, str) and v.strip() and not any(c.isdigit() for c in v) for v in samples
    )
