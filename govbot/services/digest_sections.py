"""The digest's data: the :class:`Digest` value and the pure functions that build its
sections (README.md, the TC digest) from escalation rows, findings and a dry
escalation pass. Nothing here reads or writes the database or Gerrit:
:mod:`govbot.services.digest_store` reads and archives, :mod:`govbot.services.digest`
gathers, renders and sends.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from govbot.db.models import Escalation, EscalationStage
from govbot.policy import EscalationConfig
from govbot.services.escalation_report import EscalationReport, format_duration
from govbot.services.staleness import Assessment, format_waited

# Findings that the digest shows as governance flags (README.md, Blueprints).
DEPRECATION_RULES = ("DEP002", "DEP004", "DEP005", "DEP008")
HEADLINES = (
    ("waiting", "open changes waiting on reviewers"),
    ("stale", "stale"),
    ("at_risk", "at risk"),
    ("new_escalations", "new escalations"),
    ("resolved", "resolved after escalation"),
    ("overdue", "overdue (reminded or handed over)"),
    ("unassigned", "unassigned (no eligible TC member)"),
    ("blocked", "blocked by Code-Review-2"),
)


@dataclass(frozen=True)
class Digest:
    """One digest: its period, its data (JSON-ready), and its text and HTML renderings."""

    period_start: dt.datetime
    period_end: dt.datetime
    data: Mapping[str, Any]
    text: str
    html: str

    @property
    def subject(self) -> str:
        h = self.data["headline"]
        return (
            f"govbot TC digest {self.period_end:%Y-%m-%d}: {h['stale']['value']} stale, "
            f"{h['new_escalations']['value']} new escalations, {h['overdue']['value']} overdue"
        )

    def to_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.data))


# --- sections -------------------------------------------------------------------------------


def escalation_sections(
    rows: Sequence[Escalation], since: dt.datetime, now: dt.datetime, cfg: EscalationConfig
) -> dict[str, Any]:
    """What the database knows: overdue, new, open and resolved escalations, member load,
    and the hours to review of the reviewed ones (``ttr_hours``)."""
    episodes = group_episodes(rows)
    open_eps = [v for v in episodes.values() if v[0].resolved_at is None]

    def by_wait(eps: Iterable[list[Escalation]]) -> list[dict[str, Any]]:
        return sorted((_escalation_row(v, now, cfg) for v in eps), key=lambda r: -r["waited_days"])

    late = (EscalationStage.REMIND, EscalationStage.HANDOFF)
    resolved, ttr_hours = _resolved(episodes.values(), since, now)
    load: Counter[str] = Counter(v[-1].assignee for v in open_eps)
    return {
        "overdue": by_wait(v for v in open_eps if v[-1].stage in late),
        "new_escalations": by_wait(
            v for v in episodes.values() if since <= (v[0].acted_at or v[0].created_at) <= now
        ),
        "open_escalations": by_wait(open_eps),
        "resolved": resolved,
        "ttr_hours": ttr_hours,
        "load": [
            {"member": m, "open": n, "capacity": cfg.caps.open_per_member}
            for m, n in sorted(load.items())
        ],
    }


def digest_data(
    cfg: EscalationConfig,
    since: dt.datetime,
    now: dt.datetime,
    *,
    previous: Mapping[str, Any] | None,
    rows: Sequence[Escalation],
    findings: Iterable[Mapping[str, Any]],
    report: EscalationReport | None,
    live_error: str | None,
    dashboard_url: str | None,
) -> dict[str, Any]:
    """The digest's data (JSON-ready) for ``[since, now)``; ``previous``: the last
    digest's data, for the change of each headline figure."""
    esc = escalation_sections(rows, since, now, cfg)
    ttr_hours = esc.pop("ttr_hours")
    live = _live(report, now)
    counts = {k: len(esc[k]) for k in ("new_escalations", "resolved", "overdue")}
    median_ttr = statistics.median(ttr_hours) if ttr_hours else None
    p90_ttr = _percentile(ttr_hours, 0.9)
    errors = list(report.errors) if report is not None else ([live_error] if live_error else [])
    return {
        "period": {"start": _iso(since), "end": _iso(now)},
        "period_text": f"{since:%Y-%m-%d %H:%M} to {now:%Y-%m-%d %H:%M} UTC",
        "generated_at": _iso(now),
        "freshness": _freshness(report, live_error),
        "rule": cfg.stale.describe(),
        "headline": _headline({**counts, **live.counts()}, previous),
        "time_to_review": {
            "median_hours": round(median_ttr, 1) if median_ttr is not None else None,
            "p90_hours": round(p90_ttr, 1) if p90_ttr is not None else None,
        },
        **{k: esc[k] for k in ("overdue", "new_escalations", "open_escalations")},
        "stale": live.stale,
        "at_risk": live.at_risk,
        "resolved": esc["resolved"],
        "queue_health": _queue_health(report) if report is not None else [],
        "load": esc["load"],
        "governance": governance_flags(findings),
        "skipped": {
            "counts": dict(sorted(live.skipped.items())),
            "changes": live.skipped_list,
            "unassigned": live.unassigned,
            "caps_hit": list(report.caps_hit) if report is not None else [],
            "errors": errors,
        },
        "dashboard_url": dashboard_url,
    }


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def _when(when: dt.datetime | None) -> str:
    return f"{when:%Y-%m-%d %H:%M} UTC" if when is not None else "-"


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def group_episodes(rows: Sequence[Escalation]) -> dict[tuple[int, dt.datetime], list[Escalation]]:
    order = list(EscalationStage)
    grouped: dict[tuple[int, dt.datetime], list[Escalation]] = defaultdict(list)
    for row in rows:
        grouped[(row.change_number, row.episode_start)].append(row)
    for items in grouped.values():
        items.sort(key=lambda r: order.index(r.stage))
    return dict(grouped)


