"""What the contract tests share (imported by name; pytest's conftest modules are not):
the real world's accounts and projects, the two servers behind one interface, waiting.

See conftest.py for the fixtures and the world they make.
"""

from __future__ import annotations

import email
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.handlers import Sink
from gerrit_support import HUMANS, OLD_SPEC, PROJECT, SPEC, SPEC_TEXT, TC
from real_gerrit import ADMIN, MAX_FILE_SIZE_DOWNLOAD, RealGerrit, Workspace

from govbot.gerrit.client import GerritClient
from govbot.sandbox import Sandbox, lifecycle, people
from govbot.sandbox.seed import BOT_PASSWORD, BOT_USERNAME
from govbot.sandbox.ssh import new_key
from govbot.services.stream import StreamConfig

BOT = (BOT_USERNAME, BOT_PASSWORD)
SPECS_PROJECT = "demo/api-specs"
SPECS_TEMPLATE = "specs/template.rst"
TEMPLATE_TEXT = """\
==========
Title here
==========

Problem description
===================

What problem does this solve?

Use Cases
=========

Who needs this and why?

REST API impact
===============

None.
"""
API_REVIEW = {"-1": "Breaks the API policy", " 0": "No score", "+1": "Follows the API policy"}


def wait_for(condition: Callable[[], object], what: str, timeout: float = 120.0) -> None:
    """Wait until ``condition()`` is true; a failure names ``what``."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def password(user: str) -> str:
    """Every account's HTTP password on both servers (admin: the real one's only)."""
    return {BOT_USERNAME: BOT_PASSWORD, ADMIN[0]: ADMIN[1]}.get(user, f"{user}-pw")


@dataclass(frozen=True)
class Mail:
    """One email the real Gerrit sent: its envelope recipients and the message."""

    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def change(self) -> str | None:
        return self.message.get("X-Gerrit-Change-Number")

    @property
    def text(self) -> str:
        body = self.message.get_body(preferencelist=("plain", "html"))
        return str(body.get_content()) if body is not None else ""


class Inbox(Sink):
    """The real Gerrit's mail server (aiosmtpd): what it was sent, in order."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email_policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.mails.append(Mail(tuple(envelope.rcpt_tos), message))
        return "250 OK"

    def about(self, number: int) -> list[Mail]:
        """The emails about change ``number``, in the order they arrived."""
        with self.lock:
            return [m for m in self.mails if m.change == str(number)]


@dataclass
class RealWorld:
    """The running real Gerrit, its mail, the bot's SSH files, and a scratch directory."""

    gerrit: RealGerrit
    key_file: Path
    known_hosts: Path
    scratch: Path
    inbox: Inbox
    bot_id: int = 0

    def workspace(self, project: str = PROJECT, user: str = "alice") -> Workspace:
        """A fresh clone of ``project`` pushing as ``user``."""
        path = self.scratch / f"{user}-{secrets.token_hex(4)}.git"
        return self.gerrit.workspace(path, project, (user, password(user)))


def populate(gerrit: RealGerrit, scratch: Path, inbox: Inbox) -> RealWorld:
    key = new_key()
    key_file, known_hosts = scratch / "id_bot", scratch / "known_hosts"
    key.write(key_file)
    known_hosts.write_text(gerrit.known_hosts())
    gerrit.add_account(BOT_USERNAME, BOT_PASSWORD, ssh_key=key.public)
    gerrit.rest("POST", "groups/Service%20Users/members", json={"members": [BOT_USERNAME]})
    for name in HUMANS:
        gerrit.add_account(name, password(name))
    gerrit.add_group("technical-committee", list(TC))
    gerrit.add_group("api-core", ["dave"])
    gerrit.add_group("hidden-core", ["ana"], visible=False)
    world = RealWorld(gerrit, key_file, known_hosts, scratch, inbox)
    gerrit.add_project(PROJECT)
    admin = world.workspace(PROJECT, "admin")
    files = {SPEC: SPEC_TEXT, OLD_SPEC: SPEC_TEXT, "README.rst": "Pets\n"}
    admin.push(admin.commit(files, "Pets API")[0], "refs/heads/master")
    quoted = PROJECT.replace("/", "%2F")
    label = {"values": API_REVIEW, "default_value": 0, "function": "NoOp"}
    gerrit.rest("PUT", f"projects/{quoted}/labels/API-Review", json=label)
    service_users = gerrit.json("GET", "groups/Service%20Users")["id"]
    rule = {service_users: {"action": "ALLOW", "min": -1, "max": 1}}
    grant = {"permissions": {"label-API-Review": {"rules": rule}}}
    gerrit.rest("POST", f"projects/{quoted}/access", json={"add": {"refs/heads/*": grant}})
    gerrit.add_project(SPECS_PROJECT)
    admin = world.workspace(SPECS_PROJECT, "admin")
    admin.push(admin.commit({SPECS_TEMPLATE: TEMPLATE_TEXT}, "Template")[0], "refs/heads/master")
    world.bot_id = gerrit.json("GET", f"accounts/{BOT_USERNAME}")["_account_id"]
    return world


