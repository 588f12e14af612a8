"""The policy's ``escalation`` section: staleness, bots, the TC and the ladder, typed.

Parsed once when the policy is loaded (:func:`govbot.policy.load_policy`); the
escalation, staleness and digest services read these values and never the YAML.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from govbot.errors import PolicyError
from govbot.gerrit.accounts import AccountInfo

DAY = dt.timedelta(days=1)
UTC = dt.UTC
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dhm]?)\s*$")
_DURATION_UNITS = {"": DAY, "d": DAY, "h": dt.timedelta(hours=1), "m": dt.timedelta(minutes=1)}


class DayMode(StrEnum):
    CALENDAR = "calendar"  # wall-clock time
    BUSINESS = "business"  # weekends and holidays in ``timezone`` do not count


def parse_duration(value: object, what: str) -> dt.timedelta:
    """``2`` (days), ``"2d"``, ``"36h"``, ``"90m"`` as a positive ``timedelta``."""
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, bool) or value is None:
        raise PolicyError(f"escalation: {what} must be a duration like 2d or 12h, not {value!r}")
    if isinstance(value, int | float):
        result = DAY * float(value)
    else:
        match = _DURATION.match(str(value).lower())
        if match is None:
            raise PolicyError(
                f"escalation: {what} must be a duration like 2d or 12h, not {value!r}"
            )
        result = _DURATION_UNITS[match.group(2)] * float(match.group(1))
    if result < dt.timedelta(0):
        raise PolicyError(f"escalation: {what} must not be negative, not {value!r}")
    return result


def parse_holidays(items: Iterable[object]) -> frozenset[dt.date]:
    """Dates (``2026-12-25``) and inclusive ranges (``2026-12-24..2027-01-01``)."""
    days: set[dt.date] = set()
    for item in items:
        if isinstance(item, dt.date):
            days.add(item)
            continue
        text = str(item).strip()
        first, sep, last = text.partition("..")
        try:
            start = dt.date.fromisoformat(first.strip())
            end = dt.date.fromisoformat(last.strip()) if sep else start
        except ValueError:
            raise PolicyError(f"escalation: holiday {text!r} is not a date or a range") from None
        if end < start or (end - start).days > 366:
            raise PolicyError(f"escalation: holiday range {text!r} is backwards or too long")
        days.update(start + dt.timedelta(days=n) for n in range((end - start).days + 1))
    return frozenset(days)


def _weekdays(items: Iterable[object]) -> frozenset[int]:
    numbers = set()
    for item in items:
        key = str(item).strip().lower()[:3]
        if key not in WEEKDAYS:
            raise PolicyError(f"escalation: {item!r} is not a weekday (Mon ... Sun)")
        numbers.add(WEEKDAYS.index(key))
    if len(numbers) == 7:
        raise PolicyError("escalation: weekend cannot be the whole week")
    return frozenset(numbers)


def _strings(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)  # type: ignore[attr-defined]


def _regexes(value: object, what: str) -> tuple[re.Pattern[str], ...]:
    out = []
    for text in _strings(value):
        try:
            out.append(re.compile(text))
        except re.error as exc:
            raise PolicyError(f"escalation: {what}: bad regex {text!r}: {exc}") from None
    return tuple(out)


@dataclass(frozen=True)
class WorkCalendar:
    """How time is counted: calendar days, or business days in a time zone (DST-correct).

    Business time is counted in whole 24-hour days, not office hours: a working day
    counts fully whatever its length (23 or 25 hours on DST change days).
    """

    mode: DayMode = DayMode.CALENDAR
    timezone: str = "UTC"
    weekend: frozenset[int] = frozenset({5, 6})  # Saturday, Sunday
    holidays: frozenset[dt.date] = frozenset()

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise PolicyError(f"escalation: unknown time zone {self.timezone!r}") from None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays

    def _day_bounds(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The UTC instants at which local ``day`` starts and ends (23, 24 or 25 hours)."""
        zone = self.zone
        start = dt.datetime.combine(day, dt.time(), zone).astimezone(UTC)
        end = dt.datetime.combine(day + DAY, dt.time(), zone).astimezone(UTC)
        return start, end

    def _local_day(self, when: dt.datetime) -> dt.date:
        return when.astimezone(self.zone).date()

    def elapsed_days(self, start: dt.datetime, end: dt.datetime) -> float:
        """Days between ``start`` and ``end`` that count (fractions of days included)."""
        if end <= start:
            return 0.0
        if self.mode is DayMode.CALENDAR:
            return (end - start) / DAY
        total = 0.0
        day = self._local_day(start)
        last = self._local_day(end)
        while day <= last:
            if self.is_working_day(day):
                lo, hi = self._day_bounds(day)
                overlap = min(end, hi) - max(start, lo)
                if overlap > dt.timedelta(0):
                    total += overlap / (hi - lo)
            day += DAY
        return total

    def elapsed(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Real time between ``start`` and ``end`` that falls on counted days."""
        if end <= start:
            return dt.timedelta(0)
        if self.mode is DayMode.CALENDAR:
            return end - start
        total = dt.timedelta(0)
        day = self._local_day(start)
        while day <= self._local_day(end):
            if self.is_working_day(day):
                lo, hi = self._day_bounds(day)
                overlap = min(end, hi) - max(start, lo)
                if overlap > dt.timedelta(0):
                    total += overlap
            day += DAY
        return total

    def add_days(self, start: dt.datetime, days: float) -> dt.datetime:
        """The instant at which ``days`` counted days have passed since ``start``."""
        if self.mode is DayMode.CALENDAR or days <= 0:
            return start + DAY * max(days, 0.0)
        remaining = days
        day = self._local_day(start)
        for _ in range(366 * 20):  # the weekend is never the whole week, so this ends
            if self.is_working_day(day):
                lo, hi = self._day_bounds(day)
                begin = max(start, lo)
                if begin < hi:
                    available = (hi - begin) / (hi - lo)
                    if available >= remaining:
                        return begin + (hi - lo) * remaining
                    remaining -= available
            day += DAY
        raise PolicyError("escalation: the business calendar has no working days")

    def describe(self) -> str:
        if self.mode is DayMode.CALENDAR:
            return "calendar days"
        names = "/".join(WEEKDAYS[d].capitalize() for d in sorted(self.weekend))
        extra = " and listed holidays" if self.holidays else ""
        return f"business days ({self.timezone}, {names}{extra} excluded)"


@dataclass(frozen=True)
class StalenessConfig:
    """The policy's ``escalation.stale`` section."""

    stale_after: dt.timedelta = dt.timedelta(days=2)  # stale when waited *more* than this
    at_risk_margin: dt.timedelta = dt.timedelta(hours=12)  # real time before the threshold
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    branches: tuple[str, ...] = ()  # empty: every branch
    # No passing CI verdict yet: the clock waits for one (off: the demo has changes no CI saw).
    require_ci_pass: bool = False
    # A failing CI verdict on the current patch set puts the ball in the owner's court.
    ci_failure_blocks: bool = True
    optout_hashtags: tuple[str, ...] = ("govbot-skip", "keep-alive")
    optout_topics: tuple[re.Pattern[str], ...] = (re.compile(r"(?i)^(?:dnm|do-not-merge)\b"),)
    optout_subjects: tuple[re.Pattern[str], ...] = (
        re.compile(r"(?i)\bDNM\b"),
        re.compile(r"(?i)\bdo not merge\b"),
    )
    optout_footers: tuple[str, ...] = ("Govbot-Skip",)  # "Govbot-Skip: reason" in the commit

    @property
    def stale_after_days(self) -> float:
        return self.stale_after / DAY

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any] | None) -> StalenessConfig:
        """From the ``escalation.stale`` section (missing keys take the defaults)."""
        data = dict(raw or {})
        defaults = cls()
        mode = DayMode(str(data.get("day_mode", defaults.calendar.mode)))
        calendar = WorkCalendar(
            mode=mode,
            timezone=str(data.get("timezone", "UTC")),
            weekend=_weekdays(data["weekend"]) if "weekend" in data else frozenset({5, 6}),
            holidays=parse_holidays(data.get("holidays") or ()),
        )
        return cls(
            stale_after=parse_duration(data.get("stale_after", "2d"), "stale_after"),
            at_risk_margin=parse_duration(data.get("at_risk_margin", "12h"), "at_risk_margin"),
            calendar=calendar,
            branches=_strings(data.get("branches")),
            require_ci_pass=bool(data.get("require_ci_pass", defaults.require_ci_pass)),
            ci_failure_blocks=bool(data.get("ci_failure_blocks", defaults.ci_failure_blocks)),
            optout_hashtags=_strings(data.get("optout_hashtags", defaults.optout_hashtags)),
            optout_topics=(
                _regexes(data["optout_topics"], "optout_topics")
                if "optout_topics" in data
                else defaults.optout_topics
            ),
            optout_subjects=(
                _regexes(data["optout_subjects"], "optout_subjects")
                if "optout_subjects" in data
                else defaults.optout_subjects
            ),
            optout_footers=_strings(data.get("optout_footers", defaults.optout_footers)),
        )

    def describe(self) -> str:
        """The one-line rule for messages and the digest."""
        days = self.stale_after_days
        amount = f"{days:g} {'day' if days == 1 else 'days'}"
        unit = self.calendar.describe()
        return (
            f"stale = no human review for more than {amount} ({unit}); "
            "bots, rebases, rechecks and owner pings are ignored"
        )


