"""The technical committee's digest: what waits for review, what the TC was asked to do.

:func:`build_digest` gathers, for a period (by default since the last archived digest,
else the policy's ``digest.period``), the sections README.md's digest section lists: headline
numbers with their change since the last digest, overdue and new escalations, at-risk
changes, resolved escalations with the time to review, per-project queue health, member
load, governance flags from the findings tables, and what the bot skipped and why. With a
Gerrit client the live numbers come from a dry escalation pass; without one the digest
says so and shows what the database knows.

The digest renders as plain text and HTML (Jinja templates in ``govbot/templates``, HTML
autoescaped) and as JSON; :func:`send_digest` mails it (multipart/alternative) with
smtplib, and :class:`~govbot.services.digest_store.DigestStore` keeps every digest in
the database. The sections themselves are built by pure functions in
:mod:`govbot.services.digest_sections`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import smtplib
from collections.abc import Callable, Mapping, Sequence
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import jinja2
from sqlalchemy import Engine

from govbot.db.leases import run_leased
from govbot.errors import ConfigError, GerritError
from govbot.policy import Policy
from govbot.services.digest_sections import Digest, digest_data
from govbot.services.digest_store import DigestStore
from govbot.services.escalation import EscalationClient, escalate
from govbot.services.escalation_report import EscalationReport

LOG = logging.getLogger(__name__)


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
    store = DigestStore(engine)
    previous = store.previous(now)
    if since is None:
        since = previous.period_end if previous is not None else now - cfg.digest_period
    report, live_error = _live_pass(client_or_none, engine, policy, now, watched)
    data = digest_data(
        cfg,
        since,
        now,
        previous=previous.data if previous is not None else None,
        rows=store.escalations(),
        findings=store.open_findings(),
        report=report,
        live_error=live_error,
        dashboard_url=dashboard_url,
    )
    text = _render("digest.txt.j2", data)
    html = _render("digest.html.j2", data)
    return Digest(since, now, data, text, html)


def _live_pass(
    client_or_none: EscalationClient | None,
    engine: Engine,
    policy: Policy,
    now: dt.datetime,
    watched: Sequence[tuple[str, str | None] | str],
) -> tuple[EscalationReport | None, str | None]:
    """A dry escalation pass (it writes nothing), or why there is none."""
    if client_or_none is None:
        return None, None
    try:
        return escalate(client_or_none, engine, policy, now, dry_run=True, watched=watched), None
    except GerritError as exc:
        LOG.warning("digest: Gerrit unavailable, database sections only: %s", exc)
        return None, str(exc)


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


# --- mail -----------------------------------------------------------------------------------


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
    store = DigestStore(engine)
    digest_id = store.archive(digest)
    send_digest(digest, smtp_host, smtp_port, to, sender, timeout=timeout)
    store.mark_sent(digest_id, now, to)
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
        store = DigestStore(engine)
        digest_id = store.archive(digest)
        if smtp_host and to:
            send_digest(digest, smtp_host, smtp_port, to, sender)
            store.mark_sent(digest_id, now(), to)
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
    "build_digest",
    "digest_command",
    "digest_email",
    "digest_job",
    "send_digest",
]
