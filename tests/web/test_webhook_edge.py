"""The webhook's edge: unreadable bodies are a 400 and hostile events are skipped, never a
500; only changes of watched projects are queued, and not on the word of an event that
contradicts what govbot knows."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from govbot.db.models import Change, Project, WorkItem
from govbot.db.session import session_scope
from govbot.settings import Settings
from govbot.web import create_app
from govbot.web.hooks import SECRET_HEADER

SECRET = "hook-secret-for-tests"
WATCHED = "openstack/compute-api"


def event(number: int, project: str = WATCHED, branch: str = "master") -> dict[str, Any]:
    """A patchset-created stream event, as Gerrit's webhooks plugin posts it."""
    alice = {"username": "alice", "name": "Alice"}
    return {
        "type": "patchset-created",
        "change": {
            "project": project,
            "branch": branch,
            "id": f"I{abs(number):040x}",
            "number": number,
            "subject": "Add a field",
            "status": "NEW",
            "owner": alice,
        },
        "patchSet": {"number": 1, "revision": "a" * 40, "uploader": alice},
        "uploader": alice,
        "project": project,
        "refName": f"refs/heads/{branch}",
        "eventCreatedOn": 1_790_000_000 + abs(number) % 1000,
    }


def client_for(engine: Engine, **settings: Any) -> FlaskClient:
    values = {"webhook_secret": SECRET, "gerrit_projects": (WATCHED,), **settings}
    return create_app(Settings(**values), engine, testing=True).test_client()


def post(client: FlaskClient, body: Any) -> Any:
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/hooks/gerrit", data=data, headers={SECRET_HEADER: SECRET})


def queued(engine: Engine) -> list[str]:
    with session_scope(engine) as s:
        return sorted(s.scalars(select(WorkItem.key)))


@pytest.mark.parametrize("body", ["[" * 100_000, "[" * 100_000 + "\n{}", '{"a":' * 50_000])
def test_deeply_nested_json_is_a_400(db_engine: Engine, body: str) -> None:
    response = post(client_for(db_engine), body)
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert "nested too deeply" in response.get_data(as_text=True) or "malformed" in (
        response.get_data(as_text=True)
    )
    assert queued(db_engine) == []


@pytest.mark.parametrize("number", [-5, 0, 2**31, 10**30])
def test_change_numbers_out_of_range_are_skipped_at_the_edge(
    db_engine: Engine, number: int
) -> None:
    """No change has the number: the event is malformed, counted and skipped (a 400 would
    only make the plugin retry it); the well-formed event beside it is queued."""
    response = post(client_for(db_engine), [event(number), event(7)])
    assert response.status_code == 202, response.data
    assert response.get_json() == {"received": 1, "queued": [7], "ignored": {"malformed": 1}}
    assert queued(db_engine) == [f"change:{WATCHED}~7"]


def test_a_time_out_of_range_is_skipped(db_engine: Engine) -> None:
    hostile = {**event(7), "eventCreatedOn": 10**30}
    response = post(client_for(db_engine), hostile)
    assert response.status_code == 202
    assert response.get_json()["ignored"] == {"malformed": 1}
    assert queued(db_engine) == []


def test_only_watched_projects_are_queued(db_engine: Engine) -> None:
    client = client_for(db_engine)
    response = post(client, [event(7), event(8, project="openstack/elsewhere")])
    assert response.status_code == 202
    assert response.get_json() == {"received": 2, "queued": [7], "ignored": {"unwatched": 1}}
    assert queued(db_engine) == [f"change:{WATCHED}~7"]


def test_nothing_watched_means_nothing_is_queued(db_engine: Engine) -> None:
    response = post(client_for(db_engine, gerrit_projects=()), event(7))
    assert response.get_json()["ignored"] == {"unwatched": 1}
    assert queued(db_engine) == []


def test_an_event_contradicting_the_known_project_is_not_trusted(db_engine: Engine) -> None:
    """change 9 is known in an unwatched project: an event claiming it for a watched one
    queues nothing"""
    now = dt.datetime(2026, 3, 4, tzinfo=dt.UTC)
    with session_scope(db_engine) as s:
        other = Project(name="openstack/unwatched", created_at=now)
        s.add(other)
        s.flush()
        s.add(
            Change(
                number=9,
                project_id=other.id,
                branch="master",
                change_id=f"I{9:040x}",
                subject="elsewhere",
                owner_name="mallory",
                status="NEW",
                current_patch_set=1,
                created=now,
                updated=now,
                synced_at=now,
            )
        )
    response = post(client_for(db_engine), event(9))
    assert response.status_code == 202
    assert response.get_json()["ignored"] == {"mismatch": 1}
    assert queued(db_engine) == []
