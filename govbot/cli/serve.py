"""The long-running commands: serve (the bot and its web app) and sandbox (a look-alike Gerrit)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

import govbot
from govbot.errors import ConfigError, GerritError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from govbot.gerrit.client import GerritClient
    from govbot.policy import Policy
    from govbot.settings import Settings
    from govbot.web import WebServer
from govbot.cli.common import (
    LOG,
    common_options,
    gerrit_client,
    open_database,
    service_logging,
    settings_and_policy,
)


@contextlib.contextmanager
def until_signalled() -> Iterator[threading.Event]:
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


def wait_for(stop: threading.Event) -> None:
    while not stop.wait(0.5):
        pass


def web_server(app: Any, host: str, port: int, threads: int | None = None) -> WebServer:
    from govbot.web import WebServer
    from govbot.web.server import DEFAULT_THREADS

    threads = DEFAULT_THREADS if threads is None else threads
    if threads < 1:
        raise ConfigError(f"GOVBOT_WEB_THREADS must be at least 1, not {threads}")
    try:
        return WebServer(app, host, port, threads=threads)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port} (GOVBOT_WEB_HOST/GOVBOT_WEB_PORT): "
            f"{exc.strerror or exc}"
        ) from None


def _check_gerrit(client: GerritClient) -> bool:
    """Say which Gerrit govbot talks to; refused credentials stop here, an outage does not
    (False: not reachable now)."""
    from govbot.gerrit.errors import GerritAuthError

    try:
        version = client.version()
    except GerritAuthError:
        raise
    except GerritError as exc:
        LOG.warning("Gerrit not reachable now (%s); intake retries on its own", exc)
        return False
    LOG.info("Gerrit %s at %s as %s", version, client.url, client.username or "anonymous")
    return True


class _StartupDoctor:
    """The checks of `govbot doctor` at start-up, in a thread of their own (a first fetch
    of a large project into the mirror must not hold up the web app): each problem into
    the log (said once here, not once per pass), the result on /healthz."""

    def __init__(
        self,
        settings: Settings,
        policy: Policy,
        engine: Engine,
        client: GerritClient,
        mirror: Any,
        reachable: bool,
    ) -> None:
        self.args = (settings, policy, engine, client, mirror, reachable)
        self.result: list[str] | None = None

    def problems(self) -> list[str] | None:
        """The problems found; None while the checks run."""
        return self.result

    def start(self) -> None:
        threading.Thread(target=self.run, name="govbot-doctor", daemon=True).start()

    def run(self) -> None:
        from govbot.services.doctor import diagnose, log_report

        settings, policy, engine, client, mirror, reachable = self.args
        try:
            report = diagnose(
                settings, policy, engine=engine, client=client, mirror=mirror, reachable=reachable
            )
        except Exception:  # the edge: a failed check must not stop the service
            LOG.exception("start-up checks failed")
            return
        log_report(report)
        self.result = [check.line for check in report.problems]


@click.command()
@click.option(
    "--no-migrate",
    is_flag=True,
    help="Do not apply migrations: refuse to start unless the database is already at head.",
)
@common_options
def serve(no_migrate: bool, config_file: Path | None, policy_path: Path | None) -> None:
    """Run the service until SIGINT/SIGTERM: Gerrit intake, the review worker, the jobs,
    the web app with the dashboard.

    Polls the watched projects (GOVBOT_GERRIT_PROJECTS) every GOVBOT_POLL_INTERVAL,
    takes Gerrit's webhook at POST /hooks/gerrit, listens to `gerrit stream-events` over
    SSH when GOVBOT_GERRIT_SSH_HOST is set, reviews what they queue, escalates
    stale reviews, indexes merged specs, mails the digest, and serves the dashboard (and
    its JSON API, /metrics, /healthz) on GOVBOT_WEB_HOST:GOVBOT_WEB_PORT (127.0.0.1:8080).

    At start-up it runs the checks of `govbot doctor` into the log; with a git mirror
    (GOVBOT_GIT_MIRROR_DIR) the first index pass records the head of every watched branch,
    so every watched API is listed at once, and a background backfill then indexes the
    newest GOVBOT_BACKFILL_DEPTH (50) spec commits of each branch's history, resuming
    after a restart.
    """
    service_logging()
    settings, policy = settings_and_policy(config_file, policy_path)
    if not settings.gerrit_projects:
        raise ConfigError(
            "GOVBOT_GERRIT_PROJECTS is not set: name the projects to watch "
            "(project or project:branch, comma-separated)"
        )
    client = gerrit_client(settings)
    engine = open_database(settings, migrate=not no_migrate)
    try:
        _run_service(settings, policy, client, engine)
    finally:
        client.close()
        engine.dispose()
    LOG.info("stopped")


def _run_service(settings: Settings, policy: Policy, client: GerritClient, engine: Engine) -> None:
    """The jobs, the start-up checks and the web app, until SIGINT/SIGTERM; then the web
    server stops first, and the jobs finish the review they are on."""
    from govbot.jobs import Jobs
    from govbot.web import create_app

    reachable = _check_gerrit(client)
    jobs = Jobs(settings, engine, client, policy)
    doctor = _StartupDoctor(settings, policy, engine, client, jobs.mirror, reachable)
    app = create_app(
        settings,
        engine,
        wake=jobs.wake,
        bot_username=client.username,
        policy=policy,
        collectors=[jobs.stream.metrics] if jobs.stream is not None else [],
        startup_problems=doctor.problems,
    )
    web = web_server(app, settings.web_host, settings.web_port, settings.web_threads)
    with until_signalled() as stop:
        web.start()
        jobs.start()
        doctor.start()
        _log_serving(settings, policy, web.url)
        try:
            wait_for(stop)
        finally:
            LOG.info("stopping: web server, then the jobs (the current review finishes)")
            web.stop()
            jobs.shutdown(wait=True)


def _log_serving(settings: Settings, policy: Policy, url: str) -> None:
    """The start-up line: version, URL, database (credentials redacted), policy, projects."""
    from govbot.redact import redact_url

    LOG.info(
        "govbot %s serving on %s (database %s, policy %s, watching %s)",
        govbot.__version__,
        url,
        redact_url(settings.database_url),
        policy.digest[:12],
        ", ".join(settings.gerrit_projects),
    )


@click.command(name="sandbox")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8081,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free one).",
)
@click.option("--seed", type=click.Choice(["demo", "empty"]), default="demo", show_default=True)
@click.option(
    "--faults",
    "faults_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON or YAML list of faults active from the start (500s, delays, dropped "
    "connections, held reviews, lost events); more can be added over HTTP at /__faults.",
)
def sandbox_command(port: int, seed: str, faults_file: Path | None) -> None:
    """Run the sandbox Gerrit (a look-alike for tests and demos) until Ctrl-C.

    Prints its URL and the bot account's credentials. Fault injection: --faults FILE,
    or POST/GET/DELETE http://127.0.0.1:PORT/__faults (loopback clients only).
    """
    from govbot.sandbox import serve as serve_sandbox

    faults = _read_faults(faults_file) if faults_file is not None else []
    try:
        serve_sandbox(port, seed, faults=faults)
    except OSError as exc:
        raise ConfigError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None


def _read_faults(path: Path) -> list[Any]:
    """The faults in ``path`` (JSON is YAML too); a one-line error naming the file."""
    import yaml

    from govbot.sandbox import FaultError, parse_faults

    try:
        return parse_faults(yaml.safe_load(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the faults file: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0]
        raise ConfigError(f"{path}: not JSON or YAML: {reason}") from None
    except FaultError as exc:
        raise ConfigError(f"{path}: {exc}") from None


COMMANDS = (serve, sandbox_command)
