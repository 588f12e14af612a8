"""Deployment settings: govbot.toml, GOVBOT_* overrides, policy_dir resolution, no leaked secrets."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from govbot.errors import ConfigError
from govbot.policy import packaged_policy_dir
from govbot.settings import Settings, from_env, redact_url

PASSWORD = "s3cr3t-Pa55"
WEBHOOK = "hook-shared-secret"


def test_defaults(tmp_path):
    """With no file and no environment, the documented defaults apply."""
    s = Settings.from_env(environ={}, cwd=tmp_path)
    assert s.database_url == "sqlite:///govbot.db"
    assert s.web_port == 8080
    assert s.policy_dir == packaged_policy_dir()
    assert s.docs_base == "http://127.0.0.1:8080"
    assert s.config_file is None


def test_toml_sections_and_flat_keys(write_file, tmp_path):
    """`[gerrit] url` and `gerrit_url` name the same setting."""
    config = write_file(
        "govbot.toml",
        """
        database_url = "postgresql://govbot:dbpass@db/govbot"
        [gerrit]
        url = "https://review.example.org"
        username = "govbot"
        [web]
        port = 9090
        url = "https://govbot.example.org/"
        [digest]
        to = ["tc@example.org", "api-sig@example.org"]
        """,
    )
    s = Settings.from_env(config, environ={}, cwd=tmp_path)
    assert s.gerrit_url == "https://review.example.org"
    assert s.gerrit_username == "govbot"
    assert s.web_port == 9090
    assert s.digest_to == ("tc@example.org", "api-sig@example.org")
    assert s.docs_base == "https://govbot.example.org"
    assert s.config_file == config


def test_env_overrides_the_file(write_file, tmp_path):
    """GOVBOT_* environment variables win over govbot.toml (found in the working directory)."""
    write_file("govbot.toml", '[gerrit]\nurl = "https://from-file"\n[web]\nport = 9090\n')
    env = {
        "GOVBOT_GERRIT_URL": "https://from-env",
        "GOVBOT_WEB_PORT": "8181",
        "GOVBOT_DATABASE_URL": "sqlite:///other.db",
        "GOVBOT_SMTP_HOST": "mail.example.org",
        "GOVBOT_SMTP_PORT": "2525",
        "GOVBOT_DIGEST_TO": "a@example.org, b@example.org",
        "GOVBOT_WEB_HOST": "0.0.0.0",
        "GOVBOT_WEB_THREADS": "2",
    }
    s = Settings.from_env(environ=env, cwd=tmp_path)
    assert s.gerrit_url == "https://from-env"
    assert s.web_port == 8181
    assert s.web_threads == 2
    assert s.database_url == "sqlite:///other.db"
    assert (s.smtp_host, s.smtp_port) == ("mail.example.org", 2525)
    assert s.digest_to == ("a@example.org", "b@example.org")
    assert s.docs_base == "http://127.0.0.1:8181"  # a bind-all host is not a URL to link to


def test_policy_dir_resolution(tmp_path):
    """GOVBOT_POLICY_DIR, else ./policies if present, else the packaged default."""
    assert Settings.from_env(environ={}, cwd=tmp_path).policy_dir == packaged_policy_dir()
    (tmp_path / "policies").mkdir()
    assert Settings.from_env(environ={}, cwd=tmp_path).policy_dir == tmp_path / "policies"
    env = {"GOVBOT_POLICY_DIR": "/srv/tc-policies"}
    assert Settings.from_env(environ=env, cwd=tmp_path).policy_dir == Path("/srv/tc-policies")


def test_secret_from_file(tmp_path):
    """A secret may come from GOVBOT_<NAME>_FILE (container secrets)."""
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    s = Settings.from_env(environ={"GOVBOT_GERRIT_PASSWORD_FILE": str(secret)}, cwd=tmp_path)
    assert s.gerrit_password == PASSWORD


def test_secrets_never_in_repr_or_logs(tmp_path, caplog):
    """The password, the webhook secret and the database password appear in no repr or log."""
    env = {
        "GOVBOT_GERRIT_PASSWORD": PASSWORD,
        "GOVBOT_WEBHOOK_SECRET": WEBHOOK,
        "GOVBOT_DATABASE_URL": f"postgresql://govbot:{PASSWORD}@db:5432/govbot",
        "GOVBOT_GERRIT_USERNAME": "govbot",
    }
    s = from_env(environ=env, cwd=tmp_path)
    assert s.gerrit_password == PASSWORD and s.webhook_secret == WEBHOOK
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("govbot.test").info("settings: %s / %r", s, s)
    for text in (repr(s), str(s), f"{s}", caplog.text):
        assert PASSWORD not in text
        assert WEBHOOK not in text
    assert "gerrit_username='govbot'" in repr(s)
    assert "postgresql://govbot:***@db:5432/govbot" in repr(s)
    assert "gerrit_password='***'" in repr(s)


def test_redact_url():
    """Only the password of a URL is hidden."""
    assert redact_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert redact_url("sqlite:///govbot.db") == "sqlite:///govbot.db"
    assert redact_url("https://host/path") == "https://host/path"


@pytest.mark.parametrize(
    ("toml", "env", "message"),
    [
        ("[gerrit]\nurll = 'x'\n", {}, "unknown setting 'urll' in [gerrit]"),
        ("colour = 'blue'\n", {}, "unknown setting 'colour'"),
        ("[web\n", {}, "malformed TOML"),
        ("", {"GOVBOT_WEB_PORT": "eighty"}, "web_port must be a port number"),
        ("", {"GOVBOT_SMTP_PORT": "70000"}, "smtp_port must be a port number"),
        ("", {"GOVBOT_BACKFILL_DEPTH": "-1"}, "backfill_depth must be a whole number"),
        ("[backfill]\ndepth = 'lots'\n", {}, "backfill_depth must be a whole number"),
        ("", {"GOVBOT_WEB_THREADS": "0"}, "web_threads must be at least 1"),
        ("[web]\nthreads = 'many'\n", {}, "web_threads must be a whole number"),
    ],
)
def test_bad_settings_are_one_line_config_errors(write_file, tmp_path, toml, env, message):
    """Bad settings are ConfigErrors naming the file (or the environment) and the key."""
    config = write_file("govbot.toml", toml)
    with pytest.raises(ConfigError) as err:
        Settings.from_env(config, environ=env, cwd=tmp_path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_config_file_is_an_error(tmp_path):
    """An explicit --config that does not exist is an error, not a silent default."""
    with pytest.raises(ConfigError, match="no such settings file"):
        Settings.from_env(tmp_path / "missing.toml", environ={}, cwd=tmp_path)


def test_settings_are_frozen(tmp_path):
    """Settings are read once and passed along; nobody changes them on the way."""
    s = Settings.from_env(environ={}, cwd=tmp_path)
    with pytest.raises(AttributeError):
        s.web_port = 1  # type: ignore[misc]


def test_escalation_digest_and_mirror_settings(write_file, tmp_path):
    """The schedules (escalate interval, digest crontab), the digest's sender, and the git
    mirror, from the file and the environment."""
    defaults = Settings.from_env(environ={}, cwd=tmp_path)
    assert defaults.escalate_interval == 3600.0
    assert defaults.digest_schedule == "0 8 * * mon"  # weekly, Monday 08:00 UTC
    assert defaults.digest_from == "govbot@localhost"
    assert (defaults.git_mirror_dir, defaults.git_url) == ("", "")
    config = write_file(
        "govbot.toml",
        """
        [digest]
        schedule = "30 7 * * fri"
        from = "tc-bot@example.org"
        [git]
        mirror_dir = "/var/cache/govbot/git"
        """,
    )
    s = Settings.from_env(
        config,
        environ={"GOVBOT_ESCALATE_INTERVAL": "30m", "GOVBOT_GIT_URL": "https://h/a/{project}"},
        cwd=tmp_path,
    )
    assert s.escalate_interval == 1800.0
    assert (s.digest_schedule, s.digest_from) == ("30 7 * * fri", "tc-bot@example.org")
    assert (s.git_mirror_dir, s.git_url) == ("/var/cache/govbot/git", "https://h/a/{project}")


@pytest.mark.parametrize(
    "env, message",
    [
        ({"GOVBOT_DIGEST_SCHEDULE": "every monday"}, "digest_schedule must be a crontab line"),
        ({"GOVBOT_DIGEST_SCHEDULE": "0 25 * * mon"}, "digest_schedule must be a crontab line"),
        ({"GOVBOT_ESCALATE_INTERVAL": "0"}, "escalate_interval must be more than 0 seconds"),
    ],
)
def test_bad_schedules_are_config_errors(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env(environ=env, cwd=tmp_path)


def test_escalate_slots_are_the_same_in_every_process():
    """The escalate job's slot is the epoch-aligned interval start: two processes firing a
    moment apart (or late) agree on it, so the lease lets one of them run it."""
    import datetime as dt

    from govbot.jobs import Jobs

    settings = Settings(escalate_interval=3600.0)
    jobs = Jobs.__new__(Jobs)
    jobs.settings = settings
    at = dt.datetime(2026, 3, 2, 10, 0, 0, 300_000, tzinfo=dt.UTC)
    assert jobs.escalate_slot(at) == dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    assert jobs.escalate_slot(at + dt.timedelta(minutes=59)) == jobs.escalate_slot(at)
    assert jobs.escalate_slot(at + dt.timedelta(minutes=60)) > jobs.escalate_slot(at)


def test_dashboard_settings(tmp_path, caplog):
    """The admin password and the session key come from GOVBOT_ADMIN_PASSWORD /
    GOVBOT_SECRET_KEY (or their _FILE), are masked like every secret; the index job's
    interval is a duration (default ten minutes)."""
    defaults = Settings.from_env(environ={}, cwd=tmp_path)
    assert (defaults.admin_password, defaults.secret_key) == ("", "")
    assert defaults.index_interval == 600.0
    key_file = tmp_path / "key"
    key_file.write_text("session-signing-key\n")
    env = {
        "GOVBOT_ADMIN_PASSWORD": PASSWORD,
        "GOVBOT_SECRET_KEY_FILE": str(key_file),
        "GOVBOT_INDEX_INTERVAL": "15m",
    }
    s = Settings.from_env(environ=env, cwd=tmp_path)
    assert s.admin_password == PASSWORD and s.secret_key == "session-signing-key"
    assert s.index_interval == 900.0
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("govbot.test").info("settings: %s", s)
    for text in (repr(s), caplog.text):
        assert PASSWORD not in text and "session-signing-key" not in text
    assert "admin_password='***'" in repr(s) and "secret_key='***'" in repr(s)
    with pytest.raises(ConfigError, match="index_interval must be a duration"):
        Settings.from_env(environ={"GOVBOT_INDEX_INTERVAL": "often"}, cwd=tmp_path)


def test_backfill_depth(write_file, tmp_path):
    """Default 50; from the file's [backfill] section or GOVBOT_BACKFILL_DEPTH; 0 is off."""
    assert Settings.from_env(environ={}, cwd=tmp_path).backfill_depth == 50
    config = write_file("govbot.toml", "[backfill]\ndepth = 200\n")
    assert Settings.from_env(config, environ={}, cwd=tmp_path).backfill_depth == 200
    env = {"GOVBOT_BACKFILL_DEPTH": "0"}
    assert Settings.from_env(config, environ=env, cwd=tmp_path).backfill_depth == 0
