"""`govbot blueprint`, `govbot escalate` and `govbot digest`, as a user runs them.

blueprint runs on the design specs of tests/data/specs; escalate and digest run as real
processes against the sandbox Gerrit's demo seed (on the wall clock) and a real
database (SQLite, and PostgreSQL when reachable), and the digest is mailed to a real
SMTP server (aiosmtpd) on 127.0.0.1.
"""

from __future__ import annotations

import csv
import email
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from sqlalchemy import select

from govbot.cli import cli
from govbot.db import make_engine, session_scope
from govbot.db.models import DigestRecord, Escalation
from govbot.sandbox import Sandbox, running_sandbox
from govbot.sandbox.seed import BLOCK_STORAGE, COMPUTE, COMPUTE_SPECS
from tests.db.conftest import db_url

__all__ = ["db_url"]

REPO = Path(__file__).resolve().parents[2]
GOVBOT = str(Path(sys.executable).with_name("govbot"))
SPECS = REPO / "tests" / "data" / "specs"
CINDER = SPECS / "cinder-style"
KEYSTONE = SPECS / "keystone-style"
NOVA = SPECS / "nova"
JSON_KEYS = {"file", "verdict", "strength", "section", "line", "evidence", "findings"}


def invoke(*args: str | Path):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("govbot: "), stderr
    return lines[0]


def expected(directory: Path) -> dict[str, tuple[str, str]]:
    with (directory / "expected.csv").open(encoding="utf-8") as handle:
        return {row["path"]: (row["verdict"], row["strength"]) for row in csv.DictReader(handle)}


# --- govbot blueprint ----------------------------------------------------------------------


def test_blueprint_justified_spec_exits_0(monkeypatch):
    monkeypatch.chdir(CINDER)
    result = invoke("blueprint", "specs/2026.2/backup-compression-choice.rst")
    assert result.exit_code == 0, result.output
    assert "specs/2026.2/backup-compression-choice.rst:" in result.stdout
    assert ": justified (strong):" in result.stdout
    assert result.stdout.rstrip().endswith("1 spec: 1 justified, 0 unjustified")


def test_blueprint_json_one_object_per_file_with_the_issue_keys(monkeypatch):
    """A directory: every spec judged (the template recognised as such), the verdicts a
    reader gives (expected.csv), exit 1 because some are unjustified."""
    monkeypatch.chdir(CINDER)
    result = invoke("blueprint", "--format", "json", "specs")
    assert result.exit_code == 1, result.output
    objects = json.loads(result.stdout)
    assert {o["file"] for o in objects} == set(expected(CINDER))
    for obj in objects:
        assert set(obj) >= JSON_KEYS, obj
        verdict, strength = expected(CINDER)[obj["file"]]
        assert obj["verdict"] == verdict and (obj["strength"] or "") == strength, obj
        assert obj["verdict"] in ("justified", "unjustified", "template")
        if obj["verdict"] == "unjustified":
            assert obj["strength"].startswith("missing-") and obj["line"] >= 1
            assert [f["rule"] for f in obj["findings"]] in (["BPR002"], ["BPR003"])
            assert all(f["file"] == obj["file"] for f in obj["findings"])


def test_blueprint_unjustified_exits_1_with_the_finding_at_the_section(monkeypatch):
    monkeypatch.chdir(CINDER)
    result = invoke("blueprint", "specs/2026.2/driver-options-cleanup.rst")
    assert result.exit_code == 1
    assert ": unjustified (missing-empty):" in result.stdout
    assert "error BPR002 use-case-empty" in result.stdout


