"""No secret reaches a log or a page: a DEBUG run over real HTTP, searched for the values.

The settings carry every secret govbot has: the Gerrit password (also inside
GOVBOT_GERRIT_URL, which the client accepts), the webhook secret (which Gerrit's plugin
can only send in the query string), the admin password and the session signing key.
"""

from __future__ import annotations

import logging
import re
import urllib.error
import urllib.request
from typing import Any

import pytest
from sqlalchemy import Engine
from web_support import COMPUTE, NOW, Seeded

from govbot.policy import Policy
from govbot.settings import Settings
from govbot.web import WebServer, create_app

SECRETS = {
    "gerrit_password": "SEKRET-gerrit-pw-123",
    "webhook_secret": "SEKRET-hook-456",
    "admin_password": "SEKRET-admin-789",
    "secret_key": "SEKRET-signing-key-0ab",
}
URL_PASSWORD = "SEKRET-url-321"


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read().decode("utf-8", "replace")


def paths(seeded: Seeded) -> list[str]:
    api_id = seeded.api_ids[COMPUTE]
    pages = ["/", "/queue", "/escalations", "/digests", "/blueprints", "/rules", "/admin/login"]
    pages += [f"/apis/{api_id}", f"/apis/{api_id}/changes", f"/digests/{seeded.digest_id}"]
    pages += ["/healthz", "/metrics", "/rules/DEP001"]
    api = ["/", "/v1/summary", "/v1/apis", f"/v1/apis/{api_id}", f"/v1/apis/{api_id}/findings"]
    api += ["/v1/reviews", "/v1/escalations", "/v1/digests", f"/v1/digests/{seeded.digest_id}"]
    return pages + ["/api" + p for p in api]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_debug_run_logs_and_serves_no_secret(
    db_engine: Engine, policy: Policy, seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="govbot")  # a CLI test may have set it to INFO
    settings = Settings(
        gerrit_url=f"https://govbot:{URL_PASSWORD}@review.example.org/",
        gerrit_username="govbot",
        gerrit_projects=(COMPUTE,),
        **SECRETS,
    )
    logging.getLogger("govbot").debug("settings: %r", settings)
    app = create_app(settings, db_engine, policy=policy, now=lambda: NOW)
    seen: list[str] = []
    with WebServer(app, "127.0.0.1", 0) as server:
        hook = f"{server.url}/hooks/gerrit?secret={SECRETS['webhook_secret']}"
        seen.append(str(fetch(hook, b'{"type": "ref-updated"}')))
        seen.append(str(fetch(hook.replace("SEKRET", "WRONG"), b"{}")))
        seen.append(str(fetch(f"{server.url}/nothing?secret={SECRETS['webhook_secret']}")))
        status, headers, login = fetch(f"{server.url}/admin/login")
        cookie = headers["Set-Cookie"].split(";")[0]
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login)
        assert csrf
        form = f"csrf_token={csrf.group(1)}&user=ana&password={SECRETS['admin_password']}"
        seen.append(str(fetch(f"{server.url}/admin/login", form.encode(), {"Cookie": cookie})))
        for path in paths(seeded):
            status, headers, body = fetch(
                server.url + path + "?secret=" + SECRETS["webhook_secret"]
            )
            assert status < 500, (path, body[:300])
            seen.append(f"{path} {status} {headers} {body}")
    logs = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert "POST /hooks/gerrit" in logs  # the access log is there, without its query
    everything = logs + "\n".join(seen)
    for value in [*SECRETS.values(), URL_PASSWORD]:
        assert value not in everything, value
    queue = next(s for s in seen if s.startswith("/queue "))
    # The Gerrit links render, without the user information of GOVBOT_GERRIT_URL.
    assert 'href="https://review.example.org/c/2"' in queue
