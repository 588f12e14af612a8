"""The stream-events listener against the sandbox's SSH server: real SSH, real keys, the
real queue on both databases. Faults (drop, stall, garbage) are the sandbox's: real Gerrit
cannot be made to show them on demand."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import paramiko
import pytest
from integration_support import BOT, spec_edit
from sqlalchemy import select

from govbot.db import session_scope
from govbot.db.models import WorkItem
from govbot.sandbox import Sandbox, lifecycle, people, reviews
from govbot.sandbox.ssh import new_key
from govbot.services.intake import change_number, poll_once
from govbot.services.stream import HostKeyRejected, StreamConfig, StreamListener, connect
from govbot.services.worker import run_worker_once

WAIT = 20.0  # seconds a condition may take on a loaded machine before the test fails


def wait_for(condition: Callable[[], object], what: str, timeout: float = WAIT) -> None:
    """Wait until ``condition()`` is true (a failure names ``what``)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def queued(engine) -> dict[int, dict]:
    """Work items by change number: their payloads."""
    with session_scope(engine) as session:
        rows = session.execute(select(WorkItem.key, WorkItem.payload)).all()
    return {change_number(key): dict(payload or {}) for key, payload in rows}


@pytest.fixture
def ssh_files(gerrit: Sandbox, tmp_path: Path) -> tuple[Path, Path]:
    """The bot's key (registered with the sandbox) and a known-hosts file for its sshd."""
    server = gerrit.start_ssh()
    key = new_key()
    people.add_ssh_key(gerrit, BOT[0], key.public)
    key_file, known_hosts = tmp_path / "id_bot", tmp_path / "known_hosts"
    key.write(key_file)
    known_hosts.write_text(server.known_hosts_line + "\n")
    return key_file, known_hosts


@pytest.fixture
def stream_settings(settings, gerrit: Sandbox, ssh_files):
    key_file, known_hosts = ssh_files
    assert gerrit.ssh is not None
    return dataclasses.replace(
        settings,
        gerrit_ssh_host="127.0.0.1",
        gerrit_ssh_port=gerrit.ssh.port,
        gerrit_ssh_user=BOT[0],
        gerrit_ssh_key_file=str(key_file),
        gerrit_ssh_known_hosts=str(known_hosts),
        gerrit_ssh_keepalive=0.3,
        gerrit_event_settle=0.0,
    )


@pytest.fixture
def listen(stream_settings, db_engine, now) -> Iterator[Callable[..., StreamListener]]:
    started: list[StreamListener] = []

    def start(**kwargs) -> StreamListener:
        config = StreamConfig.from_settings(stream_settings)
        assert config is not None
        listener = StreamListener(
            config,
            db_engine,
            stream_settings,
            bot_username=BOT[0],
            clock=lambda: now,
            **kwargs,
        ).start()
        started.append(listener)
        assert listener.wait_connected(WAIT), listener.last_error
        return listener

    yield start
    for listener in started:
        listener.stop()


def test_a_new_patch_set_is_queued_from_the_stream(gerrit, db_engine, listen):
    listener = listen()
    wait_for(lambda: gerrit.ssh is not None and gerrit.ssh.listeners == 1, "the subscription")
    lifecycle.add_patchset(gerrit, 1, spec_edit(gerrit, 1, "streamed"))
    wait_for(lambda: 1 in queued(db_engine), "change 1 queued")
    payload = queued(db_engine)[1]
    assert payload["source"] == "stream-events" and payload["event"] == "patchset-created"
    assert payload["patch_set"] == 2 and payload["project"] == gerrit.changes[1].project
    assert listener.metrics.count("queued", "patchset-created") == 1
    assert listener.metrics.lag_seconds is not None


def test_own_and_uninteresting_events_are_skipped(gerrit, db_engine, listen):
    listener = listen()
    wait_for(lambda: gerrit.ssh is not None and gerrit.ssh.listeners == 1, "the subscription")
    reviews.add_message(gerrit, 1, BOT[0], "govbot's own comment")
    reviews.add_message(gerrit, 2, "alice", "a human comment")
    wait_for(lambda: listener.metrics.count() == 2, "two events")
    assert listener.metrics.count("type", "comment-added") == 2  # not a re-check event
    lifecycle.set_wip(gerrit, 1, True)
    lifecycle.set_wip(gerrit, 1, False, by=BOT[0])
    wait_for(lambda: listener.metrics.count() == 4, "four events")
    assert listener.metrics.count("now-wip") == 1 and listener.metrics.count("own") == 1
    assert queued(db_engine) == {}


def test_malformed_lines_are_counted_and_skipped(gerrit, db_engine, listen):
    listener = listen()
    wait_for(lambda: gerrit.ssh is not None and gerrit.ssh.listeners == 1, "the subscription")
    assert gerrit.ssh is not None
    gerrit.ssh.garbage(b"this is not JSON")
    gerrit.ssh.garbage(b'{"no": "type"}')
    gerrit.ssh.garbage(b'{"type": "patchset-created", "change": {"project": "p"}}')
    lifecycle.add_patchset(gerrit, 2, spec_edit(gerrit, 2, "after garbage"))
    wait_for(lambda: 2 in queued(db_engine), "change 2 queued after the garbage")
    assert listener.metrics.count("malformed") == 3
    assert listener.metrics.reconnects == 0  # bad lines never cost the connection


