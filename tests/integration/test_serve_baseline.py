"""A new deployment shows its APIs at once (issue 19), over real HTTP: the demo sandbox,
``govbot serve`` as a subprocess on a fresh database (SQLite and PostgreSQL), its
dashboard's JSON API and /metrics read while it runs, and ``govbot doctor`` naming what
is wrong one line each."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from gerrit_support import SPEC_TEXT
from integration_support import GOVBOT, cli_env, free_port

from govbot.sandbox import Sandbox, lifecycle, running_sandbox
from govbot.sandbox.seed import BLOCK_STORAGE, COMPUTE

NEW_PROJECT = "openstack/pets-api"
# How long a step may take before the test gives up (a bound for a stuck service, not a
# timing assertion: every wait polls and returns as soon as the state is there).
PATIENCE = 60.0


@pytest.fixture
def live() -> Iterator[Sandbox]:
    """The demo sandbox on the wall clock (the service's own clock is real time)."""
    with running_sandbox(seed="demo") as sandbox:
        yield sandbox


def _poll(what: str, found: Callable[[], Any], log: Path | None = None) -> Any:
    deadline = time.monotonic() + PATIENCE
    while True:
        value = found()
        if value:
            return value
        if time.monotonic() > deadline:
            tail = log.read_text()[-20000:] if log is not None else ""
            raise AssertionError(f"{what}: not seen within {PATIENCE:.0f}s\n{tail}")
        time.sleep(0.2)


@contextlib.contextmanager
def serving(env: dict[str, str], tmp: Path, name: str) -> Iterator[tuple[str, Path]]:
    """``govbot serve`` until the block ends, then SIGINT: it must stop cleanly."""
    log = tmp / f"serve-{name}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [GOVBOT, "serve"], env=env, cwd=tmp, stdout=out, stderr=subprocess.STDOUT
        )
    try:

        def url() -> str | None:
            assert process.poll() is None, log.read_text()
            found = re.findall(r"serving on (http://\S+)", log.read_text())
            return found[0].rstrip("/") + "/" if found else None

        yield _poll("govbot serve listening", url, log), log
        process.send_signal(signal.SIGINT)
        assert process.wait(120) == 0, log.read_text()
        assert "Traceback" not in log.read_text(), log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(30)


def _apis(url: str) -> dict[str, dict[str, Any]]:
    body = requests.get(url + "api/v1/apis", timeout=30).json()
    return {item["project"]: item for item in body["apis"]}


def _metric(url: str, name: str, project: str) -> float | None:
    text = requests.get(url + "metrics", timeout=30).text
    pattern = rf'^{name}{{[^}}]*project="{re.escape(project)}"[^}}]*}} ([0-9.e+]+)$'
    values = re.findall(pattern, text, flags=re.M)
    return float(values[0]) if values else None


def test_serve_lists_every_watched_api_at_once_and_backfills(
    live: Sandbox, db_url: str, tmp_path: Path
) -> None:
    env = cli_env(
        live,
        tmp_path,
        GOVBOT_DATABASE_URL=db_url,
        GOVBOT_GERRIT_PROJECTS=f"{COMPUTE},{BLOCK_STORAGE}",
        GOVBOT_WEB_PORT=str(free_port()),
        GOVBOT_INDEX_INTERVAL="86400",
        GOVBOT_ESCALATE_INTERVAL="86400",
        GOVBOT_POLL_INTERVAL="3600",
        GOVBOT_WEBHOOK_SECRET="hook-secret",
    )
    with serving(env, tmp_path, "first") as (url, log):
        apis = _poll("both APIs listed", lambda: (a := _apis(url)) and len(a) == 2 and a, log)
        for project in (COMPUTE, BLOCK_STORAGE):
            counts = apis[project]["operation_counts"]
            assert sum(counts.values()) > 0, apis[project]
        # The history behind the heads: planned, then done, on /metrics.
        for project in (COMPUTE, BLOCK_STORAGE):
            _poll(
                f"backfill of {project} finished",
                lambda p=project: _metric(url, "govbot_backfill_finished", p) == 1.0,
                log,
            )
            planned = _metric(url, "govbot_backfill_planned_commits", project)
            done = _metric(url, "govbot_backfill_done_commits", project)
            assert planned is not None and planned >= 1 and done == planned
        health = _poll(
            "start-up checks on /healthz",
            lambda: (h := requests.get(url + "healthz", timeout=30).json())["doctor"]["done"] and h,
            log,
        )
        assert health["doctor"] == {"done": True, "ok": True, "problems": []}, health
        assert health["index"]["backfill"]["finished"] == 2
        home = requests.get(url, timeout=30).text
        assert "No API indexed yet" not in home

    # A project added to the settings, with no change merged: listed after a restart.
    lifecycle.add_project(live, NEW_PROJECT, {"api-specs/pets.yaml": SPEC_TEXT})
    env["GOVBOT_GERRIT_PROJECTS"] += f",{NEW_PROJECT}"
    env["GOVBOT_WEB_PORT"] = str(free_port())
    with serving(env, tmp_path, "second") as (url, log):
        apis = _poll("the new project's API", lambda: NEW_PROJECT in (a := _apis(url)) and a, log)
        assert set(apis) == {COMPUTE, BLOCK_STORAGE, NEW_PROJECT}
        assert apis[NEW_PROJECT]["operation_counts"]["external"] == 1, apis[NEW_PROJECT]


