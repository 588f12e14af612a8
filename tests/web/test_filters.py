"""The dashboard's date filters: the same text strftime gives, for dates and datetimes."""

from __future__ import annotations

import datetime as dt

import pytest

from govbot.web.dashboard.templating import day, when

VALUES = [
    dt.datetime(2026, 3, 4, 12, 5, 59, 123456, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 4, 0, 0),
    dt.datetime(1999, 1, 2, 3, 4, tzinfo=dt.timezone(dt.timedelta(hours=5))),
    dt.datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
]


@pytest.mark.parametrize("value", VALUES)
def test_when_is_the_minute_as_stored(value: dt.datetime) -> None:
    assert when(value) == f"{value:%Y-%m-%d %H:%M} UTC"


@pytest.mark.parametrize("value", [*VALUES, dt.date(2026, 12, 31), dt.date(2024, 2, 29)])
def test_day_is_the_date(value: dt.date) -> None:
    assert day(value) == f"{value:%Y-%m-%d}"


def test_no_value_is_a_dash() -> None:
    assert (when(None), day(None)) == ("-", "-")
