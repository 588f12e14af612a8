"""Admin actions: refused without a login or without the CSRF token, done with both."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from web_support import COMPUTE, PASSWORD, Seeded, make_app

from govbot.db.models import ApiSpec, EscalationAck, SnapshotFinding, TCMember, Waiver
from govbot.db.session import session_scope
from govbot.policy import Policy


def token(client: FlaskClient, path: str = "/admin/login") -> str:
    html = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def login(client: FlaskClient, password: str = PASSWORD) -> str:
    response = client.post(
        "/admin/login",
        data={"csrf_token": token(client), "user": "ana", "password": password, "next": "/queue"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/queue"
    return token(client, "/queue")


def a_finding(engine: Engine, seeded: Seeded) -> SnapshotFinding:
    with session_scope(engine) as s:
        return s.scalars(
            select(SnapshotFinding)
            .join(ApiSpec, ApiSpec.latest_snapshot_id == SnapshotFinding.snapshot_id)
            .where(ApiSpec.id == seeded.api_ids[COMPUTE], SnapshotFinding.severity == "warning")
            .limit(1)
        ).one()


def actions(seeded: Seeded, finding_id: int) -> list[tuple[str, dict[str, str]]]:
    api_id = seeded.api_ids[COMPUTE]
    return [
        (f"/admin/apis/{api_id}/findings/{finding_id}/waive", {"reason": "accepted by the TC"}),
        (f"/admin/escalations/{seeded.escalation_id}/ack", {"note": "on it"}),
        ("/admin/tc-members/ben/away", {"until": "2026-03-20"}),
    ]


def test_admin_actions_without_login_are_refused(
    client: FlaskClient, db_engine: Engine, seeded: Seeded
) -> None:
    """a POST without a login is a 401, even with a CSRF token from a page, and writes nothing"""
    csrf = token(client)
    for path, data in actions(seeded, a_finding(db_engine, seeded).id):
        response = client.post(path, data={**data, "csrf_token": csrf})
        assert response.status_code == 401, path
    _assert_nothing_written(db_engine)


def test_admin_actions_without_csrf_token_are_refused(
    client: FlaskClient, db_engine: Engine, seeded: Seeded
) -> None:
    """logged in, a POST without the session's CSRF token (or with another) is a 400"""
    login(client)
    for path, data in actions(seeded, a_finding(db_engine, seeded).id):
        assert client.post(path, data=data).status_code == 400, path
        assert client.post(path, data={**data, "csrf_token": "forged"}).status_code == 400, path
    _assert_nothing_written(db_engine)


def test_admin_actions_with_login_and_csrf_token_work(
    client: FlaskClient, db_engine: Engine, seeded: Seeded
) -> None:
    finding = a_finding(db_engine, seeded)
    before = client.get(f"/api/v1/apis/{seeded.api_ids[COMPUTE]}").get_json()["api"]
    csrf = login(client)
    for path, data in actions(seeded, finding.id):
        response = client.post(path, data={**data, "csrf_token": csrf})
        assert response.status_code == 302, (path, response.data[:200])
    # The header form works as well (for scripts holding the session cookie).
    second = client.post(
        f"/admin/escalations/{seeded.escalation_id}/ack", headers={"X-CSRF-Token": csrf}
    )
    assert second.status_code == 302
    with session_scope(db_engine) as s:
        [waiver] = s.scalars(select(Waiver)).all()
        assert (waiver.fingerprint, waiver.created_by) == (finding.fingerprint, "ana")
        [ack] = s.scalars(select(EscalationAck)).all()
        assert (ack.escalation_id, ack.acknowledged_by, ack.note) == (
            seeded.escalation_id,
            "ana",
            "on it",
        )
        ben = s.get(TCMember, "ben")
        assert ben is not None and ben.away_until is not None
        assert ben.away_until.date().isoformat() == "2026-03-20"
    after = client.get(f"/api/v1/apis/{seeded.api_ids[COMPUTE]}").get_json()["api"]
    assert after["waived_findings"] == before["waived_findings"] + 1
    assert after["finding_counts"]["warning"] == before["finding_counts"]["warning"] - 1
    waived = client.get(f"/api/v1/apis/{seeded.api_ids[COMPUTE]}/findings?waived=true")
    assert [f["id"] for f in waived.get_json()["findings"]] == [finding.id]
    page = client.get(f"/apis/{seeded.api_ids[COMPUTE]}/findings/{finding.id}")
    assert "accepted by the TC" in page.get_data(as_text=True)
    # Logging out ends it: the next action is refused again.
    assert client.post("/admin/logout", data={"csrf_token": csrf}).status_code == 302
    assert client.post("/admin/tc-members/ben/away", data={"csrf_token": csrf}).status_code == 401


