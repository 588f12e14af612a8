"""``POST /hooks/gerrit``: stream events in, "re-check change N" queued, 202 out."""

from __future__ import annotations

import copy
import dataclasses
import json
import threading
from collections.abc import Iterator

import pytest
from integration_support import SECRET
from sqlalchemy import select

from govbot.db import make_engine, session_scope, upgrade
from govbot.db.models import WorkItem
from govbot.sandbox import lifecycle
from govbot.sandbox.events import build_event
from govbot.services.intake import change_number
from govbot.web import WebServer, create_app
from govbot.web.hooks import SECRET_HEADER

URL = "/hooks/gerrit"


@pytest.fixture
def engine(tmp_path) -> Iterator:
    url = f"sqlite:///{tmp_path / 'govbot.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def woken() -> threading.Event:
    return threading.Event()


@pytest.fixture
def app(settings, engine, woken):
    return create_app(settings, engine, wake=woken.set, testing=True)


@pytest.fixture
def web(app):
    return app.test_client()


@pytest.fixture
def settings(gerrit, tmp_path):
    """SQLite only here: the endpoint's database work is one enqueue."""
    from integration_support import BOT, DEMO_PROJECTS

    from govbot.settings import Settings

    return Settings(
        gerrit_url=gerrit.url,
        gerrit_username=BOT[0],
        gerrit_password=BOT[1],
        gerrit_projects=DEMO_PROJECTS,
        webhook_secret=SECRET,
    )


def event(gerrit, kind: str, number: int, **extra) -> dict:
    """A stream event as the sandbox would deliver it, for change ``number``."""
    with gerrit.lock:
        change = gerrit.changes[number]
        data = build_event(gerrit, kind, change, change.current, **extra)
    data["eventCreatedOn"] = 1_790_000_000 + number
    return data


def post(web, body, *, secret: str | None = SECRET, query: str = ""):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return web.post(URL + query, data=data, headers=headers)


def items(engine) -> list[tuple[int, dict]]:
    with session_scope(engine) as session:
        rows = session.execute(select(WorkItem.key, WorkItem.payload)).all()
    return [(change_number(key), payload) for key, payload in rows]


def test_patchset_created_queues_the_change(gerrit, web, engine, woken):
    """A new patch set queues "review change N", answers 202 and wakes the worker."""
    response = post(web, event(gerrit, "patchset-created", 1, uploader=gerrit.account("alice").id))
    assert response.status_code == 202
    assert response.get_json() == {"received": 1, "queued": [1], "ignored": {}}
    [(number, payload)] = items(engine)
    assert number == 1 and payload["event"] == "patchset-created" and payload["patch_set"] == 1
    assert woken.is_set()


def test_a_duplicated_event_yields_one_item(gerrit, web, engine):
    """The plugin retries, proxies repeat: the same event twice is one work item."""
    data = event(gerrit, "patchset-created", 1, uploader=gerrit.account("alice").id)
    first, second = post(web, data), post(web, copy.deepcopy(data))
    assert first.status_code == second.status_code == 202
    assert second.get_json()["queued"] == []
    assert second.get_json()["ignored"] == {"duplicate": 1}
    assert len(items(engine)) == 1


def test_a_burst_for_one_change_is_one_item(gerrit, web, engine):
    """Different events for a change not yet reviewed collapse into the one queued item."""
    alice = gerrit.account("alice").id
    post(web, event(gerrit, "patchset-created", 2, uploader=alice))
    post(web, event(gerrit, "topic-changed", 2, changer=alice, oldTopic="x"))
    assert len(items(engine)) == 1


@pytest.mark.parametrize(
    "secret, query",
    [(None, ""), ("wrong", ""), (SECRET + "x", ""), (None, "?secret=nope"), ("", "")],
)
def test_a_bad_secret_is_refused(gerrit, web, engine, secret, query):
    """Without the shared secret (header or ``?secret=``): 403 and nothing queued."""
    response = post(web, event(gerrit, "patchset-created", 1), secret=secret, query=query)
    assert response.status_code == 403
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).count("\n") == 1
    assert items(engine) == []


def test_the_secret_may_come_in_the_url(gerrit, web, engine):
    """Gerrit's webhooks plugin cannot add headers: ``?secret=`` in its URL works."""
    response = post(
        web, event(gerrit, "patchset-created", 1), secret=None, query=f"?secret={SECRET}"
    )
    assert response.status_code == 202
    assert [n for n, _ in items(engine)] == [1]


def test_without_a_configured_secret_the_hook_is_off(gerrit, settings, engine):
    """No GOVBOT_WEBHOOK_SECRET: every request is refused (the poll still works)."""
    app = create_app(dataclasses.replace(settings, webhook_secret=""), engine)
    response = post(app.test_client(), event(gerrit, "patchset-created", 1), secret="")
    assert response.status_code == 403
    assert "GOVBOT_WEBHOOK_SECRET" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "body, words",
    [
        ("{not json", "malformed JSON"),
        ('{"type": "patchset-created"}\n{oops', "line 2"),
        ("", "empty body"),
        (b"\xff\xfe", "UTF-8"),
        ("[" * 100_000 + "]" * 100_000, "nested too deep"),
    ],
)
def test_unreadable_bodies_get_a_one_line_400(web, engine, body, words):
    """A body no retry can make readable: 400 with one plain-text line saying what is
    wrong; never a traceback."""
    response = post(web, body)
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert words in text
    assert text.count("\n") == 1 and "Traceback" not in text
    assert items(engine) == []