def test_a_dropped_connection_reconnects_and_the_poll_reconciles(
    gerrit, client, db_engine, stream_settings, policy, now, listen
):
    """The connection is cut and a patch set uploaded while it is down: the listener
    reconnects, the reconciliation poll queues the change, and it is reviewed once."""
    polls: list[object] = []
    project = gerrit.changes[3].project
    watch = dataclasses.replace(stream_settings, gerrit_projects=(project,))  # a short review

    def reconcile() -> None:
        polls.append(poll_once(client, db_engine, watch, policy, now))

    listener = listen(on_reconnect=reconcile)
    assert polls == []  # the first connect needs no reconciliation: serve polls at start
    assert gerrit.ssh is not None
    gerrit.ssh.drop()
    lifecycle.add_patchset(gerrit, 3, spec_edit(gerrit, 3, "while down"))
    wait_for(lambda: listener.metrics.reconnects == 1 and polls, "reconnect and poll")
    assert 3 in queued(db_engine) and queued(db_engine)[3]["source"] == "poll"
    run_worker_once(db_engine, client, policy, watch, lambda: now, "w1", 50)
    before = len([m for m in gerrit.changes[3].messages if m.tag and "govbot" in m.tag])
    # The same patch set announced again (a redelivery) is not reviewed twice.
    run_worker_once(db_engine, client, policy, watch, lambda: now, "w1", 50)
    after = len([m for m in gerrit.changes[3].messages if m.tag and "govbot" in m.tag])
    assert before >= 1 and after == before


def test_a_stalled_connection_is_detected_and_replaced(gerrit, db_engine, listen):
    listener = listen()
    assert gerrit.ssh is not None
    gerrit.ssh.stall()
    wait_for(lambda: listener.metrics.reconnects >= 1 or "stalled" in listener.last_error, "stall")
    assert "stalled" in listener.last_error
    gerrit.ssh.stall(False)
    wait_for(lambda: listener.metrics.connected, "reconnected")
    wait_for(lambda: gerrit.ssh is not None and gerrit.ssh.listeners >= 1, "the subscription")
    lifecycle.add_patchset(gerrit, 6, spec_edit(gerrit, 6, "after the stall"))
    wait_for(lambda: 6 in queued(db_engine), "change 6 queued after the stall")


def test_a_wrong_host_key_is_refused_naming_the_host(gerrit, stream_settings, ssh_files):
    _, known_hosts = ssh_files
    assert gerrit.ssh is not None
    known_hosts.write_text(f"[127.0.0.1]:{gerrit.ssh.port} {new_key().public}\n")
    config = StreamConfig.from_settings(stream_settings)
    assert config is not None
    with pytest.raises(HostKeyRejected, match=rf"\[127\.0\.0\.1\]:{gerrit.ssh.port}.*refusing"):
        connect(config)
    known_hosts.write_text("")  # unknown host: refused too, never added
    with pytest.raises(HostKeyRejected, match="not in"):
        connect(config)
    assert known_hosts.read_text() == ""


def test_a_key_the_server_does_not_know_is_refused(gerrit, stream_settings, tmp_path):
    stranger = tmp_path / "stranger"
    new_key().write(stranger)
    config = StreamConfig.from_settings(
        dataclasses.replace(stream_settings, gerrit_ssh_key_file=str(stranger))
    )
    assert config is not None
    with pytest.raises(paramiko.AuthenticationException):
        connect(config)


def test_missing_ssh_settings_are_one_line_errors(stream_settings, tmp_path):
    from govbot.errors import ConfigError

    with pytest.raises(ConfigError, match="GOVBOT_GERRIT_SSH_KNOWN_HOSTS"):
        StreamConfig.from_settings(dataclasses.replace(stream_settings, gerrit_ssh_known_hosts=""))
    with pytest.raises(ConfigError, match="no such file"):
        StreamConfig.from_settings(
            dataclasses.replace(stream_settings, gerrit_ssh_key_file=str(tmp_path / "nope"))
        )
    assert (
        StreamConfig.from_settings(dataclasses.replace(stream_settings, gerrit_ssh_host="")) is None
    )


def test_the_sandbox_refuses_other_commands(gerrit, stream_settings):
    config = StreamConfig.from_settings(stream_settings)
    assert config is not None
    client = connect(config)
    try:
        _, stdout, stderr = client.exec_command("gerrit ls-projects", timeout=WAIT)
        assert stdout.channel.recv_exit_status() == 1
        assert "ls-projects: not found" in stderr.read().decode()
    finally:
        client.close()


def test_backoff_grows_with_jitter_and_is_capped():
    import random

    from govbot.services.stream import BACKOFF_MAX, backoff_delay

    rng = random.Random(7)
    delays = [backoff_delay(n, rng) for n in range(1, 12)]
    assert all(0 < d <= BACKOFF_MAX for d in delays)
    assert delays[0] <= 1.0 and delays[-1] >= BACKOFF_MAX / 2
    assert len(set(delays)) == len(delays)  # jittered
    assert dt.timedelta(seconds=sum(delays)) > dt.timedelta(seconds=60)