def test_login_needs_the_password_and_a_csrf_token(client: FlaskClient) -> None:
    csrf = token(client)
    wrong = client.post("/admin/login", data={"csrf_token": csrf, "user": "x", "password": "no"})
    assert wrong.status_code == 401
    no_csrf = client.post("/admin/login", data={"user": "x", "password": PASSWORD})
    assert no_csrf.status_code == 400
    assert client.post("/admin/tc-members/ben/away", data={"csrf_token": csrf}).status_code == 401


def test_login_redirects_only_within_the_site(client: FlaskClient) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = client.post(
            "/admin/login",
            data={"csrf_token": token(client), "user": "ana", "password": PASSWORD, "next": target},
        )
        assert response.headers["Location"] == "/", target
        client.post("/admin/logout", data={"csrf_token": token(client, "/")})


def test_a_password_hash_is_accepted(db_engine: Engine, policy: Policy, seeded: Seeded) -> None:
    """GOVBOT_ADMIN_PASSWORD may be a werkzeug hash instead of the password itself"""
    from werkzeug.security import generate_password_hash

    app = make_app(db_engine, policy, password=generate_password_hash("s3cret"))
    with app.test_client() as client:
        assert login(client, "s3cret")


@pytest.mark.parametrize("password", [""])
def test_admin_is_disabled_without_a_password(
    db_engine: Engine, policy: Policy, seeded: Seeded, password: str
) -> None:
    app = make_app(db_engine, policy, password=password)
    with app.test_client() as client:
        assert "GOVBOT_ADMIN_PASSWORD" in client.get("/admin/login").get_data(as_text=True)
        response = client.post("/admin/login", data={"user": "x", "password": ""})
        assert response.status_code == 403


def test_reads_never_change_state(client: FlaskClient) -> None:
    """the public pages refuse anything but GET and HEAD"""
    for path in ("/", "/queue", "/api/v1/apis", "/rules", "/metrics"):
        assert client.post(path).status_code == 405, path


def _assert_nothing_written(engine: Engine) -> None:
    with session_scope(engine) as s:
        assert s.scalars(select(Waiver)).all() == []
        assert s.scalars(select(EscalationAck)).all() == []
        assert s.get(TCMember, "ben") is None


def test_the_sixth_wrong_login_in_a_minute_gets_429(client: FlaskClient) -> None:
    """five failures per client and minute: then 429 with Retry-After, even for the right
    password, so guessing on stops paying off"""
    csrf = token(client)
    for _ in range(5):
        wrong = {"csrf_token": csrf, "user": "x", "password": "guess"}
        assert client.post("/admin/login", data=wrong).status_code == 401
    sixth = client.post("/admin/login", data={"csrf_token": csrf, "user": "x", "password": "no"})
    assert sixth.status_code == 429
    assert 0 < int(sixth.headers["Retry-After"]) <= 60
    right = {"csrf_token": csrf, "user": "ana", "password": PASSWORD}
    assert client.post("/admin/login", data=right).status_code == 429
    # Another client is not locked out by this one (until the total limit is reached).
    with client.application.test_client() as other:
        data = {"csrf_token": token(other), "user": "ana", "password": PASSWORD}
        response = other.post("/admin/login", data=data, environ_base={"REMOTE_ADDR": "10.0.0.9"})
        assert response.status_code == 302