@pytest.mark.parametrize(
    "body, ignored",
    [
        ("[1, 2]", {"malformed": 2}),
        ('{"change": {}}', {"malformed": 1}),
        ('{"type": "patchset-created", "change": {"project": "p"}}', {"malformed": 1}),
        ('{"type": "patchset-created"}\n["not an event"]', {"malformed": 1, "no-change": 1}),
    ],
)
def test_malformed_events_are_skipped_with_202(web, engine, body, ignored):
    """Readable JSON of a shape no event has: 202 with the bad events counted and skipped,
    nothing queued. A 400 would only make the webhooks plugin retry and then log SEVERE
    (the poll reconciles)."""
    response = post(web, body)
    assert response.status_code == 202
    assert response.get_json()["ignored"] == ignored
    assert items(engine) == []


def test_own_events_are_ignored(gerrit, web, engine):
    """govbot's own review (comment-added by govbot) or upload queues nothing: no loops."""
    bot = gerrit.account("govbot").id
    response = post(
        web,
        [
            event(gerrit, "patchset-created", 1, uploader=bot),
            event(gerrit, "topic-changed", 2, changer=bot, oldTopic=""),
        ],
    )
    assert response.status_code == 202
    assert response.get_json()["ignored"] == {"own": 2}
    assert items(engine) == []


def test_only_verdict_changing_events_queue(gerrit, web, engine):
    """Comments, votes, reviewers, merges queue nothing; ready-for-review and public do."""
    alice, dave = gerrit.account("alice").id, gerrit.account("dave").id
    lifecycle.set_wip(gerrit, 4, False, by="alice")  # change 4 is ready now
    body = "\n".join(
        json.dumps(e)
        for e in [
            event(gerrit, "comment-added", 1, author=dave, comment="Patch Set 1: Code-Review+1"),
            event(gerrit, "reviewer-added", 2, reviewer=dave, adder=alice),
            event(gerrit, "change-merged", 3, submitter=dave),
            event(gerrit, "ref-updated", 3),
            event(gerrit, "wip-state-changed", 4, changer=alice),
            event(gerrit, "change-restored", 6, restorer=alice, reason=""),
            event(gerrit, "private-state-changed", 7, changer=alice),
        ]
    )
    response = post(web, body)
    assert response.status_code == 202
    data = response.get_json()
    assert data["received"] == 7
    assert sorted(data["queued"]) == [4, 6, 7]
    assert data["ignored"] == {"type": 4}


def test_events_turning_changes_wip_or_private_queue_nothing(gerrit, web, engine):
    """Becoming WIP or private is no reason to review."""
    alice = gerrit.account("alice").id
    wip = event(gerrit, "wip-state-changed", 1, changer=alice)
    wip["change"]["wip"] = True
    private = event(gerrit, "private-state-changed", 2, changer=alice)
    private["change"]["private"] = True
    response = post(web, [wip, private])
    assert response.get_json()["ignored"] == {"now-wip": 1, "now-private": 1}
    assert items(engine) == []


def test_unwatched_projects_are_ignored(gerrit, web, engine):
    """Events of projects govbot does not watch queue nothing."""
    data = event(gerrit, "patchset-created", 1)
    data["change"]["project"] = "openstack/unrelated"
    assert post(web, data).get_json()["ignored"] == {"unwatched": 1}


def test_healthz_reports_the_queue(gerrit, web, engine):
    """``/healthz`` says ok and counts the queue's items."""
    post(web, event(gerrit, "patchset-created", 1))
    response = web.get("/healthz")
    assert response.status_code == 200
    data = response.get_json()
    assert data["status"] == "ok" and data["queue"]["queued"] == 1


def test_healthz_without_a_database_is_503(settings, tmp_path):
    """An unreachable database makes ``/healthz`` answer 503, not a 500 page."""
    broken = make_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'govbot.db'}")
    response = create_app(settings, broken).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unhealthy"


def test_errors_are_one_line_of_text(web):
    """Unknown paths and wrong methods answer one plain-text line."""
    for response, status in ((web.get("/nope"), 404), (web.get(URL), 405)):
        assert response.status_code == status
        assert response.mimetype == "text/plain"
        assert response.get_data(as_text=True).count("\n") == 1


def test_the_sandbox_delivers_to_the_running_server(gerrit, app, engine, woken):
    """Over real HTTP: the sandbox's webhook (as Gerrit's plugin) reaches the served app."""
    with WebServer(app, "127.0.0.1", 0) as server:
        gerrit.set_webhook(f"{server.url}{URL}?secret={SECRET}")
        gerrit.clock.advance(minutes=1)
        lifecycle.add_patchset(gerrit, 7, {"README.rst": "touched\n"})
        lifecycle.add_patchset(gerrit, 7, {"README.rst": "touched again\n"})
        assert gerrit.flush_events(10)
    assert len(gerrit.webhook.delivered) == 2 and not gerrit.webhook.failed
    assert [n for n, _ in items(engine)] == [7]
    assert woken.is_set()
