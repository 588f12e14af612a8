"""The TC digest: content, rendering, the archive, and mail through a real SMTP server."""

from __future__ import annotations

import datetime as dt
import email
import json
import socket
from collections.abc import Iterator
from email import policy as email_policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from escalation_support import HOUR, NOW, POLICY, new_change
from sqlalchemy import Engine, select

from govbot.db import session_scope
from govbot.db.models import (
    Change,
    DigestRecord,
    Evaluation,
    EvaluationStatus,
    FindingRecord,
    PatchSet,
    Project,
)
from govbot.findings import Audience, Severity
from govbot.gerrit.client import GerritClient
from govbot.policy import Policy
from govbot.sandbox import Clock, Sandbox, reviews, running_sandbox
from govbot.services.digest import build_digest, digest_command, send_digest
from govbot.services.digest_store import DigestStore
from govbot.services.escalation import escalate

DEMO_NOW = dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC)


class Inbox(Sink):
    """An aiosmtpd handler that keeps what it received."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, str, int]]:
    """A real SMTP server on 127.0.0.1 with a free port.

    aiosmtpd's Controller checks its server by connecting to the port it was given, so
    port 0 cannot be passed through: a free port is asked of the OS first.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, "127.0.0.1", port
    finally:
        controller.stop()


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email_policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_demo_digest_is_mailed_with_text_and_html_parts(engine: Engine, smtp) -> None:
    """`govbot digest --send` on the demo: one email, text and HTML parts, changes 2 and 3."""
    inbox, host, port = smtp
    with running_sandbox(seed="demo", clock=Clock(DEMO_NOW)) as demo:
        client = GerritClient(demo.url, "govbot", "govbot-demo", retries=0)
        escalate(client, engine, Policy(), DEMO_NOW)
        out, code = digest_command(
            engine,
            client,
            Policy(),
            DEMO_NOW,
            send=True,
            smtp_host=host,
            smtp_port=port,
            to=["tc@example.org", "chair@example.org"],
            sender="govbot@example.org",
            timeout=10,
        )
        client.close()
    assert code == 0 and "sent to tc@example.org, chair@example.org" in out
    [(sender, rcpts, raw)] = inbox.messages
    assert sender == "govbot@example.org"
    assert rcpts == ["tc@example.org", "chair@example.org"]
    message = parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    assert (
        message["Subject"] == "govbot TC digest 2026-03-04: 2 stale, 2 new escalations, 0 overdue"
    )
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    text_body, html_body = text.get_content(), html.get_content()
    for body in (text_body, html_body):
        assert "Remove the delete keypair API" in body  # change 2
        assert "Add a volume labels API" in body  # change 3
        assert "#2" in body and "#3" in body
        assert "Accept a description when creating a keypair" in body  # 7, in "skipped"
    new_section = text_body.split("New escalations this period")[1].split("Stale changes now")[0]
    assert (
        "#2 openstack/compute-api" in new_section
        and "#3 openstack/block-storage-api" in new_section
    )
    assert "#1 " not in new_section and "#6 " not in new_section
    assert "<table>" in html_body and "<td>#2</td>" in html_body
    with session_scope(engine) as session:
        [record] = session.scalars(select(DigestRecord)).all()
    assert record.sent_at == DEMO_NOW and record.recipients == "tc@example.org, chair@example.org"
    assert record.data["headline"]["stale"]["value"] == 2
    assert record.text == text_body.replace("\r\n", "\n")