def test_blueprint_template_option_decides_what_is_template_text(tmp_path):
    """Keystone's template sits elsewhere than nova's: given with --template, text copied
    from it is not a use case (BPR003); without any template the same words pass."""
    spec = KEYSTONE / "specs" / "keystone" / "2026.2"
    rows = expected(KEYSTONE)
    copied = next(p for p, (v, s) in rows.items() if s == "missing-template")
    path = KEYSTONE / copied
    alone = tmp_path / path.name  # no template next to it
    alone.write_bytes(path.read_bytes())
    with_template = invoke(
        "blueprint", "--template", KEYSTONE / "specs" / "template.rst", "--format", "json", alone
    )
    assert with_template.exit_code == 1
    [obj] = json.loads(with_template.stdout)
    assert obj["strength"] == "missing-template", obj
    without = invoke("blueprint", "--format", "json", alone)
    [plain] = json.loads(without.stdout)
    assert plain["strength"] != "missing-template", plain
    assert spec.is_dir()


def test_blueprint_nova_corpus_files_and_their_template(monkeypatch):
    """The real nova specs: the templates are recognised, labels hold for a sample."""
    monkeypatch.chdir(NOVA)
    result = invoke(
        "blueprint",
        "--format",
        "json",
        "specs/2027.1-template.rst",
        "specs/juno/approved/clean-logs.rst",
    )
    objects = {o["file"]: o for o in json.loads(result.stdout)}
    assert objects["specs/2027.1-template.rst"]["verdict"] == "template"
    assert objects["specs/juno/approved/clean-logs.rst"]["verdict"] == "justified"
    assert result.exit_code == 0


@pytest.mark.parametrize(
    "args, words",
    [
        (["blueprint", "no-such-spec.rst"], "no-such-spec.rst: no such file"),
        (
            ["blueprint", "--template", "no-template.rst", str(CINDER / "specs" / "template.rst")],
            "no-template.rst",
        ),
        (["blueprint"], "Missing argument"),
    ],
)
def test_blueprint_cannot_run_is_one_line_exit_2(tmp_path, args, words):
    result = subprocess.run(
        [GOVBOT, *args], cwd=tmp_path, capture_output=True, text=True, env=_env(tmp_path)
    )
    assert result.returncode == 2, result
    assert words in one_line_error(result.stderr)


# --- govbot escalate and govbot digest on the demo seed -----------------------------------------


