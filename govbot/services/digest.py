"""The technical committee's digest: what waits for review, what the TC was asked to do.

:func:`build_digest` gathers, for a period (by default since the last archived digest,
else the policy's ``digest.period``), the sections of research/escalation.md A7: headline
numbers with their change since the last digest, overdue and new escalations, at-risk
changes, resolved escalations with the time to review, per-project queue health, member
load, governance flags from the findings tables, and what the bot skipped and why. With a
Gerrit client the live numbers come from a dry escalation pass; without one the digest
says so and shows what the database knows.

The digest renders as plain text and HTML (Jinja templates in ``govbot/templates``, HTML
autoescaped) and as JSON; :func:`send_digest` mails it (multipart/alternative) with
smtplib, and :func:`archive_digest` keeps every digest in the database.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import smtplib
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import jinja2
from sqlalchemy import Engine, and_, desc, select, update

from govbot.db.leases import run_leased
from govbot.db.models import (
    Change,
    DigestRecord,
    Escalation,
    EscalationStage,
    Evaluation,
    FindingRecord,
    Project,
)
from govbot.db.session import session_scope
from govbot.errors import ConfigError, GerritError
from govbot.policy import EscalationConfig, Policy
from govbot.services.escalation import EscalationClient, escalate
from govbot.services.escalation_report import EscalationReport, format_duration
from govbot.services.staleness import Assessment, format_waited

LOG = logging.getLogger(__name__)

# Findings that the digest shows as governance flags (design.md §4.4, §4.2).
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


# --- gathering -------------------------------------------------------------------------------


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


def _previous(engine: Engine, before: dt.datetime) -> DigestRecord | None:
    with session_scope(engine) as session:
        return session.scalars(
            select(DigestRecord)
            .where(DigestRecord.period_end < before)
            .order_by(desc(DigestRecord.period_end), desc(DigestRecord.id))
            .limit(1)
        ).first()


def _episode_rows(engine: Engine) -> list[Escalation]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Escalation).order_by(Escalation.id)))


def _episodes(rows: Sequence[Escalation]) -> dict[tuple[int, dt.datetime], list[Escalation]]:
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


def _governance_flags(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Findings on the current patch set of open changes that the TC should see."""
    flags: dict[str, list[dict[str, Any]]] = {
        "api_changes_without_blueprint": [],
        "specs_lacking_use_cases": [],
        "deprecations_near_sunset": [],
    }
    seen: set[tuple[int, str, str, str]] = set()
    with session_scope(engine) as session:
        query = (
            select(FindingRecord, Evaluation.change_number, Change.subject, Project.name)
            .join(Evaluation, FindingRecord.evaluation_id == Evaluation.id)
            .join(
                Change,
                and_(
                    Change.number == Evaluation.change_number,
                    Change.current_patch_set == Evaluation.patch_set_number,
                ),
            )
            .join(Project, Project.id == Change.project_id)
            .where(Change.status == "NEW")
            .order_by(Evaluation.change_number, FindingRecord.rule, FindingRecord.id)
        )
        for finding, number, subject, project in session.execute(query):
            key = (number, finding.rule, finding.file, finding.pointer)
            if key in seen:
                continue
            if finding.rule.startswith("BPR"):
                # BPR001-BPR009 judge a design spec (use cases); BPR010 and up judge a
                # change's blueprint reference (govbot.rules.blueprints).
                about_spec = finding.rule < "BPR010"
                section = (
                    "specs_lacking_use_cases" if about_spec else "api_changes_without_blueprint"
                )
            elif finding.rule in DEPRECATION_RULES:
                section = "deprecations_near_sunset"
            else:
                continue
            seen.add(key)
            flags[section].append(
                {
                    "change": number,
                    "project": project,
                    "subject": subject,
                    "rule": finding.rule,
                    "name": finding.name,
                    "severity": str(finding.severity),
                    "file": finding.file,
                    "line": finding.line,
                    "message": finding.message,
                }
            )
    return flags


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