@dataclass(frozen=True)
class BotConfig:
    """Who is automation (the policy's ``escalation.bots`` section)."""

    accounts: tuple[str, ...] = ("zuul", "jenkins")  # username, email, name or account id
    self_account: str = "govbot"  # govbot's own account: its writes never count
    ci_labels: tuple[str, ...] = ("Verified",)
    recheck_patterns: tuple[re.Pattern[str], ...] = (
        re.compile(r"(?i)^\s*recheck\b"),
        re.compile(r"(?i)^\s*reverify\b"),
    )

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any] | None) -> BotConfig:
        """From the ``escalation.bots`` section."""
        data = dict(raw or {})
        defaults = cls()
        return cls(
            accounts=_strings(data.get("accounts", defaults.accounts)),
            self_account=str(data.get("self", defaults.self_account)),
            ci_labels=_strings(data.get("ci_labels", defaults.ci_labels)),
            recheck_patterns=(
                _regexes(data["recheck_patterns"], "recheck_patterns")
                if "recheck_patterns" in data
                else defaults.recheck_patterns
            ),
        )

    def _matches(self, account: AccountInfo, names: Iterable[str]) -> bool:
        keys = {
            str(account.account_id) if account.account_id is not None else None,
            account.username,
            account.email.lower() if account.email else None,
            account.name,
        } - {None}
        return any(name in keys or name.lower() in keys for name in names)

    def is_self(self, account: AccountInfo | None) -> bool:
        return account is not None and self._matches(account, (self.self_account,))

    def automation_reason(self, account: AccountInfo | None, tag: str | None = None) -> str | None:
        """Why ``account`` (or a message's ``tag``) is automation, or None for a human."""
        if account is not None and self.is_self(account):
            return f"govbot's own write ({account.label})"
        if tag and tag.startswith("autogenerated:"):
            return f"tagged {tag}"
        if account is None:
            return None
        if account.is_service_user:
            return f"{account.label} is a Service User"
        if self._matches(account, self.accounts):
            return f"{account.label} is a listed bot account"
        return None


