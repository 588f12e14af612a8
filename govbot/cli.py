"""The ``govbot`` command line; logging is configured here and nowhere else.

Exit codes: 0 no error-level finding, 1 error-level findings, 2 govbot could not run
(usage, unreadable input, settings or policy errors). A failure to run is always one
line on stderr, ``govbot: <file>: <cause>``; the trace only with ``--debug``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import json
import logging
import os
import re
import secrets
import signal
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

import govbot
from govbot import render
from govbot.errors import ConfigError, GerritError, GovbotError, SpecError
from govbot.findings import Severity
from govbot.openapi.audience import Classification, classify
from govbot.openapi.load import load_spec
from govbot.policy import Policy, load_policy
from govbot.rules.registry import all_rules, get_rule
from govbot.services.check import Report, check_files, check_git, common_root, discover_specs
from govbot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from govbot.gerrit.client import GerritClient
    from govbot.services.review import ReviewOutcome
    from govbot.web import WebServer

LOG = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FINDINGS, EXIT_CANNOT_RUN = 0, 1, 2
_HANDLER_MARK = "_govbot_cli_handler"


class GovbotGroup(click.Group):
    """A click group whose failures are one line and an exit code, never a traceback."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv
        try:
            code = super().main(
                argv, prog_name or "govbot", complete_var, standalone_mode=False, **extra
            )
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()
            code = EXIT_CANNOT_RUN
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            click.echo(f"govbot: {_one_line(exc.format_message())}{where}", err=True)
            code = EXIT_CANNOT_RUN
        except click.ClickException as exc:
            click.echo(f"govbot: {_one_line(exc.format_message())}", err=True)
            code = EXIT_CANNOT_RUN
        except click.exceptions.Abort:
            click.echo("govbot: interrupted", err=True)
            code = 130
        except GovbotError as exc:
            if debug:
                traceback.print_exc()
            click.echo(f"govbot: {_one_line(str(exc))}", err=True)
            code = EXIT_CANNOT_RUN
        except BrokenPipeError:
            code = EXIT_CANNOT_RUN
        except Exception as exc:
            if debug:
                traceback.print_exc()
            hint = "" if debug else " (run with --debug for the trace)"
            click.echo(
                f"govbot: internal error: {type(exc).__name__}: {_one_line(str(exc))}{hint}",
                err=True,
            )
            code = EXIT_CANNOT_RUN
        if standalone_mode:
            sys.exit(code or 0)
        return code


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _configure_logging(debug: bool, verbose: int) -> None:
    """One stderr handler on the ``govbot`` logger (replaced on each invocation)."""
    logger = logging.getLogger("govbot")
    for handler in list(logger.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(logging.Formatter("govbot: %(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING)


@click.group(
    name="govbot", cls=GovbotGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option("--debug", is_flag=True, help="Debug logs and full traces on failure.")
@click.option("-v", "--verbose", count=True, help="More log output on stderr.")
@click.version_option(govbot.__version__, prog_name="govbot")
def cli(debug: bool, verbose: int) -> None:
    """govbot: API governance and blueprint review for a Gerrit community."""
    _configure_logging(debug, verbose)


def _common(func: F) -> F:
    """The options every command shares: --config, --policy and --debug."""

    @click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Settings file (default: ./govbot.toml if present).",
    )
    @click.option(
        "--policy",
        "policy_path",
        type=click.Path(path_type=Path),
        help="Policy directory or file (default: $GOVBOT_POLICY_DIR, ./policies, or the built-in one).",
    )
    @click.option("--debug", "cmd_debug", is_flag=True, hidden=True)
    @functools.wraps(func)
    def wrapper(*args: Any, cmd_debug: bool = False, **kwargs: Any) -> Any:
        if cmd_debug:
            _configure_logging(True, 0)
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _settings_and_policy(
    config_file: Path | None, policy_path: Path | None
) -> tuple[Settings, Policy]:
    settings = Settings.from_env(config_file)
    policy = load_policy(policy_path if policy_path is not None else settings.policy_dir)
    LOG.debug("policy %s (sha256 %s)", policy.source, policy.digest[:12])
    return settings, policy


def _use_color(choice: str, output: Path | None) -> bool:
    if output is not None or choice == "never":
        return False
    if choice == "always":
        return True
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _emit(text: str, output: Path | None, *, color: bool) -> None:
    if output is None:
        click.echo(text, nl=False, color=color)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{output}: cannot write: {exc.strerror or exc}") from None


@cli.command()
@click.argument("specs", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--base",
    "bases",
    multiple=True,
    type=click.Path(path_type=Path),
    metavar="OLD",
    help="The spec before the change (once per SPEC, in order); adds the compatibility and deprecation rules.",
)
@click.option(
    "--git",
    "git_range",
    metavar="REV1..REV2",
    help="Check the specs a git range changed (by the policy's globs), both sides read from git.",
)
@click.option(
    "--repo",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Repository for --git.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report to FILE instead of stdout.",
)
@click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour in text output (auto: only on a terminal).",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    help="Refuse spec files larger than this (default: the policy's max_file_bytes).",
)
@click.option(
    "--min-severity",
    type=click.Choice(["info", "warning", "error"]),
    default="info",
    show_default=True,
    help="Show only findings at least this severe (the counts and the exit code still cover all).",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Judge dates (sunsets, waiver expiry) as of this day.",
)
@_common
def check(
    specs: tuple[Path, ...],
    bases: tuple[Path, ...],
    git_range: str | None,
    repo: Path,
    fmt: str,
    output: Path | None,
    color: str,
    max_bytes: int | None,
    min_severity: str,
    today: dt.datetime | None,
    config_file: Path | None,
    policy_path: Path | None,
) -> None:
    """Check OpenAPI specs: validation, audience, consistency, and with a base, compatibility.

    \b
      govbot check api-specs/compute.yaml
      govbot check --base old/compute.yaml api-specs/compute.yaml
      govbot check api-specs/                      (every spec in it, cross-spec rules too)
      govbot check --git origin/master..HEAD --format sarif -o govbot.sarif
    """
    if git_range and (specs or bases):
        raise click.UsageError("--git takes no SPEC or --base: it finds the changed specs itself")
    if not git_range and not specs:
        raise click.UsageError("give at least one SPEC, or --git REV1..REV2")
    if bases and len(bases) != len(specs):
        raise click.UsageError(
            f"{len(bases)} --base for {len(specs)} SPEC: give one --base per SPEC"
        )
    settings, policy = _settings_and_policy(config_file, policy_path)
    day = today.date() if today is not None else dt.date.today()
    if git_range:
        rev1, sep, rev2 = git_range.partition("..")
        if not sep or not rev1 or not rev2 or rev2.startswith("."):
            raise click.UsageError(f"--git wants REV1..REV2, not {git_range!r}")
        report = check_git(
            repo,
            rev1,
            rev2,
            policy=policy,
            today=day,
            max_bytes=max_bytes,
            docs_base=settings.docs_base,
        )
    else:
        report = check_files(
            list(specs),
            base_files=list(bases) if bases else None,
            policy=policy,
            today=day,
            max_bytes=max_bytes,
            docs_base=settings.docs_base,
        )
    use_color = _use_color(color, output) and fmt == "text"
    floor = Severity(min_severity).rank
    shown = dataclasses.replace(
        report, findings=tuple(f for f in report.findings if f.severity.rank >= floor)
    )
    _emit(_render(shown, fmt, use_color, settings.docs_base), output, color=use_color)
    if output is not None:
        click.echo(render.summary_line(report), err=True)
    click.get_current_context().exit(report.exit_code)


def _render(report: Report, fmt: str, color: bool, docs_base: str) -> str:
    if fmt == "json":
        return render.render_json(report)
    if fmt == "sarif":
        return render.render_sarif(report, all_rules(), docs_base=docs_base)
    return render.render_text(report, color=color, docs_base=docs_base)


@cli.command(name="classify")
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True
)
@click.option("--max-bytes", type=click.IntRange(min=1), help="Refuse spec files larger than this.")
@_common
def classify_command(
    specs: tuple[Path, ...],
    fmt: str,
    color: str,
    max_bytes: int | None,
    config_file: Path | None,
    policy_path: Path | None,
) -> None:
    """Print every operation with its audience and the evidence that decided it."""
    _, policy = _settings_and_policy(config_file, policy_path)
    files: list[Path] = []
    for path in specs:
        if not path.exists():
            raise SpecError(f"{path}: no such file or directory")
        files.extend(discover_specs(path, policy, common_root([path])) if path.is_dir() else [path])
    root = common_root(files) if files else None
    results: dict[str, Classification] = {}
    for file in files:
        try:
            spec = load_spec(file, root=root, max_bytes=max_bytes or policy.max_file_bytes)
        except OSError as exc:
            raise SpecError(f"{file}: cannot read: {exc.strerror or exc}") from None
        if not spec.ok:
            cause = spec.findings[0].message if spec.findings else "cannot be loaded"
            raise SpecError(f"{spec.file}: {cause}")
        results[spec.file] = classify(spec, policy.audience)
    if fmt == "json":
        click.echo(render.render_classification_json(results), nl=False)
        return
    use_color = _use_color(color, None)
    text = "\n".join(
        render.render_classification_text(c, color=use_color) for c in results.values()
    )
    click.echo(text, nl=False, color=use_color)


@cli.command(name="rules")
@click.argument("code", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@_common
def rules_command(
    code: str | None, fmt: str, config_file: Path | None, policy_path: Path | None
) -> None:
    """The rule catalogue, or one rule's documentation."""
    settings = Settings.from_env(config_file)
    docs = settings.docs_base
    if code is not None:
        rule = get_rule(code)
        if rule is None:
            raise click.UsageError(f"unknown rule code {code!r}; `govbot rules` lists them")
        selected = [rule]
    else:
        selected = list(all_rules())
    if fmt == "json":
        payload = render.rules_json(selected, docs_base=docs)
        text = (
            json.dumps(payload[0] if code else {"rules": payload}, indent=2, ensure_ascii=False)
            + "\n"
        )
    elif fmt == "markdown":
        text = (
            render.rule_markdown(selected[0], docs_base=docs)
            if code
            else render.render_rules_markdown(selected, docs_base=docs)
        )
    else:
        text = (
            render.render_rule_text(selected[0], docs_base=docs)
            if code
            else render.render_rules_text(selected)
        )
    click.echo(text, nl=False)


@cli.command(name="blueprint")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--template",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The project's spec template: text copied from it never counts as a use case "
    "(default: the policy's blueprints.template, else a *-template.rst next to the spec).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_common
def blueprint_cmd(
    files: tuple[Path, ...],
    template: Path | None,
    fmt: str,
    config_file: Path | None,
    policy_path: Path | None,
) -> None:
    """Use-case verdicts for design specs (RST or Markdown blueprints).

    Each spec is justified when its Use Cases (else Problem description) section says
    who needs the change and why. A directory stands for every .rst/.md file under it.
    JSON: one object per file with file, verdict, strength, section, line, evidence and
    findings. Exit code 1 when any spec is unjustified.

    \b
      govbot blueprint specs/2027.1/approved/my-spec.rst
      govbot blueprint --template specs/2027.1-template.rst --format json specs/2027.1/
    """
    from govbot.blueprints import blueprint_command

    settings, policy = _settings_and_policy(config_file, policy_path)
    for file in files:
        if not file.exists():
            raise SpecError(f"{file}: no such file or directory")
    code = blueprint_command(
        list(files),
        template,
        fmt,
        policy,
        out=lambda text: click.echo(text, nl=False),
        docs_base=settings.docs_base,
    )
    click.get_current_context().exit(code)


# --- the Gerrit bot: review, serve, db, sandbox, demo ------------------------------------

SERVICE_LOG_FORMAT = "%(asctime)s govbot %(levelname)s %(name)s: %(message)s"


def _config_only(func: F) -> F:
    """--config (and the hidden per-command --debug) for commands without a policy."""

    @click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Settings file (default: ./govbot.toml if present).",
    )
    @click.option("--debug", "cmd_debug", is_flag=True, hidden=True)
    @functools.wraps(func)
    def wrapper(*args: Any, cmd_debug: bool = False, **kwargs: Any) -> Any:
        if cmd_debug:
            _configure_logging(True, 0)
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _service_logging() -> None:
    """A service logs what it does: INFO at least, with a time on every line."""
    logger = logging.getLogger("govbot")
    for handler in logger.handlers:
        if getattr(handler, _HANDLER_MARK, False):
            handler.setFormatter(logging.Formatter(SERVICE_LOG_FORMAT))
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)


class _RaisedElsewhere(logging.Filter):
    """Drops the Gerrit client's error logs: each error is also raised, and the CLI prints
    it as its one line. With ``-v`` or ``--debug`` both are shown."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name.startswith("govbot.gerrit") and record.levelno >= logging.ERROR)


def _one_line_errors() -> None:
    """For one-shot commands: a failure is one line on stderr, not a log line and a line."""
    logger = logging.getLogger("govbot")
    if logger.level <= logging.INFO:
        return
    for handler in logger.handlers:
        if getattr(handler, _HANDLER_MARK, False):
            handler.addFilter(_RaisedElsewhere())


def _database_error(url: str, exc: Exception) -> ConfigError:
    from govbot.settings import redact_url

    cause = getattr(exc, "orig", None) or exc
    return ConfigError(f"database {redact_url(url)}: {_one_line(str(cause))}")


def _open_database(settings: Settings, *, migrate: bool) -> Engine:
    """An engine on the settings' database, migrated to head (or checked to be there)."""
    from sqlalchemy.exc import SQLAlchemyError

    from govbot.db import current_revision, head_revision, is_up_to_date, make_engine, upgrade
    from govbot.settings import redact_url

    url = settings.database_url
    try:
        engine = make_engine(url)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise _database_error(url, exc) from None
    try:
        if migrate:
            upgrade(engine)
        else:
            with engine.connect() as connection:
                if not is_up_to_date(connection):
                    found = current_revision(connection) or "empty"
                    raise ConfigError(
                        f"database {redact_url(url)} is at revision {found}, not "
                        f"{head_revision()}: run `govbot db upgrade` first"
                    )
    except SQLAlchemyError as exc:
        engine.dispose()
        raise _database_error(url, exc) from None
    except BaseException:
        engine.dispose()
        raise
    return engine


def _existing_database(settings: Settings) -> Engine | None:
    """The settings' database if it exists and is at head (read by a dry run), else None."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from govbot.db import is_up_to_date, make_engine

    try:
        parsed = make_url(settings.database_url)
        sqlite = parsed.get_backend_name() == "sqlite"
        if sqlite and (not parsed.database or not Path(parsed.database).is_file()):
            return None
        engine = make_engine(settings.database_url)
    except (SQLAlchemyError, ImportError, ValueError):
        return None
    try:
        with engine.connect() as connection:
            if is_up_to_date(connection):
                return engine
    except SQLAlchemyError as exc:
        LOG.debug("dry run without the database: %s", exc)
    engine.dispose()
    return None


def _gerrit_client(settings: Settings) -> GerritClient:
    from govbot.gerrit.client import GerritClient

    if not settings.gerrit_url:
        raise ConfigError("GOVBOT_GERRIT_URL is not set: the Gerrit server to work on")
    return GerritClient.from_settings(settings)


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


def _outcome_text(outcome: ReviewOutcome, *, first: bool = True) -> str:
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


def _outcomes_text(outcomes: Sequence[ReviewOutcome]) -> str:
    """Every pass's outcome on one change; a skip (WIP, closed) shared by all is said once."""
    from govbot.services.review import ReviewStatus

    skips = (ReviewStatus.SKIPPED_WIP, ReviewStatus.SKIPPED_PRIVATE, ReviewStatus.SKIPPED_CLOSED)
    parts = []
    for n, outcome in enumerate(outcomes):
        if n and outcome.status in skips and outcome.status is outcomes[0].status:
            continue
        parts.append(_outcome_text(outcome, first=n == 0))
    return "\n".join(parts)


@cli.command(name="review")
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
@_common
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
    from govbot.gerrit.sources import mirror_from_settings
    from govbot.services.worker import review_all

    ref = _change_ref(change)
    _one_line_errors()
    settings, policy = _settings_and_policy(config_file, policy_path)
    with _gerrit_client(settings) as client:
        engine = _existing_database(settings) if dry_run else _open_database(settings, migrate=True)
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
    click.echo(_outcomes_text(outcomes), nl=False)
    errors = any(f.severity is Severity.ERROR for o in outcomes for f in o.findings)
    click.get_current_context().exit(EXIT_FINDINGS if errors else EXIT_OK)


@contextlib.contextmanager
def _reading_database(settings: Settings) -> Iterator[Engine]:
    """The settings' database for a command that only reads it (a dry run, a preview):
    itself when it exists at head, else an empty throw-away one (nothing is created)."""
    from govbot.db import make_engine, upgrade

    engine = _existing_database(settings)
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


@cli.command(name="escalate")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show what would happen to each candidate; write nothing to Gerrit or the database.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_common
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

    _one_line_errors()
    settings, policy = _settings_and_policy(config_file, policy_path)
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(_gerrit_client(settings))
        if dry_run:
            engine = stack.enter_context(_reading_database(settings))
        else:
            engine = _open_database(settings, migrate=True)
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


@cli.command(name="digest")
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
@_common
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

    _one_line_errors()
    settings, policy = _settings_and_policy(config_file, policy_path)
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
        client = stack.enter_context(_gerrit_client(settings)) if settings.gerrit_url else None
        if send:
            engine = _open_database(settings, migrate=True)
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


@cli.group(name="db")
def db_group() -> None:
    """The database: `govbot db upgrade` applies the migrations."""


@db_group.command(name="upgrade")
@_config_only
def db_upgrade(config_file: Path | None) -> None:
    """Apply the migrations to the database (GOVBOT_DATABASE_URL); safe to run again."""
    from govbot.db import head_revision
    from govbot.settings import redact_url

    settings = Settings.from_env(config_file)
    engine = _open_database(settings, migrate=True)
    engine.dispose()
    click.echo(f"database {redact_url(settings.database_url)} is at revision {head_revision()}")


@cli.command(name="backfill")
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
@_common
def backfill_cmd(
    project: str,
    branch: str,
    repo: Path | None,
    config_file: Path | None,
    policy_path: Path | None,
) -> None:
    """Index PROJECT's history for the dashboard: every commit of the branch that touched
    an API spec or a design spec, oldest first.

    Each such commit becomes a point of the API's health history (its surface, findings
    and deprecations at that commit); design specs get their use-case verdict. A progress
    bar is drawn on a terminal. Running it again records nothing new.

    \b
      govbot backfill openstack/compute-api
      govbot backfill openstack/compute-api --branch stable/2026.1 --repo ~/src/compute-api
    """
    from govbot.db.models import utcnow
    from govbot.gerrit.sources import mirror_from_settings
    from govbot.services.index import backfill

    _one_line_errors()
    settings, policy = _settings_and_policy(config_file, policy_path)
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
    engine = _open_database(settings, migrate=True)
    try:
        run = backfill(
            engine,
            source,
            project,
            branch,
            policy=policy,
            now=utcnow(),
            progress=True,
            docs_base=settings.docs_base,
            out=sys.stderr,
        )
    finally:
        engine.dispose()
    for error in run.errors:
        click.echo(f"govbot: {project} {branch}: {_one_line(error)}", err=True)
    click.echo(_index_summary(f"{project} {branch}", run))
    click.get_current_context().exit(EXIT_FINDINGS if run.errors else EXIT_OK)


@cli.command(name="index")
@_common
def index_cmd(config_file: Path | None, policy_path: Path | None) -> None:
    """One index pass now, as the service's index job runs every GOVBOT_INDEX_INTERVAL.

    The changes merged on the watched projects (GOVBOT_GERRIT_PROJECTS) since the last
    pass, and with a git mirror (GOVBOT_GIT_MIRROR_DIR) each watched branch's head, are
    indexed for the dashboard's API health history. Older history: `govbot backfill`.
    Exit code 1 when a project could not be indexed.
    """
    from govbot.db.models import utcnow
    from govbot.gerrit.sources import mirror_from_settings
    from govbot.services.index import index_pass

    _one_line_errors()
    settings, policy = _settings_and_policy(config_file, policy_path)
    if not settings.gerrit_projects:
        raise ConfigError(
            "GOVBOT_GERRIT_PROJECTS is not set: name the projects to index "
            "(project or project:branch, comma-separated)"
        )
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(_gerrit_client(settings)) if settings.gerrit_url else None
        mirror = mirror_from_settings(settings)
        if client is None and mirror is None:
            raise ConfigError(
                "index needs GOVBOT_GERRIT_URL (merged changes) or GOVBOT_GIT_MIRROR_DIR "
                "(branch heads): where to read the merged specs"
            )
        engine = _open_database(settings, migrate=True)
        stack.callback(engine.dispose)
        run = index_pass(
            engine,
            policy=policy,
            now=utcnow,
            watched=settings.watched,
            client=client,
            mirror=mirror,
            docs_base=settings.docs_base,
        )
    for error in run.errors:
        click.echo(f"govbot: {_one_line(error)}", err=True)
    click.echo(_index_summary(", ".join(settings.gerrit_projects), run))
    click.get_current_context().exit(EXIT_FINDINGS if run.errors else EXIT_OK)


def _index_summary(what: str, run: Any) -> str:
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


@contextlib.contextmanager
def _until_signalled() -> Iterator[threading.Event]:
    """An event set by SIGINT (Ctrl-C) or SIGTERM while the block runs."""
    stop = threading.Event()
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _wait(stop: threading.Event) -> None:
    while not stop.wait(0.5):
        pass


def _web_server(app: Any, host: str, port: int) -> WebServer:
    from govbot.web import WebServer

    try:
        return WebServer(app, host, port)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port} (GOVBOT_WEB_HOST/GOVBOT_WEB_PORT): "
            f"{exc.strerror or exc}"
        ) from None


