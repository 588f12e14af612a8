"""What every command shares: one-line failures and exit codes, logging, the common options, settings and policy, the database and the Gerrit client."""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from govbot.errors import ConfigError, GovbotError, SpecError
from govbot.policy import Policy, load_policy
from govbot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from govbot.gerrit.client import GerritClient


LOG = logging.getLogger(__name__)


F = TypeVar("F", bound=Callable[..., Any])


EXIT_OK, EXIT_FINDINGS, EXIT_CANNOT_RUN = 0, 1, 2


_HANDLER_MARK = "_govbot_cli_handler"


@contextlib.contextmanager
def one_pass() -> Iterator[None]:
    """The cyclic garbage collector paused for a command that reads its inputs once and
    ends (``check``, ``classify``).

    Its passes over the parsed documents (a million objects for a 13 MB spec, none in a
    reference cycle) took 13 to 20 % of such a check (``benchmarks/check.py``), while
    what the command leaves in cycles is small: a check of a 32 MB directory of specs
    peaked 2 MB higher without the collector. Reference counting still frees the rest.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
            click.echo(f"govbot: {one_line(exc.format_message())}{where}", err=True)
            code = EXIT_CANNOT_RUN
        except click.ClickException as exc:
            click.echo(f"govbot: {one_line(exc.format_message())}", err=True)
            code = EXIT_CANNOT_RUN
        except click.exceptions.Abort:
            click.echo("govbot: interrupted", err=True)
            code = 130
        except GovbotError as exc:
            if debug:
                traceback.print_exc()
            click.echo(f"govbot: {one_line(str(exc))}", err=True)
            code = EXIT_CANNOT_RUN
        except BrokenPipeError:
            code = EXIT_CANNOT_RUN
        except Exception as exc:
            if debug:
                traceback.print_exc()
            hint = "" if debug else " (run with --debug for the trace)"
            click.echo(
                f"govbot: internal error: {type(exc).__name__}: {one_line(str(exc))}{hint}",
                err=True,
            )
            code = EXIT_CANNOT_RUN
        if standalone_mode:
            sys.exit(code or 0)
        return code


def one_line(text: str) -> str:
    return " ".join(text.split())


def configure_logging(debug: bool, verbose: int) -> None:
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


def common_options(func: F) -> F:
    """The options every command shares: --config, --policy and --debug."""
    return config_only(_POLICY_OPTION(func))


_POLICY_OPTION = click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path),
    help="Policy directory or file (default: $GOVBOT_POLICY_DIR, ./policies, or the built-in one).",
)


def settings_and_policy(
    config_file: Path | None, policy_path: Path | None
) -> tuple[Settings, Policy]:
    settings = Settings.from_env(config_file)
    policy = load_policy(policy_path if policy_path is not None else settings.policy_dir)
    LOG.debug("policy %s (sha256 %s)", policy.source, policy.digest[:12])
    return settings, policy


def color_wanted(choice: str, output: Path | None) -> bool:
    if output is not None or choice == "never":
        return False
    if choice == "always":
        return True
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def emit(text: str, output: Path | None, *, color: bool) -> None:
    if output is None:
        click.echo(text, nl=False, color=color)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{output}: cannot write: {exc.strerror or exc}") from None


SERVICE_LOG_FORMAT = "%(asctime)s govbot %(levelname)s %(name)s: %(message)s"


def config_only(func: F) -> F:
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
            configure_logging(True, 0)
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def service_logging() -> None:
    """A service logs what it does: INFO at least, with a time on every line."""
    logger = logging.getLogger("govbot")
    for handler in logger.handlers:
        if getattr(handler, _HANDLER_MARK, False):
            handler.setFormatter(logging.Formatter(SERVICE_LOG_FORMAT))
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)


class RaisedElsewhere(logging.Filter):
    """Drops the Gerrit client's error logs: each error is also raised, and the CLI prints
    it as its one line. With ``-v`` or ``--debug`` both are shown."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.name.startswith("govbot.gerrit") and record.levelno >= logging.ERROR)


def one_line_errors() -> None:
    """For one-shot commands: a failure is one line on stderr, not a log line and a line."""
    logger = logging.getLogger("govbot")
    if logger.level <= logging.INFO:
        return
    for handler in logger.handlers:
        if getattr(handler, _HANDLER_MARK, False):
            handler.addFilter(RaisedElsewhere())


def database_error(url: str, exc: Exception) -> ConfigError:
    from govbot.settings import redact_url

    cause = getattr(exc, "orig", None) or exc
    return ConfigError(f"database {redact_url(url)}: {one_line(str(cause))}")


def open_database(settings: Settings, *, migrate: bool) -> Engine:
    """An engine on the settings' database, migrated to head (or checked to be there)."""
    from sqlalchemy.exc import SQLAlchemyError

    from govbot.db import current_revision, head_revision, is_up_to_date, make_engine, upgrade
    from govbot.settings import redact_url

    url = settings.database_url
    try:
        engine = make_engine(url)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise database_error(url, exc) from None
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
        raise database_error(url, exc) from None
    except BaseException:
        engine.dispose()
        raise
    return engine


def existing_database(settings: Settings) -> Engine | None:
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


def gerrit_client(settings: Settings) -> GerritClient:
    from govbot.gerrit.client import GerritClient

    if not settings.gerrit_url:
        raise ConfigError("GOVBOT_GERRIT_URL is not set: the Gerrit server to work on")
    return GerritClient.from_settings(settings)
