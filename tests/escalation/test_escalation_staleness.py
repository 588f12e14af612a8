"""The staleness computation: eligibility, the clock, day modes, bots (pure, table-driven)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from escalation_support import T0, at, change_json, msg, upload

from govbot.errors import PolicyError
from govbot.gerrit.events import parse_events
from govbot.policy import BotConfig, DayMode, StalenessConfig, WorkCalendar, parse_holidays
from govbot.services.staleness import SkipReason, State, assess
from govbot.services.staleness_events import (
    Effect,
    EventKind,
    classify_message,
    message_from_event,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "gerrit"
CALENDAR = StalenessConfig()
BOTS = BotConfig()


def run(change: Any, hours: float, config: StalenessConfig = CALENDAR) -> Any:
    return assess(change, now=at(hours), config=config, bots=BOTS)


# --- eligibility --------------------------------------------------------------------------

ELIGIBILITY = [
    ("merged", {"status": "MERGED"}, {}, SkipReason.MERGED),
    ("abandoned", {"status": "ABANDONED"}, {}, SkipReason.ABANDONED),
    ("wip", {"work_in_progress": True}, {}, SkipReason.WIP),
    ("private", {"is_private": True}, {}, SkipReason.PRIVATE),
    ("legacy WIP: Workflow-1", {}, {"Workflow": [("olivia", -1, 1)]}, SkipReason.WIP),
    ("approved: Workflow+1", {}, {"Workflow": [("rita", 1, 1)]}, SkipReason.APPROVED),
    ("blocked: Code-Review-2", {}, {"Code-Review": [("rita", -2, 1)]}, SkipReason.BLOCKED),
    ("fresh Code-Review-1", {}, {"Code-Review": [("rita", -1, 1)]}, SkipReason.WAITING_ON_OWNER),
    ("CI failing", {}, {"Verified": [("zuul", -1, 1)]}, SkipReason.WAITING_ON_OWNER),
    ("opt-out hashtag", {"hashtags": ["govbot-skip"]}, {}, SkipReason.OPTED_OUT),
    ("opt-out keep-alive", {"hashtags": ["Keep-Alive"]}, {}, SkipReason.OPTED_OUT),
    ("opt-out topic", {"topic": "DNM-experiment"}, {}, SkipReason.OPTED_OUT),
    ("opt-out subject", {"subject": "DNM: try a thing"}, {}, SkipReason.OPTED_OUT),
    ("an ordinary open change", {}, {}, None),
    ("CI passing", {}, {"Verified": [("zuul", 1, 1)]}, None),
    ("human +1", {}, {"Code-Review": [("rita", 1, 1)]}, None),
    ("the owner's own -1 does not block", {}, {"Code-Review": [("olivia", -1, 1)]}, None),
]


@pytest.mark.parametrize(
    ("fields", "labels", "expected"),
    [case[1:] for case in ELIGIBILITY],
    ids=[case[0] for case in ELIGIBILITY],
)
def test_eligibility_rules(fields: dict, labels: dict, expected: SkipReason | None) -> None:
    """Each eligibility rule skips the change with its reason, and nothing else does."""
    change = change_json([upload(0)], labels=labels, **fields)
    result = run(change, 49)
    assert result.skip_reason is expected, result.decisions
    assert result.stale is (expected is None)
    assert result.state is (State.ELIGIBLE if expected is None else State.SKIPPED)
    failed = [d for d in result.decisions if not d.passed]
    assert (len(failed) >= 1) is (expected is not None)
    assert len(result.decisions) >= 9  # every check is recorded, passed or not


def test_footer_opt_out() -> None:
    """A ``Govbot-Skip:`` footer in the commit message opts the change out."""
    change = change_json([upload(0)])
    data = {
        "_number": 1,
        "project": "p",
        "branch": "master",
        "owner": {"_account_id": 1001},
        "created": "2026-03-02 09:00:00.000000000",
        "current_revision": "a" * 40,
        "revisions": {
            "a" * 40: {
                "_number": 1,
                "commit": {
                    "parents": [],
                    "subject": "Add",
                    "message": "Add\n\nBody.\n\nGovbot-Skip: frozen until the PTG\nChange-Id: I1\n",
                },
            }
        },
    }
    from govbot.gerrit.changes import ChangeInfo

    result = run(ChangeInfo.from_json(data), 49)
    assert result.skip_reason is SkipReason.OPTED_OUT
    assert "Govbot-Skip: frozen until the PTG" in result.reason
    assert run(change, 49).stale


def test_unwatched_branch() -> None:
    """Branches outside ``branches`` are not escalated."""
    config = StalenessConfig.from_raw({"branches": ["main"]})
    result = run(change_json([upload(0)]), 49, config)
    assert result.skip_reason is SkipReason.NOT_WATCHED


def test_minus_one_before_a_rework_no_longer_blocks() -> None:
    """A -1 on an earlier upload does not keep the change in the owner's court."""
    change = change_json(
        [
            upload(0),
            msg(2, "rita", "Patch Set 1: Code-Review-1\n\nPlease fix."),
            upload(5, 2),
        ],
        kinds={1: "REWORK", 2: "REWORK"},
        labels={"Code-Review": [("rita", -1, 2)]},  # copied, dated before the rework
    )
    result = run(change, 5 + 49)
    assert result.eligible and result.stale
    assert result.clock_start == at(5)