def _check_gerrit(client: GerritClient) -> bool:
    """Say which Gerrit govbot talks to; refused credentials stop here, an outage does not
    (False: not reachable now)."""
    from govbot.gerrit.client import GerritAuthError

    try:
        version = client.version()
    except GerritAuthError:
        raise
    except GerritError as exc:
        LOG.warning("Gerrit not reachable now (%s); intake retries on its own", exc)
        return False
    LOG.info("Gerrit %s at %s as %s", version, client.url, client.username or "anonymous")
    return True


@cli.command()
@click.option(
    "--no-migrate",
    is_flag=True,
    help="Do not apply migrations: refuse to start unless the database is already at head.",
)
@_common
def serve(no_migrate: bool, config_file: Path | None, policy_path: Path | None) -> None:
    """Run the service until SIGINT/SIGTERM: Gerrit intake, the review worker, the jobs,
    the web app with the dashboard.

    Polls the watched projects (GOVBOT_GERRIT_PROJECTS) every GOVBOT_POLL_INTERVAL,
    takes Gerrit's webhook at POST /hooks/gerrit, reviews what they queue, escalates
    stale reviews, indexes merged specs, mails the digest, and serves the dashboard (and
    its JSON API, /metrics, /healthz) on GOVBOT_WEB_HOST:GOVBOT_WEB_PORT (127.0.0.1:8080).
    """
    from govbot.jobs import Jobs
    from govbot.services.preflight import log_group_problems
    from govbot.settings import redact_url
    from govbot.web import create_app

    _service_logging()
    settings, policy = _settings_and_policy(config_file, policy_path)
    if not settings.gerrit_projects:
        raise ConfigError(
            "GOVBOT_GERRIT_PROJECTS is not set: name the projects to watch "
            "(project or project:branch, comma-separated)"
        )
    client = _gerrit_client(settings)
    engine = _open_database(settings, migrate=not no_migrate)
    try:
        if _check_gerrit(client):
            log_group_problems(client, policy, settings.watched)
        jobs = Jobs(settings, engine, client, policy)
        app = create_app(
            settings, engine, wake=jobs.wake, bot_username=client.username, policy=policy
        )
        if jobs.stream is not None:
            app.extensions["govbot.collectors"] = [jobs.stream.metrics]
        web = _web_server(app, settings.web_host, settings.web_port)
        with _until_signalled() as stop:
            web.start()
            jobs.start()
            LOG.info(
                "govbot %s serving on %s (database %s, policy %s, watching %s)",
                govbot.__version__,
                web.url,
                redact_url(settings.database_url),
                policy.digest[:12],
                ", ".join(settings.gerrit_projects),
            )
            if not settings.webhook_secret:
                LOG.warning(
                    "GOVBOT_WEBHOOK_SECRET is not set: the webhook is off; changes are found "
                    "by polling every %ss",
                    settings.poll_interval,
                )
            try:
                _wait(stop)
            finally:
                LOG.info("stopping: web server, then the jobs (the current review finishes)")
                web.stop()
                jobs.shutdown(wait=True)
    finally:
        client.close()
        engine.dispose()
    LOG.info("stopped")


