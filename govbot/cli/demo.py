"""``govbot demo``: the whole bot against a seeded sandbox Gerrit, then its dashboard."""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from govbot.errors import ConfigError, GerritError, GovbotError
from govbot.policy import Policy

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from govbot.gerrit.client import GerritClient
    from govbot.jobs import Jobs
    from govbot.sandbox import Sandbox, SeedInfo
    from govbot.services.escalation_report import EscalationReport
    from govbot.services.review import ReviewOutcome
    from govbot.settings import Settings
    from govbot.web import WebServer
from govbot.cli.bot import index_summary, outcomes_text
from govbot.cli.common import (
    common_options,
    open_database,
    service_logging,
    settings_and_policy,
)
from govbot.cli.serve import until_signalled, wait_for, web_server


@click.command()
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
@common_options
def demo(
    web_port: int | None,
    sandbox_port: int,
    exit_after_review: bool,
    config_file: Path | None,
    policy_path: Path | None,
) -> None:
    """The whole bot in one process tree: a sandbox Gerrit seeded with the demo changes,
    govbot polling and reviewing them (API and spec reviews), one escalation pass, each
    project's history indexed, and the dashboard served until Ctrl-C, which stops all.
    govbot follows the sandbox over `gerrit stream-events` (SSH), as it would OpenDev.
    """
    settings, policy = settings_and_policy(config_file, policy_path)
    port = settings.web_port if web_port is None else web_port
    with tempfile.TemporaryDirectory(prefix="govbot-demo-") as tmp, contextlib.ExitStack() as stack:
        run = _start(settings, policy, sandbox_port, port, Path(tmp), stack)
        outcomes, problems = _review(run, policy)
        report = _escalate(run, policy, problems)
        _index(run, policy, problems)
        click.echo(
            _where_to_look(run, outcomes, report, own_password=bool(settings.admin_password))
        )
        if problems:
            raise GovbotError(f"{len(problems)} problem(s) in the demo (see above)")
        if not exit_after_review:
            _serve(run, stack)


@dataclasses.dataclass
class _Run:
    """The demo's parts: the sandbox Gerrit and its seed, govbot's settings and its pieces."""

    sandbox: Sandbox
    seed: SeedInfo
    settings: Settings
    engine: Engine
    client: GerritClient
    jobs: Jobs
    web: WebServer


def _start(
    settings: Settings,
    policy: Policy,
    sandbox_port: int,
    port: int,
    tmp: Path,
    stack: contextlib.ExitStack,
) -> _Run:
    """The sandbox with the demo seed, a temporary database, and the web app listening."""
    from govbot.gerrit.client import GerritClient
    from govbot.jobs import Jobs
    from govbot.sandbox import Sandbox
    from govbot.web import create_app

    click.echo("Starting the sandbox Gerrit with the demo seed ...")
    try:
        sandbox = Sandbox(port=sandbox_port).start()
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on 127.0.0.1:{sandbox_port} for the sandbox: {exc.strerror or exc}"
        ) from None
    stack.callback(sandbox.close)
    seed = sandbox.seed("demo")
    demo_settings = _demo_settings(settings, sandbox, seed, tmp)
    # govbot follows the sandbox as a third-party CI follows OpenDev: through
    # `gerrit stream-events` over SSH, with a key of its own and the host key pinned.
    demo_settings = _demo_stream(sandbox, seed.bot_username, tmp, demo_settings)
    engine = open_database(demo_settings, migrate=True)
    stack.callback(engine.dispose)
    client = GerritClient.from_settings(demo_settings)
    stack.callback(client.close)
    jobs = Jobs(demo_settings, engine, client, policy)
    web = web_server(None, "127.0.0.1", port)
    # The links in reviews point at the web app's real port.
    demo_settings = dataclasses.replace(demo_settings, web_port=web.port, web_url=web.url)
    collectors = [jobs.stream.metrics] if jobs.stream is not None else []
    web.mount(
        create_app(demo_settings, engine, wake=jobs.wake, policy=policy, collectors=collectors)
    )
    jobs.settings = demo_settings
    web.start()
    stack.callback(web.stop)
    click.echo(f"  Gerrit sandbox: {sandbox.url} (bot {seed.bot_username} / {seed.bot_password})")
    click.echo(
        f"  Gerrit stream-events over SSH: {demo_settings.gerrit_ssh_user}@127.0.0.1:"
        f"{demo_settings.gerrit_ssh_port}"
    )
    click.echo(f"  govbot web app: {web.url}")
    return _Run(sandbox, seed, demo_settings, engine, client, jobs, web)


def _demo_settings(settings: Settings, sandbox: Sandbox, seed: SeedInfo, tmp: Path) -> Settings:
    """The deployment's settings pointed at the sandbox and at temporary storage."""
    return dataclasses.replace(
        settings,
        gerrit_url=sandbox.url,
        gerrit_username=seed.bot_username,
        gerrit_password=seed.bot_password,
        gerrit_netrc_file="",
        gerrit_projects=seed.projects,
        database_url=f"sqlite:///{tmp / 'govbot.db'}",
        webhook_secret=secrets.token_urlsafe(16),
        web_host="127.0.0.1",
        web_url="",
        git_mirror_dir=str(tmp / "mirror"),
        git_url=sandbox.git_url_template,
        # The dashboard's admin actions work in the demo: GOVBOT_ADMIN_PASSWORD, else
        # a password made up for this run (printed below).
        admin_password=settings.admin_password or secrets.token_urlsafe(9),
    )