def build_digest(
    engine: Engine,
    client_or_none: EscalationClient | None,
    now: dt.datetime,
    since: dt.datetime | None = None,
    *,
    policy: Policy,
    watched: Sequence[tuple[str, str | None] | str] = (),
    dashboard_url: str | None = None,
) -> Digest:
    """The digest for ``[since, now)``; ``since`` defaults to the last digest's end.

    With ``client_or_none`` the live sections (stale, at risk, queue health, skipped)
    come from a dry escalation pass: nothing is written to Gerrit or the database.
    """
    cfg = policy.escalation
    previous = _previous(engine, now)
    if since is None:
        since = previous.period_end if previous is not None else now - cfg.digest_period
    report: EscalationReport | None = None
    live_error = None
    if client_or_none is not None:
        try:
            report = escalate(client_or_none, engine, policy, now, dry_run=True, watched=watched)
        except GerritError as exc:
            live_error = str(exc)
            LOG.warning("digest: Gerrit unavailable, database sections only: %s", exc)

    episodes = _episodes(_episode_rows(engine))
    open_eps = [v for v in episodes.values() if v[0].resolved_at is None]

    def by_wait(eps: Iterable[list[Escalation]]) -> list[dict[str, Any]]:
        return sorted((_escalation_row(v, now, cfg) for v in eps), key=lambda r: -r["waited_days"])

    late = (EscalationStage.REMIND, EscalationStage.HANDOFF)
    overdue = by_wait(v for v in open_eps if v[-1].stage in late)
    new = by_wait(
        v for v in episodes.values() if since <= (v[0].acted_at or v[0].created_at) <= now
    )
    resolved, ttr_hours = _resolved(episodes.values(), since, now)
    load_counter: Counter[str] = Counter(v[-1].assignee for v in open_eps)
    live = _live(report, now)
    counts = {"new_escalations": len(new), "resolved": len(resolved), "overdue": len(overdue)}
    median_ttr = statistics.median(ttr_hours) if ttr_hours else None
    p90_ttr = _percentile(ttr_hours, 0.9)
    errors = list(report.errors) if report is not None else ([live_error] if live_error else [])
    data: dict[str, Any] = {
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
        "overdue": overdue,
        "new_escalations": new,
        "open_escalations": by_wait(open_eps),
        "stale": live.stale,
        "at_risk": live.at_risk,
        "resolved": resolved,
        "queue_health": _queue_health(report) if report is not None else [],
        "load": [
            {"member": m, "open": n, "capacity": cfg.caps.open_per_member}
            for m, n in sorted(load_counter.items())
        ],
        "governance": _governance_flags(engine),
        "skipped": {
            "counts": dict(sorted(live.skipped.items())),
            "changes": live.skipped_list,
            "unassigned": live.unassigned,
            "caps_hit": list(report.caps_hit) if report is not None else [],
            "errors": errors,
        },
        "dashboard_url": dashboard_url,
    }
    text = _render("digest.txt.j2", data)
    html = _render("digest.html.j2", data)
    return Digest(since, now, data, text, html)


def _freshness(report: EscalationReport | None, live_error: str | None) -> str:
    if report is not None:
        return "live from Gerrit"
    if live_error:
        return f"database only: Gerrit unavailable ({live_error})"
    return "database only: no Gerrit connection"


def _headline(values: Mapping[str, int | None], previous: DigestRecord | None) -> dict[str, Any]:
    """Each headline figure beside the previous digest's, with the change between them."""
    before = (previous.data or {}).get("headline", {}) if previous is not None else {}
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


# --- rendering -------------------------------------------------------------------------------


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("govbot", "templates"),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["signed"] = lambda v: "" if v is None else (f"+{v}" if v > 0 else str(v))
    env.filters["dash"] = lambda v: "-" if v is None else v
    return env


def _render(template: str, data: Mapping[str, Any]) -> str:
    return _environment().get_template(template).render(d=data)


# --- archive and mail ------------------------------------------------------------------------


def archive_digest(
    engine: Engine,
    digest: Digest,
    *,
    sent_at: dt.datetime | None = None,
    recipients: Sequence[str] = (),
) -> int:
    """Keep ``digest`` in the ``digests`` table; its id."""
    with session_scope(engine) as session:
        record = DigestRecord(
            period_start=digest.period_start,
            period_end=digest.period_end,
            created_at=digest.period_end,
            sent_at=sent_at,
            recipients=", ".join(recipients) or None,
            text=digest.text,
            html=digest.html,
            data=digest.to_json(),
        )
        session.add(record)
        session.flush()
        return record.id


def mark_sent(
    engine: Engine, digest_id: int, sent_at: dt.datetime, recipients: Sequence[str]
) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(DigestRecord)
            .where(DigestRecord.id == digest_id)
            .values(sent_at=sent_at, recipients=", ".join(recipients))
        )


def digest_email(digest: Digest, to: Sequence[str], sender: str) -> EmailMessage:
    """The digest as a multipart/alternative email: plain text first, then HTML."""
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = format_datetime(digest.period_end)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "govbot.invalid")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message.set_content(digest.text)
    message.add_alternative(digest.html, subtype="html")
    return message