def test_digest_formats_and_change_since_last(world: Sandbox, engine: Engine) -> None:
    """JSON for tools; headline deltas against the archived previous digest."""
    client = GerritClient(world.url, "govbot", "govbot-demo", retries=0)
    new_change(world, NOW)
    world.clock.set(NOW + 49 * HOUR)
    escalate(client, engine, POLICY, NOW + 49 * HOUR)
    first, _ = digest_command(engine, client, POLICY, NOW + 49 * HOUR, fmt="json")
    data = json.loads(first)
    assert data["headline"]["stale"] == {
        "label": "stale",
        "value": 1,
        "previous": None,
        "delta": None,
    }
    assert data["freshness"] == "live from Gerrit"
    assert data["governance"] == {
        "api_changes_without_blueprint": [],
        "specs_lacking_use_cases": [],
        "deprecations_near_sunset": [],
    }
    # archive one, then a human review resolves the escalation
    DigestStore(engine).archive(build_digest(engine, client, NOW + 49 * HOUR, policy=POLICY))
    reviews.vote(world, 1, "ben", "Code-Review", 1, message="ok", date=NOW + 52 * HOUR)
    world.clock.set(NOW + 55 * HOUR)
    escalate(client, engine, POLICY, NOW + 55 * HOUR)
    later = build_digest(engine, client, NOW + 55 * HOUR, policy=POLICY)
    h = later.data["headline"]
    assert (h["stale"]["value"], h["stale"]["delta"]) == (0, -1)
    assert (h["resolved"]["value"], h["resolved"]["delta"]) == (1, 1)
    [resolved] = later.data["resolved"]
    assert (resolved["resolved_by"], resolved["time_to_review"]) == ("Ben", "3 hours")
    assert "reviewed by Ben, 3 hours after the escalation" in later.text
    assert later.period_start == NOW + 49 * HOUR
    client.close()


def test_digest_without_gerrit_shows_database_sections(world: Sandbox, engine: Engine) -> None:
    """No client: the open escalations from the database, and the digest says so."""
    client = GerritClient(world.url, "govbot", "govbot-demo", retries=0)
    new_change(world, NOW, subject="<script>alert(1)</script>")
    world.clock.set(NOW + 49 * HOUR)
    escalate(client, engine, POLICY, NOW + 49 * HOUR)
    client.close()
    digest = build_digest(engine, None, NOW + 50 * HOUR, policy=POLICY)
    assert digest.data["freshness"] == "database only: no Gerrit connection"
    assert digest.data["headline"]["stale"]["value"] is None
    assert len(digest.data["new_escalations"]) == 1
    # HTML is escaped; text is not
    assert "<script>alert(1)</script>" not in digest.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in digest.html
    assert "<script>alert(1)</script>" in digest.text


def test_governance_flags_come_from_the_findings(engine: Engine) -> None:
    """BPR findings and deprecations near sunset on open changes are listed."""
    with session_scope(engine) as session:
        project = Project(name="openstack/compute-api")
        session.add(project)
        session.flush()
        session.add(
            Change(
                number=9,
                project_id=project.id,
                branch="master",
                change_id="I9",
                subject="Deprecate os-hosts",
                status="NEW",
                current_patch_set=1,
                created=NOW,
                updated=NOW,
            )
        )
        session.add(PatchSet(change_number=9, number=1, revision="a" * 40, uploaded=NOW))
        evaluation = Evaluation(
            change_number=9,
            patch_set_number=1,
            policy_digest="d" * 64,
            purpose="api-review",
            status=EvaluationStatus.SUCCEEDED,
        )
        session.add(evaluation)
        session.flush()
        for rule, name in (
            ("BPR010", "api-change-without-blueprint"),
            ("BPR002", "use-case-empty"),
            ("DEP004", "deprecated-without-sunset"),
            ("CON001", "field-snake-case"),
        ):
            session.add(
                FindingRecord(
                    evaluation_id=evaluation.id,
                    rule=rule,
                    name=name,
                    severity=Severity.ERROR,
                    audience=Audience.EXTERNAL,
                    file="api-specs/compute.yaml",
                    line=3,
                    pointer="/paths",
                    message=f"{name} here",
                    fingerprint=rule,
                )
            )
    digest = build_digest(engine, None, NOW, policy=Policy())
    flags = digest.data["governance"]
    assert [f["rule"] for f in flags["api_changes_without_blueprint"]] == ["BPR010"]
    assert [f["rule"] for f in flags["specs_lacking_use_cases"]] == ["BPR002"]
    assert [f["rule"] for f in flags["deprecations_near_sunset"]] == ["DEP004"]
    assert "#9 openstack/compute-api: DEP004 deprecated-without-sunset" in digest.text


def test_send_digest_needs_a_server_and_recipients(engine: Engine) -> None:
    from govbot.errors import ConfigError

    digest = build_digest(engine, None, NOW, policy=Policy())
    with pytest.raises(ConfigError, match="GOVBOT_SMTP_HOST"):
        send_digest(digest, "", 25, ["a@example.org"], "govbot@example.org")
    with pytest.raises(ConfigError, match="GOVBOT_DIGEST_TO"):
        send_digest(digest, "127.0.0.1", 25, [], "govbot@example.org")