@dataclass(frozen=True)
class TCConfig:
    """Who the technical committee is and how a member is chosen."""

    group: str = "technical-committee"
    liaisons: Mapping[str, str] = field(default_factory=dict)  # project -> username
    core_groups: Mapping[str, str] = field(default_factory=dict)  # project -> group
    core_group_pattern: str = "{name}-core"  # {name}: last part of the project, {project}
    away: Mapping[str, dt.date] = field(default_factory=dict)  # username -> away until (incl.)
    prefer_liaison: bool = True
    prefer_core: bool = True

    def core_group(self, project: str) -> str | None:
        if project in self.core_groups:
            return self.core_groups[project]
        if not self.core_group_pattern:
            return None
        return self.core_group_pattern.format(name=project.rsplit("/", 1)[-1], project=project)


@dataclass(frozen=True)
class ActionConfig:
    """What an escalation does on Gerrit."""

    add_as: str = "CC"  # CC | REVIEWER
    attention: bool = True
    comment: bool = False  # a message tagged autogenerated:govbot:escalation (bumps `updated`)


@dataclass(frozen=True)
class LadderConfig:
    remind_after: dt.timedelta = dt.timedelta(days=2)  # after the escalation, in the day mode
    handoff_after: dt.timedelta = dt.timedelta(days=2)  # after the reminder