def _demo_stream(sandbox: Sandbox, bot: str, tmp: Path, settings: Settings) -> Settings:
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


def _review(run: _Run, policy: Policy) -> tuple[dict[int, tuple[ReviewOutcome, ...]], list[str]]:
    """One poll, then the worker until the queue is empty: what it did, and what failed."""
    from govbot.db.models import utcnow
    from govbot.db.queue import new_worker_id
    from govbot.services.intake import poll_once
    from govbot.services.worker import run_worker_once

    click.echo(
        f"Polling {len(run.seed.projects)} projects for open changes touching API specs, "
        "design specs or API paths ..."
    )
    poll = poll_once(run.client, run.engine, run.settings, policy, utcnow())
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
            run.engine, run.client, policy, run.settings, utcnow, worker_id, limit=50
        )
        for item in result.items:
            if item.outcomes and item.change is not None:
                outcomes[item.change] = item.outcomes
            elif item.status not in ("reviewed",):
                problems.append(f"change {item.change}: {item.status}: {item.detail}")
        if result.gerrit_down or not result.processed:
            break
    click.echo(_demo_report(run.client, outcomes, policy))
    for problem in problems:
        click.echo(f"govbot demo: {problem}", err=True)
    return outcomes, problems


def _escalate(run: _Run, policy: Policy, problems: list[str]) -> EscalationReport:
    """One escalation pass, recorded for the dashboard's review queue."""
    from govbot.db.models import utcnow
    from govbot.services.escalation import escalate
    from govbot.services.index import record_queue

    click.echo("Escalating the changes that waited more than two days for a human review ...")
    report = escalate(run.client, run.engine, policy, utcnow(), watched=run.settings.watched)
    click.echo(_demo_escalations(report))
    problems += report.errors
    record_queue(run.engine, report)
    return report


def _index(run: _Run, policy: Policy, problems: list[str]) -> None:
    """Each project's history indexed for the dashboard."""
    from govbot.db.models import utcnow
    from govbot.services.index import backfill

    click.echo(
        "Indexing each project's history for the dashboard (every commit that touched "
        "an API spec or a design spec) ..."
    )
    for project in run.seed.projects:
        repo = _file_path(run.sandbox.git_url(project))
        indexed = backfill(run.engine, repo, project, policy=policy, now=utcnow(), progress=False)
        click.echo(f"  {index_summary(project, indexed)}")
        for error in indexed.errors:
            problems.append(f"indexing {project}: {error}")
            click.echo(f"govbot demo: {problems[-1]}", err=True)


def _where_to_look(
    run: _Run,
    outcomes: Mapping[int, Sequence[ReviewOutcome]],
    report: EscalationReport,
    *,
    own_password: bool,
) -> str:
    """The links to everything the demo made, one a line."""
    gerrit, web = run.sandbox.url, run.web.url
    commented = sorted(n for n, items in outcomes.items() if any(o.posted for o in items[1:]))
    looks = [("the reviews on the sandbox Gerrit", f"{gerrit}changes/1/messages")]
    looks += [
        (f"change {n}'s spec review comments", f"{gerrit}changes/{n}/comments") for n in commented
    ]
    looks += [
        (
            f"change {c.assessment.number}'s attention set (escalated)",
            f"{gerrit}changes/{c.assessment.number}/attention",
        )
        for c in report.actions
    ]
    password = "" if own_password else f" (password {run.settings.admin_password})"
    looks += [
        ("the dashboard: every API's health", f"{web}/"),
        ("the review queue (2 and 3 escalated)", f"{web}/queue"),
        ("blueprints and their use cases", f"{web}/blueprints"),
        ("the rules reviews link to", f"{web}/rules"),
        ("the dashboard's JSON API", f"{web}/api/v1"),
        ("govbot's health and queue", f"{web}/healthz"),
        ("Prometheus metrics", f"{web}/metrics"),
        ("admin actions (any name)", f"{web}/admin/login{password}"),
    ]
    width = max(len(label) for label, _ in looks) + 2
    return "\n".join(
        ["Where to look:", *(f"  {label + ':':<{width}}{url}" for label, url in looks)]
    )


def _serve(run: _Run, stack: contextlib.ExitStack) -> None:
    """The scheduler's jobs and the dashboard, until Ctrl-C."""
    service_logging()
    with until_signalled() as stop:
        run.jobs.start(poll_now=False)
        stack.callback(run.jobs.shutdown)
        rule = "=" * 78
        click.echo(f"\n{rule}\n  Open the dashboard: {run.web.url}/\n{rule}")
        click.echo(
            "govbot keeps watching the sandbox (stream-events over SSH at once, poll every "
            f"{run.settings.poll_interval:g} s) and serves the dashboard. "
            "Press Ctrl-C to stop."
        )
        wait_for(stop)
    click.echo("Stopping govbot and the sandbox ...")


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
            lines.append(outcomes_text(done))
        elif change.work_in_progress:
            lines.append("not reviewed: work in progress (the policy skips WIP changes)\n")
        else:
            globs = ", ".join(policy.spec_globs)
            lines.append(f"not reviewed: it touches no file the policy reviews ({globs})\n")
    return "\n".join(lines)


def _demo_escalations(report: EscalationReport) -> str:
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


COMMANDS = (demo,)