# --- the clock ----------------------------------------------------------------------------

CLOCK = [
    # (name, messages, kinds, hours waited at check, expected clock start hour or None, stale)
    ("created: the clock starts", [upload(0)], None, 49, 0, True),
    ("exactly two days is not more than two days", [upload(0)], None, 48, 0, False),
    (
        "a CI comment at hour 30 does not save it",
        [
            upload(0),
            msg(
                30,
                "zuul",
                "Patch Set 1: Verified+1\n\nBuild succeeded.",
                tag="autogenerated:zuul:check",
            ),
        ],
        None,
        49,
        0,
        True,
    ),
    (
        "an untagged comment by a listed bot account does not reset",
        [upload(0), msg(30, "jenkins", "Patch Set 1:\n\nBuild succeeded.")],
        None,
        49,
        0,
        True,
    ),
    (
        "an autogenerated: tag by anyone does not reset",
        [
            upload(0),
            msg(30, "thirdparty", "Patch Set 1:\n\nThird party CI ok.", tag="autogenerated:tpci"),
        ],
        None,
        49,
        0,
        True,
    ),
    (
        "govbot's own writes do not reset",
        [upload(0), msg(30, "govbot", "Patch Set 1:\n\n(3 comments)\n\nAPI review.")],
        None,
        49,
        0,
        True,
    ),
    (
        "a recheck comment does not reset",
        [upload(0), msg(30, "rita", "Patch Set 1:\n\nrecheck")],
        None,
        49,
        0,
        True,
    ),
    (
        "the owner's recheck is not a reply either",
        [upload(0), msg(30, "olivia", "Patch Set 1:\n\nrecheck please")],
        None,
        49,
        0,
        True,
    ),
    (
        "a trivial rebase does not restart the clock",
        [upload(0), upload(30, 2)],
        {1: "REWORK", 2: "TRIVIAL_REBASE"},
        49,
        0,
        True,
    ),
    (
        "a rework while waiting does not postpone (earliest ready event)",
        [upload(0), upload(30, 2)],
        {1: "REWORK", 2: "REWORK"},
        49,
        0,
        True,
    ),
    (
        "an owner ping while waiting does not postpone",
        [upload(0), msg(30, "olivia", "Patch Set 1:\n\nCould someone look at this?")],
        None,
        49,
        0,
        True,
    ),
    (
        "a human comment at hour 30 saves it: the owner acts next",
        [upload(0), msg(30, "rita", "Patch Set 1:\n\nWhy this name?")],
        None,
        49,
        None,
        False,
    ),
    (
        "the owner's reply after a review starts a new clock",
        [
            upload(0),
            msg(30, "rita", "Patch Set 1:\n\nWhy?"),
            msg(35, "olivia", "Patch Set 1:\n\nBecause."),
        ],
        None,
        35 + 49,
        35,
        True,
    ),
    (
        "a new upload after a -1 starts a new clock",
        [upload(0), msg(10, "rita", "Patch Set 1: Code-Review-1"), upload(20, 2)],
        {1: "REWORK", 2: "REWORK"},
        20 + 47,
        20,
        False,
    ),
    (
        "a positive vote restarts the clock (still waiting on a core)",
        [upload(0), msg(30, "rita", "Patch Set 1: Code-Review+1")],
        None,
        49,
        30,
        False,
    ),
    (
        "... and it goes stale two days after the +1",
        [upload(0), msg(30, "rita", "Patch Set 1: Code-Review+1")],
        None,
        30 + 49,
        30,
        True,
    ),
    (
        "WIP then ready: the clock starts when it is ready",
        [
            upload(0, wip=True),
            msg(20, "olivia", "Set Ready For Review", tag="autogenerated:gerrit:setReadyForReview"),
        ],
        None,
        49,
        20,
        False,
    ),
    (
        "Gerrit bookkeeping (topic, reviewers) does nothing",
        [upload(0), msg(30, "rita", "Topic set to x", tag="autogenerated:gerrit:setTopic")],
        None,
        49,
        0,
        True,
    ),
    (
        "CI failing then passing: the clock starts when CI passes again",
        [
            upload(0),
            msg(
                1,
                "zuul",
                "Patch Set 1: Verified-1\n\nBuild failed.",
                tag="autogenerated:zuul:check",
            ),
            msg(10, "olivia", "Patch Set 1:\n\nrecheck"),
            msg(
                11,
                "zuul",
                "Patch Set 1: Verified+1\n\nBuild succeeded.",
                tag="autogenerated:zuul:check",
            ),
        ],
        None,
        49,
        11,
        False,
    ),
    (
        "old servers' untagged upload messages are understood",
        [msg(0, "olivia", "Uploaded patch set 1."), msg(30, "jenkins", "Patch Set 1: Verified+1")],
        None,
        49,
        0,
        True,
    ),
]