def _escalation_row(
    rows: list[Escalation], now: dt.datetime, cfg: EscalationConfig
) -> dict[str, Any]:
    first, latest = rows[0], rows[-1]
    waited = cfg.stale.calendar.elapsed_days(first.episode_start, now)
    return {
        "change": first.change_number,
        "project": first.project,
        "subject": first.subject,
        "owner": first.owner,
        "assignee": latest.assignee,
        "stage": str(latest.stage),
        "waiting_since": _iso(first.episode_start),
        "waiting_since_text": _when(first.episode_start),
        "waited_days": round(waited, 2),
        "waited": format_waited(waited, cfg.stale.calendar.mode),
        "escalated_at": _iso(first.acted_at or first.created_at),
        "reason": latest.reason,
    }


def governance_flags(findings: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The findings the TC should see (open changes, current patch set), by section.

    ``findings``: as :meth:`govbot.services.digest_store.DigestStore.open_findings` gives
    them, in change and rule order."""
    flags: dict[str, list[dict[str, Any]]] = {
        "api_changes_without_blueprint": [],
        "specs_lacking_use_cases": [],
        "deprecations_near_sunset": [],
    }
    seen: set[tuple[int, str, str, str]] = set()
    for finding in findings:
        key = (finding["change"], finding["rule"], finding["file"], finding["pointer"])
        if key in seen:
            continue
        section = _flag_section(finding["rule"])
        if section is None:
            continue
        seen.add(key)
        flags[section].append({k: v for k, v in finding.items() if k != "pointer"})
    return flags


def _flag_section(rule: str) -> str | None:
    """Which governance section a finding of ``rule`` belongs to (None: none)."""
    if rule.startswith("BPR"):
        # BPR001-BPR009 judge a design spec (use cases); BPR010 and up judge a
        # change's blueprint reference (govbot.rules.blueprints).
        return "specs_lacking_use_cases" if rule < "BPR010" else "api_changes_without_blueprint"
    if rule in DEPRECATION_RULES:
        return "deprecations_near_sunset"
    return None


def _queue_health(report: EscalationReport) -> list[dict[str, Any]]:
    per: dict[str, dict[str, Any]] = {}
    for c in report.candidates:
        a = c.assessment
        row = per.setdefault(
            a.project,
            {
                "project": a.project,
                "waiting_on_reviewers": 0,
                "waiting_on_owner": 0,
                "blocked": 0,
                "other_skipped": 0,
                "stale": 0,
                "waits": [],
                "oldest": None,
            },
        )
        if a.eligible:
            row["waiting_on_reviewers"] += 1
            row["waits"].append(a.waited_days)
            row["stale"] += int(a.stale)
            if row["oldest"] is None or a.waited_days > row["oldest"][1]:
                row["oldest"] = (a.number, a.waited_days)
        elif a.skip_reason is not None and str(a.skip_reason) in (
            "waiting-on-owner",
            "waiting-for-ci",
        ):
            row["waiting_on_owner"] += 1
        elif a.skip_reason is not None and str(a.skip_reason) == "blocked":
            row["blocked"] += 1
        else:
            row["other_skipped"] += 1
    out = []
    for project in sorted(per):
        row = per[project]
        waits = row.pop("waits")
        oldest = row.pop("oldest")
        row["median_wait_days"] = round(statistics.median(waits), 2) if waits else None
        p90 = _percentile(waits, 0.9)
        row["p90_wait_days"] = round(p90, 2) if p90 is not None else None
        row["over_7_days"] = sum(1 for w in waits if w > 7)
        row["oldest_change"] = oldest[0] if oldest else None
        row["oldest_wait_days"] = round(oldest[1], 2) if oldest else None
        out.append(row)
    return out


def _freshness(report: EscalationReport | None, live_error: str | None) -> str:
    if report is not None:
        return "live from Gerrit"
    if live_error:
        return f"database only: Gerrit unavailable ({live_error})"
    return "database only: no Gerrit connection"


def _headline(
    values: Mapping[str, int | None], previous: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Each headline figure beside the previous digest's, with the change between them."""
    before = (previous or {}).get("headline", {})
    headline = {}
    for key, label in HEADLINES:
        value = values[key]
        old = before.get(key, {}).get("value") if isinstance(before.get(key), dict) else None
        delta = value - old if isinstance(value, int) and isinstance(old, int) else None
        headline[key] = {"label": label, "value": value, "previous": old, "delta": delta}
    return headline


def _resolved(
    episodes: Iterable[list[Escalation]], since: dt.datetime, now: dt.datetime
) -> tuple[list[dict[str, Any]], list[float]]:
    """The episodes resolved in ``[since, now]``, and the hours each reviewed one took."""
    resolved = []
    ttr_hours: list[float] = []
    for v in episodes:
        first = v[0]
        if first.resolved_at is None or not (since <= first.resolved_at <= now):
            continue
        escalated = first.acted_at or first.created_at
        entry = {
            "change": first.change_number,
            "project": first.project,
            "subject": first.subject,
            "assignee": v[-1].assignee,
            "resolution": first.resolution,
            "resolved_by": first.resolved_by,
            "resolved_at": _iso(first.resolved_at),
            "time_to_review": None,
            "time_to_review_hours": None,
        }
        if first.resolution == "reviewed":
            ttr = max(first.resolved_at - escalated, dt.timedelta(0))
            entry["time_to_review"] = format_duration(ttr)
            entry["time_to_review_hours"] = round(ttr.total_seconds() / 3600, 1)
            ttr_hours.append(ttr.total_seconds() / 3600)
        resolved.append(entry)
    resolved.sort(key=lambda r: (r["resolved_at"] or "", r["change"]))
    return resolved, ttr_hours


@dataclass
class _Live:
    """The sections only a live (dry) escalation pass can fill; empty without one."""

    report: EscalationReport | None
    stale: list[dict[str, Any]] = field(default_factory=list)
    at_risk: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_list: list[dict[str, Any]] = field(default_factory=list)
    unassigned: list[dict[str, Any]] = field(default_factory=list)
    blocked: int = 0
    waiting: int = 0

    def counts(self) -> dict[str, int | None]:
        """The headline figures of these sections (None: no live pass)."""
        live = self.report is not None
        return {
            "waiting": self.waiting if live else None,
            "stale": len(self.stale) if live else None,
            "at_risk": len(self.at_risk) if live else None,
            "unassigned": len(self.unassigned) if live else None,
            "blocked": self.blocked if live else None,
        }


def _live(report: EscalationReport | None, now: dt.datetime) -> _Live:
    live = _Live(report)
    if report is None:
        return live
    for c in report.candidates:
        a = c.assessment
        base = _candidate_row(a)
        live.waiting += int(a.eligible)
        if a.stale:
            live.stale.append({**base, "assignee": c.assignee, "action": c.action})
        if a.at_risk and a.due_at is not None:
            left = a.due_at - now
            live.at_risk.append(
                {**base, "due_at": _when(a.due_at), "time_left": format_duration(left)}
            )
        if a.skip_reason is not None:
            live.skipped[str(a.skip_reason)] += 1
            live.blocked += int(str(a.skip_reason) == "blocked")
            live.skipped_list.append(
                {**base, "skip_reason": str(a.skip_reason), "reason": a.reason}
            )
        if c.action == "unassigned":
            live.unassigned.append({**base, "detail": c.detail})
    live.stale.sort(key=lambda r: -r["waited_days"])
    live.at_risk.sort(key=lambda r: (r["project"], r["change"]))
    live.skipped_list.sort(key=lambda r: (r["skip_reason"], r["change"]))
    return live


def _candidate_row(a: Assessment) -> dict[str, Any]:
    return {
        "change": a.number,
        "project": a.project,
        "subject": a.subject,
        "owner": a.owner,
        "waiting_since": _iso(a.clock_start),
        "waiting_since_text": _when(a.clock_start),
        "waited": a.waited_text() if a.clock_start else "-",
        "waited_days": round(a.waited_days, 2),
        "last_human_review": (
            f"{a.last_human_review.actor} at {_when(a.last_human_review.when)}"
            if a.last_human_review
            else "none"
        ),
    }


__all__ = ["Digest", "digest_data", "escalation_sections", "governance_flags", "group_episodes"]