@dataclass
class Server:
    """What a contract test needs of either server."""

    kind: str  # "sandbox" or "real"
    url: str
    project: str
    tc_group: str
    tc: tuple[str, ...]
    # (files, subject, wip, topic) -> change number, uploaded by alice
    _upload: Callable[[Mapping[str, str | None], str, bool, str | None], int]
    sandbox: Sandbox | None = None
    real: RealWorld | None = None
    bot: tuple[str, str] = BOT
    topics: list[str] = field(default_factory=list)

    def client(self, user: str = BOT_USERNAME) -> GerritClient:
        return GerritClient(self.url, user, password(user), timeout=60, retries=1, backoff=0.01)

    def upload(
        self,
        files: Mapping[str, str | None] | None = None,
        subject: str = "Add a pet lookup",
        *,
        wip: bool = False,
        topic: str | None = None,
    ) -> int:
        """A new change of alice's on the project (by default: one more spec line)."""
        if files is None:
            marker = secrets.token_hex(3)
            files = {SPEC: SPEC_TEXT.replace("info:\n", f"info:\n  x-marker: m{marker}\n", 1)}
        return self._upload(files, subject, wip, topic)

    def stream_config(self, scratch: Path) -> StreamConfig:
        """How the bot reaches this server's ``gerrit stream-events`` over SSH."""
        if self.real is not None:
            key_file, known_hosts = self.real.key_file, self.real.known_hosts
            port = self.real.gerrit.ssh_port
        else:
            assert self.sandbox is not None
            ssh = self.sandbox.start_ssh()
            key = new_key()
            people.add_ssh_key(self.sandbox, BOT_USERNAME, key.public)
            key_file, known_hosts = scratch / "id_bot", scratch / "known_hosts"
            key.write(key_file)
            known_hosts.write_text(ssh.known_hosts_line + "\n")
            port = ssh.port
        return StreamConfig("127.0.0.1", port, BOT_USERNAME, key_file, known_hosts, 5.0, 0.0)

    def new_topic(self) -> str:
        """A topic no other test uses (queries scoped to it see only this test's changes)."""
        return f"contract-{secrets.token_hex(4)}"


def sandbox_server(sandbox: Sandbox) -> Server:
    def upload(files: Mapping[str, str | None], subject: str, wip: bool, topic: str | None) -> int:
        change = lifecycle.create_change(
            sandbox,
            PROJECT,
            subject=subject,
            files=dict(files),
            owner="alice",
            wip=wip,
            topic=topic,
        )
        return change.number

    sandbox.max_file_size_download = MAX_FILE_SIZE_DOWNLOAD
    people.add_group(sandbox, "hidden-core", ["ana"], visible_to_all=False)
    people.add_group(sandbox, "api-core", ["dave"])
    return Server(
        "sandbox", sandbox.url, PROJECT, "technical-committee", TC, upload, sandbox=sandbox
    )


def real_server(world: RealWorld) -> Server:
    alice = world.workspace()

    def upload(files: Mapping[str, str | None], subject: str, wip: bool, topic: str | None) -> int:
        alice.fetch()
        options = [*(["wip"] if wip else []), *([f"topic={topic}"] if topic else [])]
        return alice.upload(files, subject, options=options).number

    return Server("real", world.gerrit.url, PROJECT, "technical-committee", TC, upload, real=world)


@dataclass(frozen=True)
class E2EWorld:
    """Projects of one test's own (no other test's changes in them)."""

    api: str
    specs: str
    root: str


def new_projects(world: RealWorld) -> E2EWorld:
    """``e2e-<n>/api`` (the pets spec, the API-Review label), its ``-specs`` repository (a
    template) and an empty ``e2e-<n>/root`` (its first commit is a root commit)."""
    base = f"e2e-{secrets.token_hex(3)}"
    gerrit = world.gerrit
    names = E2EWorld(f"{base}/api", f"{base}/api-specs", f"{base}/root")
    gerrit.add_project(names.api)
    admin = world.workspace(names.api, "admin")
    admin.push(admin.commit({SPEC: SPEC_TEXT}, "Pets API")[0], "refs/heads/master")
    quoted = names.api.replace("/", "%2F")
    label = {"values": API_REVIEW, "default_value": 0, "function": "NoOp"}
    gerrit.rest("PUT", f"projects/{quoted}/labels/API-Review", json=label)
    service_users = gerrit.json("GET", "groups/Service%20Users")["id"]
    rule = {service_users: {"action": "ALLOW", "min": -1, "max": 1}}
    grant = {"permissions": {"label-API-Review": {"rules": rule}}}
    gerrit.rest("POST", f"projects/{quoted}/access", json={"add": {"refs/heads/*": grant}})
    gerrit.add_project(names.specs)
    gerrit.rest(
        "PUT", f"projects/{names.root.replace('/', '%2F')}", json={"create_empty_commit": False}
    )
    return names
