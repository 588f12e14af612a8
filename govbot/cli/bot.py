"""The commands that act on Gerrit and the database once: review, escalate, digest, db, backfill and index."""

from __future__ import annotations

import contextlib
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from govbot import render
from govbot.errors import ConfigError, SpecError
from govbot.findings import Severity
from govbot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from govbot.services.review import ReviewOutcome
from govbot.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    common_options,
    config_only,
    existing_database,
    gerrit_client,
    one_line,
    one_line_errors,
    open_database,
    settings_and_policy,
)


def _change_ref(text: str) -> int | str:
    """CHANGE as given: a number, ``project~number``, or a change URL (``.../+/1234``)."""
    value = text.strip().rstrip("/")
    if value.isdigit():
        return int(value)
    match = re.search(r"(?:/\+/|/c/|^)(\d+)(?:/\d+)?$", value)
    if match and ("://" in value or value.startswith("/")):
        return int(match.group(1))
    if "~" in value and value.rsplit("~", 1)[1].isdigit():
        return value
    raise click.BadParameter(
        f"{text!r}: expected a change number, project~number or a change URL", param_hint="CHANGE"
    )


def outcome_text(outcome: ReviewOutcome, *, first: bool = True) -> str:
    """One review outcome for a terminal: a headline, then the review if any.

    The API review (``first``) keeps the plain words ("review posted", "dry run"); the
    other passes name themselves ("spec review posted").
    """
    from govbot.services.review import ReviewStatus

    where = f"change {outcome.change}"
    if outcome.patch_set is not None:
        where += f" patch set {outcome.patch_set}"
    status = outcome.status
    findings = f"{len(outcome.findings)} finding{'s' if len(outcome.findings) != 1 else ''}"
    name = "review" if first else outcome.title
    prefix = "" if first else f"{name} "
    if status is ReviewStatus.POSTED:
        head = f"{where}: {name} posted ({findings})"
    elif status is ReviewStatus.DRY_RUN:
        head = f"{where}: {prefix}dry run ({findings}); nothing posted. govbot would post:"
    elif status is ReviewStatus.ALREADY_POSTED:
        head = f"{where}: {prefix}already reviewed under this policy ({outcome.reason})"
    elif status is ReviewStatus.QUIET:
        head = f"{where}: {name}: nothing to post ({outcome.reason})"
    elif status is ReviewStatus.NO_SPECS:
        head = f"{where}: no {outcome.title}: {outcome.reason}"
    else:
        head = f"{where}: not reviewed: {outcome.reason or status.value}"
    if outcome.review_input:
        return head + "\n\n" + render.review_text(outcome.review_input)
    return head + "\n"


def outcomes_text(outcomes: Sequence[ReviewOutcome]) -> str:
    """Every pass's outcome on one change; a skip (WIP, closed) shared by all is said once."""
    from govbot.services.review import ReviewStatus

    skips = (ReviewStatus.SKIPPED_WIP, ReviewStatus.SKIPPED_PRIVATE, ReviewStatus.SKIPPED_CLOSED)
    parts = []
    for n, outcome in enumerate(outcomes):
        if n and outcome.status in skips and outcome.status is outcomes[0].status:
            continue
        parts.append(outcome_text(outcome, first=n == 0))
    return "\n".join(parts)


@click.command(name="review")
@click.argument("change")
@click.option(
    "--dry-run", is_flag=True, help="Print the review govbot would post; post and record nothing."
)
@click.option(
    "--patch-set",
    "revision",
    metavar="N|SHA",
    help="Review this patch set instead of the current one (no vote unless it is current).",
)
@common_options
def review_command(
    change: str,
    dry_run: bool,
    revision: str | None,
    config_file: Path | None,
    policy_path: Path | None,
) -> None:
    """Review one Gerrit change now, as the bot would, and print what was posted.

    Both reviews: the API review (the OpenAPI specs the patch set changed) and the spec
    review (design specs without a use case, API changes without a justified blueprint).

    \b
      GOVBOT_GERRIT_URL=https://review.example.org GOVBOT_GERRIT_USERNAME=govbot \
      GOVBOT_GERRIT_PASSWORD=... govbot review 12345 --dry-run

    Exit code 1 when a review has error-level findings.
    """
    from govbot.db.models import utcnow
    from govbot.gerrit.mirror import mirror_from_settings
    from govbot.services.worker import review_all

    ref = _change_ref(change)
    one_line_errors()
    settings, policy = settings_and_policy(config_file, policy_path)
    with gerrit_client(settings) as client:
        engine = existing_database(settings) if dry_run else open_database(settings, migrate=True)
        try:
            outcomes = review_all(
                ref,
                client=client,
                engine=engine,
                policy=policy,
                now=utcnow(),
                dry_run=dry_run,
                docs_base=settings.docs_base,
                revision=revision,
                mirror=mirror_from_settings(settings),
            )
        finally:
            if engine is not None:
                engine.dispose()
    click.echo(outcomes_text(outcomes), nl=False)
    errors = any(f.severity is Severity.ERROR for o in outcomes for f in o.findings)
    click.get_current_context().exit(EXIT_FINDINGS if errors else EXIT_OK)