@cli.command(name="sandbox")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8081,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free one).",
)
@click.option("--seed", type=click.Choice(["demo", "empty"]), default="demo", show_default=True)
def sandbox_command(port: int, seed: str) -> None:
    """Run the sandbox Gerrit (a look-alike for tests and demos) until Ctrl-C.

    Prints its URL and the bot account's credentials.
    """
    from govbot.sandbox import serve as serve_sandbox

    try:
        serve_sandbox(port, seed)
    except OSError as exc:
        raise ConfigError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None


@cli.command()
@click.option(
    "--web-port",
    type=click.IntRange(0, 65535),
    help="Port of govbot's web app (default: GOVBOT_WEB_PORT, 8080; 0: any free one).",
)
@click.option(
    "--sandbox-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port of the sandbox Gerrit (0: any free one).",
)
@click.option(
    "--exit-after-review",
    is_flag=True,
    help="Stop once the demo changes are reviewed (for tests and CI).",
)
@_common
def demo(
    web_port: int | None,
    sandbox_port: int,
    exit_after_review: bool,
    config_file: Path | None,
    policy_path: Path | None,
) -> None:
    """The whole bot in one process tree: a sandbox Gerrit seeded with the demo changes,
    govbot polling and reviewing them (API and spec reviews), one escalation pass, each
    project's history indexed, and the dashboard (with the webhook wired) served until
    Ctrl-C, which stops all.
    """
    from govbot.db.models import utcnow
    from govbot.db.queue import new_worker_id
    from govbot.gerrit.client import GerritClient
    from govbot.jobs import Jobs
    from govbot.sandbox import Sandbox
    from govbot.services.escalation import escalate
    from govbot.services.index import backfill, record_queue
    from govbot.services.intake import poll_once
    from govbot.services.worker import run_worker_once
    from govbot.web import create_app
    from govbot.web.dashboard import register_dashboard

    settings, policy = _settings_and_policy(config_file, policy_path)
    port = settings.web_port if web_port is None else web_port
    with tempfile.TemporaryDirectory(prefix="govbot-demo-") as tmp, contextlib.ExitStack() as stack:
        click.echo("Starting the sandbox Gerrit with the demo seed ...")
        try:
            sandbox = Sandbox(port=sandbox_port).start()
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on 127.0.0.1:{sandbox_port} for the sandbox: {exc.strerror or exc}"
            ) from None
        stack.callback(sandbox.close)
        seed = sandbox.seed("demo")
        demo_settings = dataclasses.replace(
            settings,
            gerrit_url=sandbox.url,
            gerrit_username=seed.bot_username,
            gerrit_password=seed.bot_password,
            gerrit_netrc_file="",
            gerrit_projects=seed.projects,
            database_url=f"sqlite:///{Path(tmp) / 'govbot.db'}",
            webhook_secret=secrets.token_urlsafe(16),
            web_host="127.0.0.1",
            web_url="",
            git_mirror_dir=str(Path(tmp) / "mirror"),
            git_url=sandbox.git_url_template,
            # The dashboard's admin actions work in the demo: GOVBOT_ADMIN_PASSWORD, else
            # a password made up for this run (printed below).
            admin_password=settings.admin_password or secrets.token_urlsafe(9),
        )
        engine = _open_database(demo_settings, migrate=True)
        stack.callback(engine.dispose)
        client = GerritClient.from_settings(demo_settings)
        stack.callback(client.close)
        jobs = Jobs(demo_settings, engine, client, policy)
        app = create_app(demo_settings, engine, wake=jobs.wake, policy=policy)
        web = _web_server(app, "127.0.0.1", port)
        # The links in reviews point at the web app's real port.
        demo_settings = dataclasses.replace(demo_settings, web_port=web.port, web_url=web.url)
        app.extensions["govbot"].settings = demo_settings
        register_dashboard(app, engine, demo_settings, policy=policy)
        jobs.settings = demo_settings
        web.start()
        stack.callback(web.stop)
        # govbot follows the sandbox as a third-party CI follows OpenDev: through
        # `gerrit stream-events` over SSH, with a key of its own and the host key pinned.
        demo_settings = _demo_stream(sandbox, seed.bot_username, Path(tmp), demo_settings)
        jobs = Jobs(demo_settings, engine, client, policy)
        app.extensions["govbot"].wake = jobs.wake
        if jobs.stream is not None:
            app.extensions["govbot.collectors"] = [jobs.stream.metrics]
        click.echo(
            f"  Gerrit sandbox: {sandbox.url} (bot {seed.bot_username} / {seed.bot_password})"
        )
        click.echo(f"  govbot web app: {web.url} (webhook {web.url}/hooks/gerrit)")

        click.echo(
            f"Polling {len(seed.projects)} projects for open changes touching API specs, "
            "design specs or API paths ..."
        )
        poll = poll_once(client, engine, demo_settings, policy, utcnow())
        if not poll.ok:
            raise GerritError("; ".join(poll.errors))
        click.echo(f"  {len(poll.queued)} changes queued for review: {sorted(poll.queued)}")
        click.echo(
            "Reviewing them (each spec against its parent; design specs for a use case; "
            "API changes for a justified blueprint) ..."
        )
        worker_id = new_worker_id()
        outcomes: dict[int, tuple[ReviewOutcome, ...]] = {}
        problems: list[str] = []
        while True:
            result = run_worker_once(
                engine, client, policy, demo_settings, utcnow, worker_id, limit=50
            )
            for item in result.items:
                if item.outcomes and item.change is not None:
                    outcomes[item.change] = item.outcomes
                elif item.status not in ("reviewed",):
                    problems.append(f"change {item.change}: {item.status}: {item.detail}")
            if result.gerrit_down or not result.processed:
                break
        click.echo(_demo_report(client, outcomes, policy))
        for problem in problems:
            click.echo(f"govbot demo: {problem}", err=True)
        click.echo("Escalating the changes that waited more than two days for a human review ...")
        report = escalate(client, engine, policy, utcnow(), watched=demo_settings.watched)
        click.echo(_demo_escalations(report))
        problems += report.errors
        click.echo(
            "Indexing each project's history for the dashboard (every commit that touched "
            "an API spec or a design spec) ..."
        )
        for project in seed.projects:
            run = backfill(
                engine,
                _file_path(sandbox.git_url(project)),
                project,
                policy=policy,
                now=utcnow(),
                progress=False,
                docs_base=demo_settings.docs_base,
            )
            click.echo(f"  {_index_summary(project, run)}")
            for error in run.errors:
                problems.append(f"indexing {project}: {error}")
                click.echo(f"govbot demo: {problems[-1]}", err=True)
        record_queue(engine, report)
        dashboard = f"{web.url}/"
        commented = sorted(n for n, items in outcomes.items() if any(o.posted for o in items[1:]))
        click.echo("Where to look:")
        looks = [("the reviews on the sandbox Gerrit", f"{sandbox.url}changes/1/messages")]
        looks += [
            (f"change {n}'s spec review comments", f"{sandbox.url}changes/{n}/comments")
            for n in commented
        ]
        looks += [
            (
                f"change {c.assessment.number}'s attention set (escalated)",
                f"{sandbox.url}changes/{c.assessment.number}/attention",
            )
            for c in report.actions
        ]
        looks += [
            ("the dashboard: every API's health", dashboard),
            ("the review queue (2 and 3 escalated)", f"{web.url}/queue"),
            ("blueprints and their use cases", f"{web.url}/blueprints"),
            ("the rules reviews link to", f"{web.url}/rules"),
            ("the dashboard's JSON API", f"{web.url}/api/v1"),
            ("govbot's health and queue", f"{web.url}/healthz"),
            ("Prometheus metrics", f"{web.url}/metrics"),
            (
                "admin actions (any name)",
                f"{web.url}/admin/login"
                + (
                    "" if settings.admin_password else f" (password {demo_settings.admin_password})"
                ),
            ),
        ]
        width = max(len(label) for label, _ in looks) + 2
        for label, url in looks:
            click.echo(f"  {label + ':':<{width}}{url}")
        if problems:
            raise GovbotError(f"{len(problems)} problem(s) in the demo (see above)")
        if exit_after_review:
            return
        _service_logging()
        with _until_signalled() as stop:
            jobs.start(poll_now=False)
            stack.callback(jobs.shutdown)
            rule = "=" * 78
            click.echo(f"\n{rule}\n  Open the dashboard: {dashboard}\n{rule}")
            click.echo(
                "govbot keeps watching the sandbox (stream-events over SSH at once, poll every "
                f"{demo_settings.poll_interval:g} s) and serves the dashboard. "
                "Press Ctrl-C to stop."
            )
            _wait(stop)
        click.echo("Stopping govbot and the sandbox ...")