def send_digest(
    digest: Digest,
    smtp_host: str,
    smtp_port: int,
    to: Sequence[str],
    sender: str,
    *,
    timeout: float = 30.0,
    starttls: bool = False,
    username: str | None = None,
    password: str | None = None,
) -> EmailMessage:
    """Mail ``digest`` through the SMTP server at ``smtp_host:smtp_port``; the message sent."""
    if not smtp_host:
        raise ConfigError("no SMTP server: set GOVBOT_SMTP_HOST")
    recipients = [r for r in to if r]
    if not recipients:
        raise ConfigError("no digest recipients: set GOVBOT_DIGEST_TO")
    message = digest_email(digest, recipients, sender)
    with smtplib.SMTP(smtp_host, smtp_port, timeout=timeout) as smtp:
        if starttls:
            smtp.starttls()
        if username:
            smtp.login(username, password or "")
        smtp.send_message(message)
    LOG.info(
        "digest %s sent to %d recipient(s) via %s:%s",
        digest.subject,
        len(recipients),
        smtp_host,
        smtp_port,
    )
    return message


# --- wiring for the CLI and the scheduler ----------------------------------------------------


def digest_command(
    engine: Engine,
    client_or_none: EscalationClient | None,
    policy: Policy,
    now: dt.datetime,
    *,
    fmt: str = "text",
    send: bool = False,
    smtp_host: str = "",
    smtp_port: int = 25,
    to: Sequence[str] = (),
    sender: str = "govbot@localhost",
    timeout: float = 30.0,
    since: dt.datetime | None = None,
    watched: Sequence[tuple[str, str | None] | str] = (),
) -> tuple[str, int]:
    """``govbot digest [--send] [--format text|html|json]``: (output, exit code).

    Without ``--send`` the digest is printed and not archived (a preview). With it, it is
    archived, mailed, and marked sent; the output then says where it went.
    """
    digest = build_digest(engine, client_or_none, now, since, policy=policy, watched=watched)
    if fmt == "json":
        out = json.dumps(digest.to_json(), indent=2, sort_keys=True) + "\n"
    elif fmt == "html":
        out = digest.html
    else:
        out = digest.text
    if not send:
        return out, 0
    if not smtp_host or not to:
        raise ConfigError("digest --send needs GOVBOT_SMTP_HOST and GOVBOT_DIGEST_TO")
    digest_id = archive_digest(engine, digest)
    send_digest(digest, smtp_host, smtp_port, to, sender, timeout=timeout)
    mark_sent(engine, digest_id, now, to)
    note = f"digest {digest_id} sent to {', '.join(to)} via {smtp_host}:{smtp_port}\n"
    return (out if fmt != "text" else "") + note, 0


def digest_job(
    engine: Engine,
    client_factory: Callable[[], EscalationClient | None],
    policy: Policy,
    *,
    owner: str,
    now: Callable[[], dt.datetime],
    smtp_host: str,
    smtp_port: int,
    to: Sequence[str],
    sender: str = "govbot@localhost",
    slot: dt.datetime | None = None,
    watched: Sequence[tuple[str, str | None] | str] = (),
    ttl: dt.timedelta = dt.timedelta(minutes=30),
) -> int | None:
    """The scheduler's digest job: build, archive and send once per ``slot`` across
    processes (the ``digest`` lease). The archived digest's id, or None (not this
    process's turn, or it failed: logged)."""

    def run() -> int:
        client = client_factory()
        try:
            digest = build_digest(engine, client, now(), policy=policy, watched=watched)
        finally:
            close = getattr(client, "close", None)
            if close is not None:
                close()
        digest_id = archive_digest(engine, digest)
        if smtp_host and to:
            send_digest(digest, smtp_host, smtp_port, to, sender)
            mark_sent(engine, digest_id, now(), to)
        else:
            LOG.warning("digest %s archived, not mailed: no SMTP host or recipients", digest_id)
        return digest_id

    try:
        _ran, digest_id = run_leased(engine, "digest", owner, run, now=now, ttl=ttl, slot=slot)
    except Exception:  # the edge of a scheduler job
        LOG.exception("job=digest failed")
        return None
    return digest_id


__all__ = [
    "Digest",
    "archive_digest",
    "build_digest",
    "digest_command",
    "digest_email",
    "digest_job",
    "mark_sent",
    "send_digest",
]