class Inbox:
    """An aiosmtpd handler keeping every message it received."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1 (a free port is asked of the OS first: aiosmtpd
    checks the port it was given)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def demo() -> Iterator[Sandbox]:
    """The demo seed on the wall clock: the govbot process reads it over HTTP."""
    with running_sandbox(seed="demo") as sandbox:
        yield sandbox


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    env.update({"GOVBOT_CACHE_DIR": str(tmp / "cache"), "NO_COLOR": "1"})
    env.update(extra)
    return env


def demo_env(demo: Sandbox, tmp: Path, db: str, **extra: str) -> dict[str, str]:
    return _env(
        tmp,
        GOVBOT_GERRIT_URL=demo.url,
        GOVBOT_GERRIT_USERNAME="govbot",
        GOVBOT_GERRIT_PASSWORD="govbot-demo",
        GOVBOT_GERRIT_PROJECTS=",".join((COMPUTE, BLOCK_STORAGE, COMPUTE_SPECS)),
        GOVBOT_DATABASE_URL=db,
        GOVBOT_POLICY_DIR=str(REPO / "policies"),
        **extra,
    )


def govbot(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOVBOT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def gerrit_writes(demo: Sandbox) -> int:
    return demo.count_requests("POST") + demo.count_requests("PUT")


def escalations(db: str) -> list[tuple[int, str, str]]:
    engine = make_engine(db)
    try:
        with session_scope(engine) as session:
            rows = session.scalars(select(Escalation).order_by(Escalation.change_number)).all()
            return [(r.change_number, str(r.stage), r.assignee) for r in rows]
    finally:
        engine.dispose()


def test_escalate_dry_run_shows_each_candidate_and_writes_nothing(demo, tmp_path, db_url):
    """For every candidate: stale or not, the clock's start, the time waited, who would be
    picked and why; no write to Gerrit, none to the database."""
    env = demo_env(demo, tmp_path, db_url)
    assert govbot(["db", "upgrade"], env, tmp_path).returncode == 0  # read, at head
    result = govbot(["escalate", "--dry-run", "--format", "json"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dry_run"] is True
    by_change = {c["change"]: c for c in report["candidates"]}
    assert set(by_change) == {1, 2, 3, 5, 6, 7}  # open, not WIP (4 is WIP)
    for number, member in ((2, "ana"), (3, "chen")):
        c = by_change[number]
        assert c["stale"] is True and c["action"] == "escalate" and not c["done"]
        assert c["clock_start"] and c["waited_days"] > 2.9 and c["waited"] == "3.0 days"
        assert c["assignee"] == member and c["pick_reason"]
    assert "core reviewer on openstack/compute-api" in by_change[2]["pick_reason"]
    for number in (1, 5, 6, 7):
        assert by_change[number]["stale"] is False and by_change[number]["assignee"] is None
    assert by_change[7]["skip_reason"] == "waiting-on-owner"
    assert gerrit_writes(demo) == 0
    assert escalations(db_url) == []  # the database was only read

    text = govbot(["escalate", "--dry-run"], env, tmp_path)
    assert "#2 openstack/compute-api: Remove the delete keypair API" in text.stdout
    assert "clock start:" in text.stdout and "waited:      3.0 days" in text.stdout
    assert "action:      escalate -> ana (would escalate)" in text.stdout
    assert "why:" in text.stdout


def test_escalate_escalates_changes_2_and_3_and_a_second_run_changes_nothing(
    demo, tmp_path, db_url
):
    """The issue's proof: changes 2 and 3 get a TC member (CC, attention set with the
    reason, a database record) and nothing else; the second run writes nothing."""
    env = demo_env(demo, tmp_path, db_url)
    first = govbot(["escalate", "--format", "json"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    done = {c["change"]: c["assignee"] for c in json.loads(first.stdout)["candidates"] if c["done"]}
    assert done == {2: "ana", 3: "chen"}
    assert escalations(db_url) == [(2, "escalate", "ana"), (3, "escalate", "chen")]
    with demo.lock:
        for number, member in ((2, "ana"), (3, "chen")):
            change = demo.changes[number]
            account = demo.account(member).id
            assert account in change.attention, number
            reason = change.attention[account].reason
            assert "waiting for review since" in reason and "(3.0 days)" in reason, reason
        for number in (1, 4, 5, 6, 7):
            assert not any(
                demo.accounts[a].username in ("ana", "ben", "chen")
                for a in demo.changes[number].attention
            ), number
    writes = gerrit_writes(demo)
    assert writes > 0

    second = govbot(["escalate"], env, tmp_path)
    assert second.returncode == 0, second.stderr
    assert gerrit_writes(demo) == writes
    assert escalations(db_url) == [(2, "escalate", "ana"), (3, "escalate", "chen")]
    assert "escalate -> " not in second.stdout and "summary: 2 none, 2 skipped, 2 waiting" in (
        second.stdout
    )


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email_policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_digest_send_mails_one_email_with_text_and_html_listing_changes_2_and_3(
    demo, tmp_path, db_url, smtp
):
    """`govbot escalate`, then `govbot digest --send` with GOVBOT_SMTP_HOST, _PORT and
    GOVBOT_DIGEST_TO: one email (multipart/alternative, text and HTML) listing 2 and 3,
    archived as sent."""
    inbox, port = smtp
    env = demo_env(
        demo,
        tmp_path,
        db_url,
        GOVBOT_SMTP_HOST="127.0.0.1",
        GOVBOT_SMTP_PORT=str(port),
        GOVBOT_DIGEST_TO="tc@example.org,chair@example.org",
        GOVBOT_DIGEST_FROM="govbot@example.org",
    )
    assert govbot(["escalate"], env, tmp_path).returncode == 0
    result = govbot(["digest", "--send"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "sent to tc@example.org, chair@example.org via 127.0.0.1:" in result.stdout
    [(sender, recipients, raw)] = inbox.messages
    assert sender == "govbot@example.org"
    assert recipients == ["tc@example.org", "chair@example.org"]
    message = parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    assert "2 stale, 2 new escalations" in message["Subject"]
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None and html is not None
    for body in (text.get_content(), html.get_content()):
        assert "#2" in body and "Remove the delete keypair API" in body
        assert "#3" in body and "Add a volume labels API" in body
    new = text.get_content().split("New escalations this period")[1].split("Stale changes now")[0]
    assert "#2 openstack/compute-api" in new and "#3 openstack/block-storage-api" in new
    assert "#1 " not in new and "#6 " not in new
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as session:
            [record] = session.scalars(select(DigestRecord)).all()
            assert record.sent_at is not None
            assert record.recipients == "tc@example.org, chair@example.org"
    finally:
        engine.dispose()


def test_digest_preview_formats_and_archives_nothing(demo, tmp_path):
    """Without --send: text, HTML or JSON on stdout; no database file is created."""
    db = f"sqlite:///{tmp_path / 'govbot.db'}"
    env = demo_env(demo, tmp_path, db)
    as_json = govbot(["digest", "--format", "json"], env, tmp_path)
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    assert data["headline"]["stale"]["value"] == 2  # 2 and 3, live from Gerrit
    assert "Remove the delete keypair API" in as_json.stdout  # stale now (live section)
    as_html = govbot(["digest", "--format", "html"], env, tmp_path)
    assert as_html.stdout.lstrip().lower().startswith(("<!doctype html", "<html"))
    as_text = govbot(["digest"], env, tmp_path)
    assert "Stale changes now" in as_text.stdout
    assert not (tmp_path / "govbot.db").exists()


@pytest.mark.parametrize(
    "args, unset, words",
    [
        (["digest", "--send"], "GOVBOT_SMTP_HOST", "digest --send needs GOVBOT_SMTP_HOST"),
        (["digest", "--send"], "GOVBOT_DIGEST_TO", "digest --send needs GOVBOT_DIGEST_TO"),
        (["escalate"], "GOVBOT_GERRIT_URL", "GOVBOT_GERRIT_URL is not set"),
    ],
)
def test_cannot_run_is_one_line_exit_2(demo, tmp_path, args, unset, words):
    env = demo_env(
        demo,
        tmp_path,
        f"sqlite:///{tmp_path / 'govbot.db'}",
        GOVBOT_SMTP_HOST="127.0.0.1",
        GOVBOT_DIGEST_TO="tc@example.org",
    )
    env.pop(unset)
    result = govbot(args, env, tmp_path)
    assert result.returncode == 2, result
    assert words in one_line_error(result.stderr)
    assert gerrit_writes(demo) == 0


def test_digest_send_to_a_dead_smtp_server_is_one_line(demo, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nobody listens there once closed
    env = demo_env(
        demo,
        tmp_path,
        f"sqlite:///{tmp_path / 'govbot.db'}",
        GOVBOT_SMTP_HOST="127.0.0.1",
        GOVBOT_SMTP_PORT=str(port),
        GOVBOT_DIGEST_TO="tc@example.org",
    )
    result = govbot(["digest", "--send"], env, tmp_path)
    assert result.returncode == 2
    assert f"cannot mail the digest via 127.0.0.1:{port}" in one_line_error(result.stderr)


def test_bad_digest_schedule_is_one_line(tmp_path):
    result = subprocess.run(
        [GOVBOT, "digest"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=_env(tmp_path, GOVBOT_DIGEST_SCHEDULE="weekly"),
    )
    assert result.returncode == 2
    assert "digest_schedule must be a crontab line" in one_line_error(result.stderr)