@pytest.mark.parametrize(
    ("messages", "kinds", "hours", "start", "stale"),
    [case[1:] for case in CLOCK],
    ids=[case[0] for case in CLOCK],
)
def test_clock_events(
    messages: list, kinds: dict | None, hours: float, start: float | None, stale: bool
) -> None:
    """Only human review resets the clock; the owner making the change ready starts it."""
    change = change_json(messages, kinds=kinds)
    result = run(change, hours)
    assert result.clock_start == (at(start) if start is not None else None), result.events
    assert result.stale is stale
    # every event considered is reported with what it did and why
    assert len(result.events) == len(messages)
    assert all(e.reason for e in result.events)


def test_events_say_why_they_did_not_count() -> None:
    """Bot, recheck, rebase and own-write events are kept with an explanation."""
    change = change_json(
        [
            upload(0),
            msg(1, "zuul", "Patch Set 1: Verified+1", tag="autogenerated:zuul:check"),
            msg(2, "govbot", "Patch Set 1:\n\nreview", tag="autogenerated:govbot:api-review"),
            msg(3, "rita", "Patch Set 1:\n\nrecheck"),
            upload(4, 2),
        ],
        kinds={1: "REWORK", 2: "TRIVIAL_REBASE"},
    )
    kinds = [(e.kind, e.effect) for e in run(change, 49).events]
    assert kinds == [
        (EventKind.UPLOAD, Effect.STARTS),
        (EventKind.BOT, Effect.NONE),
        (EventKind.OWN_WRITE, Effect.NONE),
        (EventKind.RECHECK, Effect.NONE),
        (EventKind.REBASE, Effect.NONE),
    ]
    reasons = [e.reason for e in run(change, 49).events]
    assert "Service User" in reasons[1] or "autogenerated" in reasons[1]
    assert "govbot's own write" in reasons[2]
    assert "TRIVIAL_REBASE" in reasons[4]


def test_at_risk_and_due_time() -> None:
    """At risk within the margin (12 h) of the threshold; due_at is the threshold."""
    change = change_json([upload(0)])
    assert not run(change, 30).at_risk
    result = run(change, 40)
    assert result.at_risk and not result.stale
    assert result.due_at == at(48)
    assert result.waited == dt.timedelta(hours=40)


