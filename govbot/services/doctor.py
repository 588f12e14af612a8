"""``govbot doctor``: what keeps a deployment from working, one line per problem with its fix.

The checks, in order, each only as far as the one before allows: the database is
reachable and migrated; Gerrit answers and accepts the bot's credentials
(``GET /accounts/self``, so a wrong password is told apart from an anonymous read); the
groups escalation reads are visible (:func:`govbot.services.preflight.group_problems`);
each watched project exists; each watched branch has files the policy's spec globs (or
design-spec globs, or api-ref trees) match, read with one git fetch into the mirror per
project (the listing the index job's baseline uses, bounded by ``gerrit_timeout``); the
webhook or stream-events is configured. ``govbot serve`` runs the same checks at
start-up into its log and shows the result on ``/healthz``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import git
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from govbot.blueprints import BlueprintConfig
from govbot.db import current_revision, head_revision, is_up_to_date
from govbot.errors import GerritError, GovbotError
from govbot.gerrit.client import GerritClient
from govbot.gerrit.errors import GerritAuthError
from govbot.policy import Policy
from govbot.redact import redact_url
from govbot.services.index import DEFAULT_BRANCH
from govbot.services.preflight import group_problems
from govbot.settings import Settings

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    """One check's outcome: ``ok``, and one line saying what was found (and, when not
    ok, how to fix it)."""

    name: str  # database, gerrit, group, project, specs, mirror, events
    ok: bool
    line: str


@dataclass(frozen=True)
class Report:
    checks: tuple[Check, ...]

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    @property
    def ok(self) -> bool:
        return not self.problems


def diagnose(
    settings: Settings,
    policy: Policy,
    *,
    engine: Engine | None,
    client: GerritClient | None,
    mirror: Any = None,
    reachable: bool = True,
) -> Report:
    """Run every check (``engine`` None: the database was not opened; ``client`` None:
    no GOVBOT_GERRIT_URL; ``reachable`` False: Gerrit was found down a moment ago, so
    it is not asked again)."""
    checks: list[Check] = []
    checks.append(_database(engine, settings))
    checks.extend(_events(settings))
    if client is None:
        checks.append(
            Check(
                "gerrit", False, "GOVBOT_GERRIT_URL is not set: set it to the Gerrit server's URL"
            )
        )
        return Report(tuple(checks))
    if reachable:
        gerrit = _gerrit(client)
    else:
        gerrit = Check(
            "gerrit",
            False,
            f"Gerrit at {redact_url(client.url)} is not reachable: check GOVBOT_GERRIT_URL "
            "(the other checks run once it answers: `govbot doctor`)",
        )
    checks.append(gerrit)
    if not gerrit.ok:
        return Report(tuple(checks))
    found = _projects(client, settings.watched, checks)
    present = [w for w in settings.watched if w[0] in found]
    # A missing project's core group is missing too: that is said once, by the project.
    for problem in group_problems(client, policy, present):
        checks.append(Check("group", False, problem.message))
    checks.extend(_specs(mirror, policy, present))
    return Report(tuple(checks))


def _database(engine: Engine | None, settings: Settings) -> Check:
    url = redact_url(settings.database_url)
    if engine is None:
        return Check(
            "database", False, f"database {url} could not be opened: check GOVBOT_DATABASE_URL"
        )
    try:
        with engine.connect() as connection:
            if is_up_to_date(connection):
                return Check(
                    "database", True, f"database {url} is migrated (revision {head_revision()})"
                )
            found = current_revision(connection) or "empty"
    except SQLAlchemyError as exc:
        cause = " ".join(str(exc.orig if getattr(exc, "orig", None) else exc).split())[:200]
        return Check(
            "database",
            False,
            f"database {url} is not reachable ({cause}): check GOVBOT_DATABASE_URL",
        )
    return Check(
        "database",
        False,
        f"database {url} is at revision {found}, not {head_revision()}: run `govbot db upgrade` "
        "(`govbot serve` migrates it unless --no-migrate)",
    )


def _events(settings: Settings) -> list[Check]:
    if settings.gerrit_ssh_host:
        return [Check("events", True, f"stream-events over SSH from {settings.gerrit_ssh_host}")]
    if settings.webhook_secret:
        return [Check("events", True, "webhook at POST /hooks/gerrit (GOVBOT_WEBHOOK_SECRET set)")]
    return [
        Check(
            "events",
            False,
            "neither the webhook nor stream-events is configured: changes are found only by "
            f"the poll every {settings.poll_interval:g}s. Set GOVBOT_WEBHOOK_SECRET (and "
            "Gerrit's webhooks plugin) or GOVBOT_GERRIT_SSH_HOST",
        )
    ]


def _gerrit(client: GerritClient) -> Check:
    url = redact_url(client.url)
    try:
        version = client.version()
        if not client.authenticated:
            return Check(
                "gerrit",
                False,
                f"Gerrit {version} at {url} answers, but govbot has no account: set "
                "GOVBOT_GERRIT_USERNAME and GOVBOT_GERRIT_PASSWORD (the bot's HTTP password)",
            )
        client.account("self")
    except GerritAuthError:
        return Check(
            "gerrit",
            False,
            f"Gerrit at {url} refused the credentials of {client.username!r} "
            f"({client.auth_source}): set GOVBOT_GERRIT_PASSWORD to the account's HTTP "
            "password (Gerrit: Settings > HTTP Credentials)",
        )
    except GerritError as exc:
        cause = " ".join(str(exc).split())[:200]
        return Check(
            "gerrit", False, f"Gerrit at {url} is not reachable ({cause}): check GOVBOT_GERRIT_URL"
        )
    return Check("gerrit", True, f"Gerrit {version} at {url}, logged in as {client.username}")


def _projects(
    client: GerritClient, watched: Sequence[tuple[str, str | None]], checks: list[Check]
) -> set[str]:
    found: set[str] = set()
    for project in dict.fromkeys(p for p, _ in watched):
        try:
            exists = client.project_exists(project)
        except GerritError as exc:
            checks.append(
                Check("project", False, f"project {project!r}: Gerrit failed ({exc}): try again")
            )
            continue
        if exists:
            found.add(project)
            checks.append(Check("project", True, f"project {project} found"))
        else:
            checks.append(
                Check(
                    "project",
                    False,
                    f"watched project {project!r} does not exist on Gerrit or is not visible to "
                    f"{client.username or 'anonymous'}: fix its name in GOVBOT_GERRIT_PROJECTS",
                )
            )
    return found


def _specs(mirror: Any, policy: Policy, watched: Sequence[tuple[str, str | None]]) -> list[Check]:
    if not watched:
        return []
    if mirror is None:
        return [
            Check(
                "mirror",
                False,
                "no git mirror (GOVBOT_GIT_MIRROR_DIR): `govbot serve` cannot record the watched "
                "branches' heads nor backfill their history, so the dashboard fills only as "
                "changes merge. Set GOVBOT_GIT_MIRROR_DIR to a writable directory",
            )
        ]
    design = BlueprintConfig.from_policy(policy)

    def wanted(path: str) -> bool:
        return policy.is_spec(path) or policy.watches_api_ref(path) or design.is_spec(path)

    checks = []
    for project, branch in watched:
        name = branch or DEFAULT_BRANCH
        try:
            reader = mirror.fetch(project, f"refs/heads/{name}")
            matching = sum(1 for path in reader.files() if wanted(path))
        except (GovbotError, git.GitCommandError, OSError, ValueError) as exc:
            cause = " ".join(str(exc).split())[:300]
            checks.append(
                Check(
                    "specs",
                    False,
                    f"{project} {name}: cannot fetch the branch into the git mirror ({cause}): "
                    "check GOVBOT_GIT_URL and the branch name in GOVBOT_GERRIT_PROJECTS",
                )
            )
            continue
        if matching:
            checks.append(
                Check("specs", True, f"{project} {name}: {matching} spec file(s) match the policy")
            )
        else:
            globs = ", ".join([*policy.spec_globs, *design.specs])
            checks.append(
                Check(
                    "specs",
                    False,
                    f"{project} {name}: no file matches the policy's spec globs ({globs}): "
                    "fix `specs` in the policy (GOVBOT_POLICY_DIR) or stop watching the project",
                )
            )
    return checks


def log_report(report: Report) -> None:
    """Each problem a warning line; a summary line when all is well."""
    for check in report.problems:
        LOG.warning("doctor: %s", check.line)
    if report.ok:
        LOG.info("doctor: all %d check(s) passed", len(report.checks))
    else:
        LOG.warning(
            "doctor: %d problem(s); `govbot doctor` repeats the checks", len(report.problems)
        )


__all__ = ["Check", "Report", "diagnose", "log_report"]
