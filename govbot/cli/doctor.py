"""``govbot doctor``: the deployment's settings checked against Gerrit, git and the database."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import click

from govbot.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    common_options,
    one_line_errors,
    settings_and_policy,
)


@click.command(name="doctor")
@common_options
def doctor_cmd(config_file: Path | None, policy_path: Path | None) -> None:
    """Check what `govbot serve` needs, one line per check; exit 1 on any problem.

    Gerrit reachable and the bot's credentials accepted, the escalation groups visible,
    each watched project (GOVBOT_GERRIT_PROJECTS) found, the policy's spec globs matching
    files on each watched branch (one git fetch per project into GOVBOT_GIT_MIRROR_DIR),
    the database migrated, the webhook or stream-events configured. Each problem says
    how to fix it. `govbot serve` runs the same checks at start-up into its log.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from govbot.db import make_engine
    from govbot.gerrit.client import GerritClient
    from govbot.gerrit.mirror import mirror_from_settings
    from govbot.services.doctor import diagnose

    one_line_errors()
    settings, policy = settings_and_policy(config_file, policy_path)
    with contextlib.ExitStack() as stack:
        engine: Any = None
        with contextlib.suppress(SQLAlchemyError, ImportError, ValueError):
            engine = make_engine(settings.database_url)
            stack.callback(engine.dispose)
        client = None
        if settings.gerrit_url:
            client = stack.enter_context(GerritClient.from_settings(settings))
        mirror = mirror_from_settings(settings)
        if mirror is not None:
            # A listing per project, bounded like every other Gerrit call.
            mirror.timeout = settings.gerrit_timeout
        report = diagnose(settings, policy, engine=engine, client=client, mirror=mirror)
    for check in report.checks:
        click.echo(f"{'ok     ' if check.ok else 'PROBLEM'} {check.line}")
    if report.ok:
        click.echo(f"govbot doctor: all {len(report.checks)} checks passed")
    else:
        click.echo(f"govbot doctor: {len(report.problems)} problem(s)", err=True)
    click.get_current_context().exit(EXIT_OK if report.ok else EXIT_FINDINGS)


COMMANDS = (doctor_cmd,)