def test_require_ci_pass() -> None:
    """With require_ci_pass the clock waits for the first passing CI verdict."""
    config = StalenessConfig.from_raw({"require_ci_pass": True})
    waiting = change_json([upload(0)])
    assert run(waiting, 49, config).skip_reason is SkipReason.WAITING_FOR_CI
    passed = change_json(
        [upload(0), msg(5, "zuul", "Patch Set 1: Verified+1", tag="autogenerated:zuul:check")]
    )
    assert run(passed, 49, config).clock_start == at(5)


def test_review_counts_from_core() -> None:
    """With the core set given, a non-core's comment does not stop the clock."""
    change = change_json([upload(0), msg(30, "rita", "Patch Set 1:\n\nLooks odd.")])
    result = assess(change, now=at(49), config=CALENDAR, bots=BOTS, cores={1003})
    assert result.stale and result.clock_start == T0
    assert result.events[1].effect is Effect.NONE


# --- day modes ----------------------------------------------------------------------------

FRIDAY = dt.datetime(2026, 3, 6, 9, 0, tzinfo=dt.UTC)


def business(**extra: Any) -> StalenessConfig:
    return StalenessConfig.from_raw({"day_mode": "business", **extra})


DAY_MODES = [
    # (name, config, start, now, stale)
    (
        "calendar: Friday 09:00 + 49 h (Sunday) is stale",
        CALENDAR,
        FRIDAY,
        FRIDAY + dt.timedelta(hours=49),
        True,
    ),
    (
        "business: the weekend does not count",
        business(),
        FRIDAY,
        FRIDAY + dt.timedelta(hours=49),
        False,
    ),
    (
        "business: stale on Tuesday 09:01",
        business(),
        FRIDAY,
        dt.datetime(2026, 3, 10, 9, 1, tzinfo=dt.UTC),
        True,
    ),
    (
        "business: not stale on Tuesday 08:59",
        business(),
        FRIDAY,
        dt.datetime(2026, 3, 10, 8, 59, tzinfo=dt.UTC),
        False,
    ),
    (
        "business: a holiday on Monday pushes it to Wednesday",
        business(holidays=["2026-03-09"]),
        FRIDAY,
        dt.datetime(2026, 3, 10, 9, 1, tzinfo=dt.UTC),
        False,
    ),
    (
        "business: a holiday range",
        business(holidays=["2026-03-09..2026-03-10"]),
        FRIDAY,
        dt.datetime(2026, 3, 11, 9, 1, tzinfo=dt.UTC),
        False,
    ),
    (
        "business: Friday/Saturday weekend",
        business(weekend=["Fri", "Sat"]),
        dt.datetime(2026, 3, 5, 9, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 8, 9, 1, tzinfo=dt.UTC),
        False,
    ),
]


@pytest.mark.parametrize(
    ("config", "start", "now", "stale"),
    [case[1:] for case in DAY_MODES],
    ids=[case[0] for case in DAY_MODES],
)
def test_day_modes(
    config: StalenessConfig, start: dt.datetime, now: dt.datetime, stale: bool
) -> None:
    """Business days skip weekends and holidays; calendar days count everything."""
    change = change_json([upload(0, start=start)], start=start)
    result = assess(change, now=now, config=config, bots=BOTS)
    assert result.stale is stale, (result.waited_days, result.reason)


def test_business_days_in_a_time_zone_across_dst() -> None:
    """Europe/Berlin, spring forward on Sunday 29 March 2026: Monday counts as one whole day.

    Friday 27 March 12:00 local (11:00 UTC) + 2 business days = Tuesday 31 March 12:00
    local, which is 10:00 UTC after the switch to summer time.
    """
    calendar = WorkCalendar(mode=DayMode.BUSINESS, timezone="Europe/Berlin")
    start = dt.datetime(2026, 3, 27, 11, 0, tzinfo=dt.UTC)
    due = calendar.add_days(start, 2)
    assert due == dt.datetime(2026, 3, 31, 10, 0, tzinfo=dt.UTC)
    assert calendar.elapsed_days(start, due) == pytest.approx(2.0)
    # Saturday and Sunday (a 23-hour day) count for nothing
    assert calendar.elapsed_days(
        dt.datetime(2026, 3, 27, 23, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 3, 29, 22, 0, tzinfo=dt.UTC),
    ) == pytest.approx(0.0)
    # the autumn change (25 October 2026, 25 hours) is a weekend too; Monday is 24 h
    autumn = WorkCalendar(mode=DayMode.BUSINESS, timezone="Europe/Berlin")
    friday = dt.datetime(2026, 10, 23, 10, 0, tzinfo=dt.UTC)  # 12:00 CEST
    assert autumn.add_days(friday, 1) == dt.datetime(
        2026, 10, 26, 11, 0, tzinfo=dt.UTC
    )  # 12:00 CET


