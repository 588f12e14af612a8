"""The ``govbot`` command line; logging is configured here and nowhere else.

Exit codes: 0 no error-level finding, 1 error-level findings, 2 govbot could not run
(usage, unreadable input, settings or policy errors). A failure to run is always one
line on stderr, ``govbot: <file>: <cause>``; the trace only with ``--debug``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

import govbot
from govbot import render
from govbot.errors import GovbotError, SpecError
from govbot.findings import Severity
from govbot.openapi.audience import Classification, classify
from govbot.openapi.load import load_spec
from govbot.policy import Policy, load_policy
from govbot.rules.registry import all_rules, get_rule
from govbot.services.check import Report, check_files, check_git, common_root, discover_specs
from govbot.settings import Settings

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


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="govbot")