def _demo_stream(sandbox: Any, bot: str, tmp: Path, settings: Settings) -> Settings:
    """Serve stream-events from the sandbox over SSH; settings that make govbot listen."""
    from govbot.sandbox import people
    from govbot.sandbox.ssh import new_key

    server = sandbox.start_ssh()
    key = new_key()
    people.add_ssh_key(sandbox, bot, key.public)
    key.write(tmp / "id_govbot")
    (tmp / "known_hosts").write_text(server.known_hosts_line + "\n", encoding="utf-8")
    return dataclasses.replace(
        settings,
        gerrit_ssh_host="127.0.0.1",
        gerrit_ssh_port=server.port,
        gerrit_ssh_user=bot,
        gerrit_ssh_key_file=str(tmp / "id_govbot"),
        gerrit_ssh_known_hosts=str(tmp / "known_hosts"),
    )


def _file_path(url: str) -> Path:
    """The local path of a ``file://`` URL (the sandbox's git repositories)."""
    from urllib.parse import unquote, urlparse

    return Path(unquote(urlparse(url).path))


def _demo_report(
    client: GerritClient, outcomes: Mapping[int, Sequence[ReviewOutcome]], policy: Policy
) -> str:
    """Every open change of the sandbox with what govbot did on it."""
    rule = "=" * 78
    lines = [""]
    for change in sorted(client.query_all("status:open"), key=lambda c: c.number):
        lines += [rule, f"Change {change.number} ({change.project}): {change.subject}", rule]
        done = outcomes.get(change.number)
        if done:
            lines.append(_outcomes_text(done))
        elif change.work_in_progress:
            lines.append("not reviewed: work in progress (the policy skips WIP changes)\n")
        else:
            globs = ", ".join(policy.spec_globs)
            lines.append(f"not reviewed: it touches no file the policy reviews ({globs})\n")
    return "\n".join(lines)


def _demo_escalations(report: Any) -> str:
    """The escalation pass of the demo: each step taken, with the member and why."""
    lines = []
    for c in report.actions:
        a = c.assessment
        lines.append(
            f"  change {a.number} ({a.project}) waited {a.waited_text()} for a human review: "
            f"{c.action} -> {c.assignee} ({c.pick_reason})"
        )
    if not lines:
        lines.append("  nothing to escalate")
    for error in report.errors:
        lines.append(f"  error: {error}")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="govbot")