def test_business_local_day_boundaries() -> None:
    """Days are local: Monday 00:30 in Tokyo is still Sunday in UTC but counts."""
    calendar = WorkCalendar(mode=DayMode.BUSINESS, timezone="Asia/Tokyo")
    sunday_utc = dt.datetime(2026, 3, 8, 15, 30, tzinfo=dt.UTC)  # Monday 00:30 JST
    assert calendar.elapsed_days(sunday_utc, sunday_utc + dt.timedelta(hours=12)) == pytest.approx(
        0.5
    )


def test_policy_parsing_errors() -> None:
    """Bad durations, weekdays, holidays and time zones are policy errors naming the key."""
    with pytest.raises(PolicyError, match="stale_after"):
        StalenessConfig.from_raw({"stale_after": "two days"})
    with pytest.raises(PolicyError, match="weekday"):
        StalenessConfig.from_raw({"weekend": ["Caturday"]})
    with pytest.raises(PolicyError, match="holiday"):
        parse_holidays(["2026-13-01"])
    with pytest.raises(PolicyError, match="time zone"):
        StalenessConfig.from_raw({"timezone": "Mars/Olympus"})
    with pytest.raises(PolicyError, match="whole week"):
        StalenessConfig.from_raw({"weekend": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]})
    config = StalenessConfig.from_raw({"stale_after": "36h", "at_risk_margin": 0.5})
    assert config.stale_after == dt.timedelta(hours=36)
    assert config.at_risk_margin == dt.timedelta(hours=12)
    assert "1.5 days" in config.describe()


# --- real data: OpenStack's Jenkins in 2014 -----------------------------------------------


def test_real_2014_jenkins_comments_are_bot_activity() -> None:
    """The real 2014 comment-added events parse, and Jenkins' messages are recognised as
    bot activity: they never reset the clock."""
    events = parse_events((DATA / "openstack-stream-events-comment-added-2014.json").read_text())
    assert len(events) == 11
    for event in events:
        assert event.type == "comment-added"
        message = message_from_event(event)
        change = event.change
        assert change is not None
        classified = classify_message(change, message, BOTS)
        assert classified.kind is EventKind.BOT, classified
        assert classified.effect in (Effect.NONE, Effect.STOPS)  # failing builds block
        assert "Jenkins is a listed bot account" in classified.reason
        verified = dict(classified.votes).get("Verified")
        assert verified is not None and verified != 0
        assert (classified.effect is Effect.STOPS) is (verified < 0)


def test_real_2014_jenkins_success_does_not_save_a_change() -> None:
    """A change uploaded and then only commented on by Jenkins goes stale."""
    raw = json.loads((DATA / "openstack-stream-events-comment-added-2014.json").read_text())
    event = next(e for e in parse_events(raw) if "succeeded" in (e.comment or ""))
    assert event.created_on is not None and event.change is not None
    start = event.created_on - dt.timedelta(hours=1)
    jenkins = message_from_event(event)
    change = change_json(
        [
            upload(0, start=start),
            {
                "id": jenkins.id,
                "date": event.created_on.strftime("%Y-%m-%d %H:%M:%S.000000000"),
                "message": jenkins.message,
                "author": {"name": "Jenkins", "username": "jenkins"},
            },
        ],
        start=start,
    )
    result = assess(change, now=start + dt.timedelta(hours=49), config=CALENDAR, bots=BOTS)
    assert result.stale and result.clock_start == start
    assert result.events[1].kind is EventKind.BOT