@contextlib.contextmanager
def _reading_database(settings: Settings) -> Iterator[Engine]:
    """The settings' database for a command that only reads it (a dry run, a preview):
    itself when it exists at head, else an empty throw-away one (nothing is created)."""
    from govbot.db import make_engine, upgrade

    engine = existing_database(settings)
    if engine is not None:
        try:
            yield engine
        finally:
            engine.dispose()
        return
    with tempfile.TemporaryDirectory(prefix="govbot-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'empty.db'}"
        upgrade(url)
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@click.command(name="escalate")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show what would happen to each candidate; write nothing to Gerrit or the database.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@common_options
def escalate_cmd(
    dry_run: bool, fmt: str, config_file: Path | None, policy_path: Path | None
) -> None:
    """One escalation pass now: stale changes get a technical-committee member.

    A change that has waited more than the policy's stale_after (2 days) for a human
    review gets a TC member added (CC or reviewer) and put in its attention set, with
    the reason; the ladder (remind, hand off) follows on later passes. For each
    candidate the output says whether it is stale, when its clock started, how long it
    has waited, and who is (or would be) picked and why.

    Exit code 1 when some change could not be handled (Gerrit errors).
    """
    from govbot.db.models import utcnow
    from govbot.services.escalation import escalate_command

    one_line_errors()
    settings, policy = settings_and_policy(config_file, policy_path)
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(gerrit_client(settings))
        if dry_run:
            engine = stack.enter_context(_reading_database(settings))
        else:
            engine = open_database(settings, migrate=True)
            stack.callback(engine.dispose)
        out, code = escalate_command(
            client,
            engine,
            policy,
            utcnow(),
            dry_run=dry_run,
            fmt=fmt,
            watched=settings.watched,
        )
    click.echo(out, nl=False)
    click.get_current_context().exit(code)


@click.command(name="digest")
@click.option(
    "--send",
    is_flag=True,
    help="Archive the digest and mail it (GOVBOT_SMTP_HOST, GOVBOT_SMTP_PORT, GOVBOT_DIGEST_TO).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "html", "json"]),
    default="text",
    show_default=True,
)
@common_options
def digest_cmd(send: bool, fmt: str, config_file: Path | None, policy_path: Path | None) -> None:
    """Build the technical committee's digest (and with --send, archive and mail it).

    Stale and at-risk changes, new and overdue escalations, resolved ones with their
    time to review, queue health per project, governance flags and what the bot
    skipped. Without --send it is a preview: printed, not archived. The live sections
    come from Gerrit when GOVBOT_GERRIT_URL is set, else the digest says so.
    """
    import smtplib

    from govbot.db.models import utcnow
    from govbot.services.digest import digest_command

    one_line_errors()
    settings, policy = settings_and_policy(config_file, policy_path)
    if send and (not settings.smtp_host or not settings.digest_to):
        missing = [
            name
            for name, value in (
                ("GOVBOT_SMTP_HOST", settings.smtp_host),
                ("GOVBOT_DIGEST_TO", settings.digest_to),
            )
            if not value
        ]
        raise ConfigError(f"digest --send needs {' and '.join(missing)}: where to mail it")
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(gerrit_client(settings)) if settings.gerrit_url else None
        if send:
            engine = open_database(settings, migrate=True)
            stack.callback(engine.dispose)
        else:
            engine = stack.enter_context(_reading_database(settings))
        try:
            out, code = digest_command(
                engine,
                client,
                policy,
                utcnow(),
                fmt=fmt,
                send=send,
                smtp_host=settings.smtp_host,
                smtp_port=settings.smtp_port,
                to=settings.digest_to,
                sender=settings.digest_from,
                watched=settings.watched,
            )
        except (OSError, smtplib.SMTPException) as exc:
            raise ConfigError(
                f"cannot mail the digest via {settings.smtp_host}:{settings.smtp_port} "
                f"(GOVBOT_SMTP_HOST/GOVBOT_SMTP_PORT): {exc}"
            ) from None
    click.echo(out, nl=False)
    click.get_current_context().exit(code)


@click.group(name="db")
def db_group() -> None:
    """The database: `govbot db upgrade` applies the migrations."""


@db_group.command(name="upgrade")
@config_only
def db_upgrade(config_file: Path | None) -> None:
    """Apply the migrations to the database (GOVBOT_DATABASE_URL); safe to run again."""
    from govbot.db import head_revision
    from govbot.settings import redact_url

    settings = Settings.from_env(config_file)
    engine = open_database(settings, migrate=True)
    engine.dispose()
    click.echo(f"database {redact_url(settings.database_url)} is at revision {head_revision()}")


@click.command(name="backfill")
@click.argument("project")
@click.option(
    "--branch",
    default="master",
    show_default=True,
    help="The branch whose history (first parents) is indexed.",
)
@click.option(
    "--repo",
    type=click.Path(path_type=Path, file_okay=False),
    help="A local clone (work tree or bare) holding the branch; default: the git mirror "
    "(GOVBOT_GIT_MIRROR_DIR, fetched from GOVBOT_GIT_URL).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    help="Worker processes that check the commits (recorded in order by this one); "
    "default: one per CPU, at most 8.",
)
@common_options
def backfill_cmd(
    project: str,
    branch: str,
    repo: Path | None,
    jobs: int | None,
    config_file: Path | None,
    policy_path: Path | None,
) -> None:
    """Index PROJECT's history for the dashboard: every commit of the branch that touched
    an API spec or a design spec, oldest first.

    Each such commit becomes a point of the API's health history (its surface, findings
    and deprecations at that commit); design specs get their use-case verdict. A progress
    bar is drawn on a terminal (a count line otherwise). Running it again walks only the
    commits made since the last complete run; a commit whose specs did not change is not
    checked again.

    \b
      govbot backfill openstack/compute-api
      govbot backfill openstack/compute-api --branch stable/2026.1 --repo ~/src/compute-api
      govbot backfill openstack/compute-api --jobs 1   # no worker processes
    """
    from govbot.db.models import utcnow
    from govbot.gerrit.mirror import mirror_from_settings
    from govbot.services.backfill import backfill
    from govbot.services.backfill_workers import default_workers

    one_line_errors()
    settings, policy = settings_and_policy(config_file, policy_path)
    source: Any
    if repo is not None:
        if not repo.is_dir():
            raise SpecError(f"{repo}: no such directory")
        source = repo
    else:
        source = mirror_from_settings(settings)
        if source is None:
            raise ConfigError(
                "backfill needs --repo DIR (a clone of the project) or GOVBOT_GIT_MIRROR_DIR "
                "(a git mirror, fetched from GOVBOT_GIT_URL or GOVBOT_GERRIT_URL)"
            )
    engine = open_database(settings, migrate=True)
    try:
        run = backfill(
            engine,
            source,
            project,
            branch,
            policy=policy,
            now=utcnow(),
            progress=True,
            out=sys.stderr,
            jobs=jobs or default_workers(),
        )
    finally:
        engine.dispose()
    for error in run.errors:
        click.echo(f"govbot: {project} {branch}: {one_line(error)}", err=True)
    click.echo(index_summary(f"{project} {branch}", run))
    click.get_current_context().exit(EXIT_FINDINGS if run.errors else EXIT_OK)


@click.command(name="index")
@common_options
def index_cmd(config_file: Path | None, policy_path: Path | None) -> None:
    """One index pass now, as the service's index job runs every GOVBOT_INDEX_INTERVAL.

    The changes merged on the watched projects (GOVBOT_GERRIT_PROJECTS) since the last
    pass, and with a git mirror (GOVBOT_GIT_MIRROR_DIR) each watched branch's head, are
    indexed for the dashboard's API health history. Older history: `govbot backfill`.
    Exit code 1 when a project could not be indexed.
    """
    from govbot.db.models import utcnow
    from govbot.gerrit.mirror import mirror_from_settings
    from govbot.services.index import index_pass

    one_line_errors()
    settings, policy = settings_and_policy(config_file, policy_path)
    if not settings.gerrit_projects:
        raise ConfigError(
            "GOVBOT_GERRIT_PROJECTS is not set: name the projects to index "
            "(project or project:branch, comma-separated)"
        )
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(gerrit_client(settings)) if settings.gerrit_url else None
        mirror = mirror_from_settings(settings)
        if client is None and mirror is None:
            raise ConfigError(
                "index needs GOVBOT_GERRIT_URL (merged changes) or GOVBOT_GIT_MIRROR_DIR "
                "(branch heads): where to read the merged specs"
            )
        engine = open_database(settings, migrate=True)
        stack.callback(engine.dispose)
        run = index_pass(
            engine,
            policy=policy,
            now=utcnow,
            watched=settings.watched,
            client=client,
            mirror=mirror,
        )
    for error in run.errors:
        click.echo(f"govbot: {one_line(error)}", err=True)
    click.echo(index_summary(", ".join(settings.gerrit_projects), run))
    click.get_current_context().exit(EXIT_FINDINGS if run.errors else EXIT_OK)


def index_summary(what: str, run: Any) -> str:
    """One line: what an index pass or a backfill recorded."""
    parts = [
        f"{run.commits} commit{'s' if run.commits != 1 else ''} indexed",
        f"{run.snapshots} API snapshot{'s' if run.snapshots != 1 else ''}",
        f"{run.blueprints} design spec verdict{'s' if run.blueprints != 1 else ''}",
    ]
    if run.cross_findings is not None:
        parts.append(f"{run.cross_findings} cross-service finding(s)")
    if run.errors:
        parts.append(f"{len(run.errors)} error(s)")
    return f"{what}: " + ", ".join(parts)


COMMANDS = (review_command, escalate_cmd, digest_cmd, db_group, backfill_cmd, index_cmd)