@dataclass(frozen=True)
class CapsConfig:
    per_run: int = 10  # Gerrit steps (escalate/remind/hand off) per pass
    per_member_per_day: int = 3  # new assignments per member in 24 hours
    open_per_member: int = 5  # open escalations a member holds at most


@dataclass(frozen=True)
class EscalationConfig:
    """The policy's ``escalation`` section, parsed once when the policy is loaded."""

    enabled: bool = True
    projects: tuple[str, ...] = ()  # empty: the deployment's watched projects (else all)
    stale: StalenessConfig = field(default_factory=StalenessConfig)
    bots: BotConfig = field(default_factory=BotConfig)
    tc: TCConfig = field(default_factory=TCConfig)
    action: ActionConfig = field(default_factory=ActionConfig)
    ladder: LadderConfig = field(default_factory=LadderConfig)
    caps: CapsConfig = field(default_factory=CapsConfig)
    digest_period: dt.timedelta = dt.timedelta(days=7)

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any] | None) -> EscalationConfig:
        """From the ``escalation`` section (None or missing keys: the defaults)."""
        data = dict(raw or {})
        tc = dict(data.get("tc") or {})
        action = dict(data.get("action") or {})
        ladder = dict(data.get("ladder") or {})
        caps = dict(data.get("caps") or {})
        digest = dict(data.get("digest") or {})
        add_as = str(action.get("add_as", "CC")).upper()
        if add_as not in ("CC", "REVIEWER"):
            raise PolicyError(f"escalation: action.add_as must be CC or REVIEWER, not {add_as}")
        away = {}
        for user, until in dict(tc.get("away") or {}).items():
            try:
                away[str(user)] = (
                    until if isinstance(until, dt.date) else dt.date.fromisoformat(str(until))
                )
            except ValueError:
                raise PolicyError(f"escalation: tc.away.{user}: {until!r} is not a date") from None
        defaults_tc = TCConfig()
        return cls(
            enabled=bool(data.get("enabled", True)),
            projects=tuple(str(p) for p in data.get("projects") or ()),
            stale=StalenessConfig.from_raw(data.get("stale")),
            bots=BotConfig.from_raw(data.get("bots")),
            tc=TCConfig(
                group=str(tc.get("group", defaults_tc.group)),
                liaisons={str(k): str(v) for k, v in dict(tc.get("liaisons") or {}).items()},
                core_groups={str(k): str(v) for k, v in dict(tc.get("core_groups") or {}).items()},
                core_group_pattern=str(
                    tc.get("core_group_pattern", defaults_tc.core_group_pattern) or ""
                ),
                away=away,
                prefer_liaison=bool(tc.get("prefer_liaison", True)),
                prefer_core=bool(tc.get("prefer_core", True)),
            ),
            action=ActionConfig(
                add_as=add_as,
                attention=bool(action.get("attention", True)),
                comment=bool(action.get("comment", False)),
            ),
            ladder=LadderConfig(
                remind_after=parse_duration(ladder.get("remind_after", "2d"), "remind_after"),
                handoff_after=parse_duration(ladder.get("handoff_after", "2d"), "handoff_after"),
            ),
            caps=CapsConfig(
                per_run=int(caps.get("per_run", CapsConfig.per_run)),
                per_member_per_day=int(
                    caps.get("per_member_per_day", CapsConfig.per_member_per_day)
                ),
                open_per_member=int(caps.get("open_per_member", CapsConfig.open_per_member)),
            ),
            digest_period=parse_duration(digest.get("period", "7d"), "digest.period"),
        )
