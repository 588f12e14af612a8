"""Deployment settings: ``govbot.toml`` (or ``--config FILE``) with ``GOVBOT_*`` overrides.

Settings say *where* govbot runs (Gerrit, database, SMTP, web); what it enforces is
policy (:mod:`govbot.policy`). They are read once, at start-up, into a frozen
dataclass that is passed explicitly: no module-level configuration.

The names are part of the contract (README.md, Settings). Each setting ``NAME`` can be set
as ``GOVBOT_NAME`` in the environment, as ``name = ...`` at the top of the TOML file,
or as ``key = ...`` in a ``[section]`` (``[gerrit] url`` is ``gerrit_url``). The
environment wins over the file. Secrets may also come from a file named by
``GOVBOT_NAME_FILE`` (container secrets), and never appear in ``repr`` or logs.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govbot.errors import ConfigError
from govbot.paths import packaged_policy_dir
from govbot.redact import redact_url

ENV_PREFIX = "GOVBOT_"
SECRETS = frozenset({"gerrit_password", "webhook_secret", "admin_password", "secret_key"})
# Settings that hold a number of seconds (``60``, ``"90s"``, ``"5m"``, ``"1h"``).
DURATIONS = frozenset(
    {
        "poll_interval",
        "worker_interval",
        "gerrit_timeout",
        "gerrit_review_reconcile",
        "escalate_interval",
        "index_interval",
        "gerrit_ssh_keepalive",
        "gerrit_event_settle",
    }
)
_DURATION_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}
BOOLEANS = frozenset({"gerrit_file_filter"})
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Settings:
    """Everything a deployment configures; secrets are left out of ``repr``."""

    gerrit_url: str = ""
    gerrit_username: str = ""
    gerrit_password: str = field(default="", repr=False)
    # What to watch: "project" (every branch) or "project:branch"; GOVBOT_GERRIT_PROJECTS
    # is comma-separated.
    gerrit_projects: tuple[str, ...] = ()
    gerrit_timeout: float = 30.0  # seconds, for every Gerrit call
    # Seconds a review POST with an unknown outcome (a timeout, a 5xx after sending)
    # keeps its reservation before govbot looks for it on Gerrit and posts only if it is
    # not there (unset: four times gerrit_timeout; Gerrit can apply a POST after a timeout).
    gerrit_review_reconcile: float = 0.0
    # The netrc file holding the bot's HTTP password when GOVBOT_GERRIT_PASSWORD is unset
    # (default: $NETRC, else ~/.netrc).
    gerrit_netrc_file: str = ""
    # Let Gerrit select the changes by path (``file:"^regex"``); off for hosts that
    # disable regex search (each poll then lists every open change of the project).
    gerrit_file_filter: bool = True
    # `gerrit stream-events` over SSH (Gerrit's cmd-stream-events.html): the host turns the
    # listener on. The host key must be in the known-hosts file (never accepted blindly);
    # the user defaults to gerrit_username.
    gerrit_ssh_host: str = ""
    gerrit_ssh_port: int = 29418
    gerrit_ssh_user: str = ""
    gerrit_ssh_key_file: str = ""
    gerrit_ssh_known_hosts: str = ""
    gerrit_ssh_keepalive: float = 15.0  # seconds between SSH keepalives
    # Seconds an event's work item waits before the worker reads the change, so that
    # Gerrit's index and replicas have caught up with the event.
    gerrit_event_settle: float = 0.5
    poll_interval: float = 60.0  # seconds between reconciliation polls
    worker_interval: float = 5.0  # seconds between queue checks (the webhook wakes it sooner)
    worker_id: str = ""  # default: host:pid:nonce, unique per process
    database_url: str = field(default="sqlite:///govbot.db", repr=False)
    policy_dir: Path = field(default_factory=packaged_policy_dir)
    smtp_host: str = ""
    smtp_port: int = 25
    digest_to: tuple[str, ...] = ()
    digest_from: str = "govbot@localhost"  # the digest's sender address
    # When the TC digest is built and mailed: a crontab line in UTC (minute hour day
    # month day-of-week); default Mondays 08:00. A slot missed while govbot was down
    # runs once at start-up.
    digest_schedule: str = "0 8 * * mon"
    escalate_interval: float = 3600.0  # seconds between escalation passes
    # Seconds between runs of the index job (merged changes and branch heads -> the
    # dashboard's API health history).
    index_interval: float = 600.0
    # How far back `govbot serve` indexes each watched branch's history in the background
    # (the newest N commits that touched a spec, per branch; 0: no backfill). It reads the
    # git mirror only (one fetch per project), so Gerrit sees no extra REST load.
    backfill_depth: int = 50
    # A git mirror of the watched projects and their specs repositories (design specs
    # read with their templates, blueprint references resolved); empty: REST only.
    git_mirror_dir: str = ""
    # Where the mirror fetches a project from; {project} is its name (default:
    # {gerrit_url}/{project}, Gerrit's anonymous HTTP; use a credential helper for /a/).
    git_url: str = ""
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    # Worker threads of the web server (govbot.web.server: more only contend for the GIL).
    web_threads: int = 4
    # Public base URL of the dashboard; rule documentation links are {web_url}/rules/CODE.
    web_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    # The dashboard's admin actions: a werkzeug password hash (``scrypt:...``) or the
    # password itself; empty disables them.
    admin_password: str = field(default="", repr=False)
    # Signs the dashboard's session cookie; empty: a random key per process (admin
    # logins then end at a restart, and differ between processes).
    secret_key: str = field(default="", repr=False)
    config_file: Path | None = None

    def __repr__(self) -> str:
        shown = [
            f"{f.name}={_shown(f.name, getattr(self, f.name))!r}"
            for f in dataclasses.fields(self)
            if f.repr
        ]
        shown.insert(3, f"database_url={redact_url(self.database_url)!r}")
        for name in sorted(SECRETS):
            shown.append(f"{name}={'***' if getattr(self, name) else ''!r}")
        return f"Settings({', '.join(shown)})"

    __str__ = __repr__

    @property
    def docs_base(self) -> str:
        """Base URL of the rule documentation (``{docs_base}/rules/DEP001``)."""
        if self.web_url:
            return self.web_url.rstrip("/")
        host = "127.0.0.1" if self.web_host in ("0.0.0.0", "::", "") else self.web_host
        return f"http://{host}:{self.web_port}"

    @property
    def watched(self) -> tuple[tuple[str, str | None], ...]:
        """``gerrit_projects`` as (project, branch) pairs; branch None means every branch."""
        return tuple(parse_watch(entry) for entry in self.gerrit_projects)

    @classmethod
    def from_env(
        cls,
        config_path: str | Path | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Settings:
        """Build settings from ``config_path`` (default ``./govbot.toml`` if present) and the environment."""
        env = os.environ if environ is None else environ
        here = Path.cwd() if cwd is None else cwd
        values: dict[str, Any] = {}
        config_file: Path | None = None
        if config_path is not None:
            config_file = Path(config_path)
            if not config_file.is_file():
                raise ConfigError(f"{config_path}: no such settings file")
        elif (here / "govbot.toml").is_file():
            config_file = here / "govbot.toml"
        if config_file is not None:
            values.update(_read_toml(config_file))
        values.update(_read_env(env))
        if "policy_dir" not in values:
            local = here / "policies"
            values["policy_dir"] = local if local.is_dir() else packaged_policy_dir()
        source = str(config_file) if config_file is not None else "environment"
        return cls(**_convert(values, source), config_file=config_file)


_FIELDS = {f.name: f for f in dataclasses.fields(Settings) if f.name != "config_file"}


def from_env(config_path: str | Path | None = None, **kwargs: Any) -> Settings:
    """Shorthand for :meth:`Settings.from_env`."""
    return Settings.from_env(config_path, **kwargs)


def _shown(name: str, value: Any) -> Any:
    """A setting as ``repr`` shows it: URLs (``gerrit_url``, ``git_url``) redacted."""
    return redact_url(value) if name.endswith("_url") and isinstance(value, str) else value


def parse_watch(entry: str) -> tuple[str, str | None]:
    """``"openstack/nova:stable/2026.1"`` -> (project, branch); no ``:`` -> (project, None).

    git forbids ``:`` in branch names, so the last ``:`` separates the two.
    """
    project, sep, branch = entry.strip().rpartition(":")
    if not sep:
        return entry.strip(), None
    return project.strip(), branch.strip().removeprefix("refs/heads/") or None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: malformed TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    values: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            for sub, sub_value in value.items():
                name = f"{key}_{sub}"
                if name not in _FIELDS:
                    raise ConfigError(f"{path}: unknown setting '{sub}' in [{key}]")
                values[name] = sub_value
        elif key in _FIELDS:
            values[key] = value
        else:
            raise ConfigError(f"{path}: unknown setting '{key}'")
    return values


def _read_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in _FIELDS:
        key = ENV_PREFIX + name.upper()
        if key in env:
            values[name] = env[key]
        elif name in SECRETS and env.get(key + "_FILE"):
            secret_file = Path(env[key + "_FILE"])
            try:
                values[name] = secret_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(
                    f"{secret_file}: cannot read {key}_FILE: {exc.strerror or exc}"
                ) from None
    return values


def _convert(values: Mapping[str, Any], source: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name in ("smtp_port", "web_port", "gerrit_ssh_port"):
            try:
                port = int(value)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"{source}: {name} must be a port number, not {value!r}"
                ) from None
            if not 0 < port < 65536:
                raise ConfigError(f"{source}: {name} must be a port number, not {port}")
            out[name] = port
        elif name == "backfill_depth":
            out[name] = _count(name, value, source)
        elif name == "web_threads":
            out[name] = _count(name, value, source)
            if out[name] < 1:
                raise ConfigError(f"{source}: web_threads must be at least 1, not {value!r}")
        elif name in DURATIONS:
            out[name] = _seconds(name, value, source)
        elif name in BOOLEANS:
            out[name] = _boolean(name, value, source)
        elif name == "gerrit_projects":
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list | tuple) or not all(isinstance(x, str) for x in items):
                raise ConfigError(f"{source}: gerrit_projects must be a list of project[:branch]")
            entries = tuple(x.strip() for x in items if x.strip())
            for entry in entries:
                project, branch = parse_watch(entry)
                if not project or entry.endswith(":") or branch == "":
                    raise ConfigError(
                        f"{source}: gerrit_projects entry {entry!r} is not project or project:branch"
                    )
            out[name] = entries
        elif name == "digest_to":
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list | tuple):
                raise ConfigError(f"{source}: digest_to must be a list of addresses")
            out[name] = tuple(str(x).strip() for x in items if str(x).strip())
        elif name == "policy_dir":
            out[name] = Path(str(value))
        elif name == "digest_schedule":
            out[name] = _cron(str(value), source)
        elif not isinstance(value, str):
            raise ConfigError(f"{source}: {name} must be a string")
        else:
            out[name] = value
    return out


def cron_trigger(expression: str) -> Any:
    """The APScheduler trigger of a crontab line (UTC); ValueError when it is not one."""
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger.from_crontab(expression, timezone="UTC")


def _cron(value: str, source: str) -> str:
    text = " ".join(value.split())
    try:
        cron_trigger(text)
    except ValueError as exc:
        raise ConfigError(
            f"{source}: digest_schedule must be a crontab line like '0 8 * * mon' "
            f"(minute hour day month day-of-week, UTC), not {value!r}: {exc}"
        ) from None
    return text


def _seconds(name: str, value: Any, source: str) -> float:
    """A positive duration in seconds from ``90``, ``1.5``, ``"90s"``, ``"5m"`` or ``"1h"``."""
    if isinstance(value, bool):
        raise ConfigError(f"{source}: {name} must be a duration in seconds, not {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", str(value).lower())
        if match is None:
            raise ConfigError(
                f"{source}: {name} must be a duration like 60, 90s, 5m or 1h, not {value!r}"
            )
        seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if seconds <= 0:
        raise ConfigError(f"{source}: {name} must be more than 0 seconds, not {value!r}")
    return seconds


def _count(name: str, value: Any, source: str) -> int:
    """A whole number, 0 or more (``"50"``, ``50``)."""
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit():
        raise ConfigError(f"{source}: {name} must be a whole number (0 or more), not {value!r}")
    return int(text)


def _boolean(name: str, value: Any, source: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ConfigError(f"{source}: {name} must be true or false, not {value!r}")