def test_the_dashboard_says_what_it_waits_for_without_a_mirror(
    live: Sandbox, tmp_path: Path
) -> None:
    env = cli_env(
        live,
        tmp_path,
        GOVBOT_GERRIT_PROJECTS=COMPUTE,
        GOVBOT_WEB_PORT=str(free_port()),
        GOVBOT_INDEX_INTERVAL="86400",
        GOVBOT_ESCALATE_INTERVAL="86400",
        GOVBOT_POLL_INTERVAL="3600",
    )
    del env["GOVBOT_GIT_MIRROR_DIR"]
    with serving(env, tmp_path, "no-mirror") as (url, log):
        health = _poll(
            "start-up checks on /healthz",
            lambda: (h := requests.get(url + "healthz", timeout=30).json())["doctor"]["done"] and h,
            log,
        )
        problems = health["doctor"]["problems"]
        assert any("GOVBOT_GIT_MIRROR_DIR" in p for p in problems), problems
        assert any("GOVBOT_WEBHOOK_SECRET" in p for p in problems), problems
        home = requests.get(url, timeout=30).text
        assert "Waiting for the first indexed API" in home
        assert "No git mirror is configured" in home
        assert "govbot doctor" in home
    assert "doctor: no git mirror" in log.read_text()


def _doctor(env: dict[str, str], tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOVBOT, "doctor"], env=env, cwd=tmp, capture_output=True, text=True, timeout=300
    )


def test_doctor_names_a_misspelt_project_and_a_wrong_password(
    live: Sandbox, db_url: str, tmp_path: Path
) -> None:
    good = cli_env(
        live,
        tmp_path,
        GOVBOT_DATABASE_URL=db_url,
        GOVBOT_GERRIT_PROJECTS=f"{COMPUTE},{BLOCK_STORAGE}",
        GOVBOT_WEBHOOK_SECRET="hook-secret",
    )
    # A fresh database: not migrated yet, said with its fix.
    fresh = _doctor(good, tmp_path)
    assert fresh.returncode == 1
    assert re.search(r"^PROBLEM database .* run `govbot db upgrade`", fresh.stdout, re.M)
    assert subprocess.run([GOVBOT, "db", "upgrade"], env=good, cwd=tmp_path).returncode == 0

    ok = _doctor(good, tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "PROBLEM" not in ok.stdout
    assert f"{COMPUTE} master: 1 spec file(s) match" in ok.stdout

    misspelt = _doctor(
        {**good, "GOVBOT_GERRIT_PROJECTS": f"{COMPUTE},openstack/block-storag-api"}, tmp_path
    )
    assert misspelt.returncode == 1
    problems = [line for line in misspelt.stdout.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 1, misspelt.stdout
    assert "'openstack/block-storag-api'" in problems[0]
    assert "GOVBOT_GERRIT_PROJECTS" in problems[0]

    wrong = _doctor({**good, "GOVBOT_GERRIT_PASSWORD": "not-the-password"}, tmp_path)
    assert wrong.returncode == 1
    problems = [line for line in wrong.stdout.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 1, wrong.stdout
    assert "refused the credentials" in problems[0] and "GOVBOT_GERRIT_PASSWORD" in problems[0]
    assert "not-the-password" not in wrong.stdout + wrong.stderr


def test_doctor_says_when_the_globs_match_nothing(live: Sandbox, tmp_path: Path) -> None:
    lifecycle.add_project(live, "openstack/docs-only", {"README.rst": "Docs.\n"})
    env = cli_env(
        live,
        tmp_path,
        GOVBOT_GERRIT_PROJECTS="openstack/docs-only",
        GOVBOT_GERRIT_SSH_HOST="",
        GOVBOT_WEBHOOK_SECRET="hook-secret",
    )
    subprocess.run([GOVBOT, "db", "upgrade"], env=env, cwd=tmp_path, check=True)
    result = _doctor(env, tmp_path)
    assert result.returncode == 1
    problems = [x for x in result.stdout.splitlines() if x.startswith("PROBLEM")]
    wanted = "openstack/docs-only master: no file matches the policy's spec globs"
    assert sum(wanted in line for line in problems) == 1, result.stdout


def test_doctor_without_gerrit_is_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    env.update(
        GOVBOT_GERRIT_URL=f"http://127.0.0.1:{free_port()}/",
        GOVBOT_GERRIT_PROJECTS=COMPUTE,
        GOVBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'govbot.db'}",
        GOVBOT_WEBHOOK_SECRET="s",
    )
    result = _doctor(env, tmp_path)
    assert result.returncode == 1
    assert re.search(
        r"^PROBLEM Gerrit at \S+ is not reachable .*GOVBOT_GERRIT_URL$", result.stdout, re.M
    ), result.stdout
    assert "Traceback" not in result.stdout + result.stderr
