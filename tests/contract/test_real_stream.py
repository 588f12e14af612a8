"""govbot's stream-events listener on real Gerrit's SSH daemon: the bot's key, the host
keys of the site pinned in a known-hosts file. Faults on demand (drop, stall, garbage)
are the sandbox's (tests/integration/test_stream.py); here: the real server's events,
connection and host-key check."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from contract_support import BOT, RealWorld, new_projects, wait_for
from gerrit_support import PROJECT, SPEC, SPEC_TEXT
from sqlalchemy import Engine, select

from govbot.db import make_engine, upgrade
from govbot.db.models import WorkItem
from govbot.db.session import session_scope
from govbot.gerrit.client import GerritClient
from govbot.policy import load_policy
from govbot.sandbox.ssh import new_key
from govbot.services.intake import PollResult, change_number, poll_once
from govbot.services.stream import HostKeyRejected, StreamConfig, StreamListener, connect
from govbot.services.worker import run_worker_once
from govbot.settings import Settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'govbot.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def config(world: RealWorld) -> StreamConfig:
    port = world.gerrit.ssh_port
    return StreamConfig("127.0.0.1", port, BOT[0], world.key_file, world.known_hosts, 5.0, 0.0)


def queued(engine: Engine) -> dict[int, dict[str, object]]:
    with session_scope(engine) as session:
        rows = session.execute(select(WorkItem.key, WorkItem.payload)).all()
    return {change_number(key): dict(payload or {}) for key, payload in rows}


def test_the_listener_queues_real_uploads_and_skips_its_own_events(
    real_world: RealWorld, engine: Engine
) -> None:
    settings = Settings(gerrit_projects=(PROJECT,))
    listener = StreamListener(config(real_world), engine, settings, bot_username=BOT[0]).start()
    alice = real_world.workspace()
    uploaded: list[int] = []
    change_ids: dict[int, str] = {}

    def upload() -> int:
        alice.fetch()
        marker = len(uploaded)
        text = SPEC_TEXT.replace("info:\n", f"info:\n  x-stream: s{marker}\n", 1)
        pushed = alice.upload({SPEC: text}, "Streamed")
        uploaded.append(pushed.number)
        change_ids[pushed.number] = pushed.change_id
        return pushed.number

    try:
        assert listener.wait_connected(120), listener.last_error

        # Gerrit subscribes the session a moment after it connects: upload until one
        # upload is streamed.
        def streamed() -> bool:
            if any(n in queued(engine) for n in uploaded):
                return True
            if listener.metrics.count("queued") == 0 and len(uploaded) < 20:
                upload()
            return False

        wait_for(streamed, "an upload queued from the stream", timeout=180)
        number = next(n for n in uploaded if n in queued(engine))
        payload = queued(engine)[number]
        assert payload["source"] == "stream-events" and payload["event"] == "patchset-created"
        assert payload["project"] == PROJECT and payload["patch_set"] == 1
        # A comment is no reason to look again; a patch set the bot itself uploads is
        # its own event: neither is queued.
        with GerritClient(real_world.gerrit.url, *BOT, timeout=60) as client:
            client.review(number, "current", {"message": "govbot was here", "notify": "NONE"})
        wait_for(lambda: listener.metrics.count("type", "comment-added"), "the comment event")
        bot = real_world.workspace(user=BOT[0])
        own = bot.commit(
            {SPEC: SPEC_TEXT + "# by the bot\n"}, "Streamed", change_id=change_ids[number]
        )[0]
        bot.push_for_review(own, change_ids[number])
        wait_for(lambda: listener.metrics.count("own", "patchset-created"), "the bot's patch set")
        assert queued(engine)[number]["patch_set"] == 1  # not re-queued for patch set 2
        assert listener.metrics.connected and listener.metrics.reconnects == 0
        assert listener.metrics.lag_seconds is not None
    finally:
        listener.stop()


def test_a_wrong_host_key_is_refused_naming_the_host(real_world: RealWorld, tmp_path: Path) -> None:
    port = real_world.gerrit.ssh_port
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[127.0.0.1]:{port} {new_key().public}\n")
    with pytest.raises(HostKeyRejected, match=rf"\[127\.0\.0\.1\]:{port}.*refusing"):
        connect(dataclasses.replace(config(real_world), known_hosts=wrong))
    wrong.write_text("")
    with pytest.raises(HostKeyRejected, match=rf"\[127\.0\.0\.1\]:{port} is not in"):
        connect(dataclasses.replace(config(real_world), known_hosts=wrong))
    assert wrong.read_text() == ""  # never added
    # The listener keeps trying (with back-off) and says why.
    listener = StreamListener(
        dataclasses.replace(config(real_world), known_hosts=wrong),
        make_engine("sqlite://"),
        Settings(),
    ).start()
    try:
        wait_for(lambda: "refusing" in listener.last_error, "the refusal")
        assert f"[127.0.0.1]:{port}" in listener.last_error and not listener.metrics.connected
    finally:
        listener.stop()


def test_a_connection_gerrit_closes_is_reopened_and_the_poll_reconciles(
    real_world: RealWorld, engine: Engine, tmp_path: Path
) -> None:
    """The admin closes govbot's SSH session (``gerrit close-connection``) after taking
    away its Stream Events capability, so it cannot come back; a patch set is uploaded
    meanwhile. Once the capability is back govbot reconnects, the reconciliation poll
    queues the change, and it is reviewed once."""
    gerrit = real_world.gerrit
    projects = new_projects(real_world)
    settings = Settings(
        gerrit_url=gerrit.url,
        gerrit_username=BOT[0],
        gerrit_password=BOT[1],
        gerrit_projects=(projects.api,),
    )
    policy = load_policy(REPO / "policies")
    client = GerritClient.from_settings(settings)
    polls: list[PollResult] = []

    def reconcile() -> None:
        polls.append(poll_once(client, engine, settings, policy, dt.datetime.now(dt.UTC)))

    admin_key = new_key()
    admin_key.write(tmp_path / "id_admin")
    gerrit.rest(
        "POST",
        "accounts/self/sshkeys",
        data=admin_key.public,
        headers={"Content-Type": "text/plain"},
    )
    admin = dataclasses.replace(config(real_world), user="admin", key_file=tmp_path / "id_admin")
    listener = StreamListener(
        config(real_world), engine, settings, bot_username=BOT[0], on_reconnect=reconcile
    ).start()
    members = "groups/Service%20Users/members"
    try:
        assert listener.wait_connected(120), listener.last_error
        gerrit.rest("POST", f"{members}.delete", json={"members": [BOT[0]]})
        closed = _close_connections(admin, BOT[0])
        assert closed, "no SSH session of the bot to close"
        # Each attempt now is refused by Gerrit, and the log line says why.
        wait_for(lambda: "not permitted" in listener.last_error, "a refused reconnect")
        assert "stream ended (exit status 1)" in listener.last_error
        number = (
            real_world.workspace(projects.api)
            .upload({SPEC: SPEC_TEXT + "# down\n"}, "While down")
            .number
        )
        gerrit.rest("POST", members, json={"members": [BOT[0]]})
        wait_for(lambda: number in queued(engine), "the reconciliation poll queuing the change")
        assert queued(engine)[number]["source"] == "poll"
        wait_for(lambda: "stalled" not in listener.last_error and listener.metrics.connected, "up")
        now = dt.datetime.now(dt.UTC)
        for _ in range(2):  # a second run finds nothing more to post
            run_worker_once(engine, client, policy, settings, now, "w1", 50)
        info = client.change(number, options=("MESSAGES", "DETAILED_ACCOUNTS"))
    finally:
        listener.stop()
        gerrit.rest("POST", members, json={"members": [BOT[0]]})
        client.close()
    posted = [m for m in info.messages if m.author and m.author.username == BOT[0]]
    assert [m.tag for m in posted] == ["autogenerated:govbot:api-review"]
    assert polls and all(p.ok for p in polls)


def _close_connections(admin: StreamConfig, user: str) -> list[str]:
    """Close every SSH session of ``user`` as the admin; their ids."""
    ssh = connect(admin)
    try:
        _, out, _ = ssh.exec_command("gerrit show-connections --wide", timeout=60)
        sessions = [
            line.split()[0] for line in out.read().decode().splitlines() if user in line.split()
        ]
        if sessions:
            _, out, err = ssh.exec_command("gerrit close-connection " + " ".join(sessions))
            assert out.channel.recv_exit_status() == 0, err.read().decode()
        return sessions
    finally:
        ssh.close()
