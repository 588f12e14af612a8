"""The dashboard's pages on seeded data, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from web_support import COMPUTE, SETTINGS, UNSAFE_SUBJECT, Seeded

PAGES = [
    "/",
    "/queue",
    "/queue?state=waiting",
    "/escalations",
    "/escalations?state=all",
    "/digests",
    "/blueprints",
    "/blueprints?verdict=missing",
    "/rules",
    "/rules/DEP001",
    "/rules/CON081",
    "/admin/login",
]
API_PAGES = [
    "",
    "/operations",
    "/operations?audience=external-admin",
    "/findings",
    "/findings?severity=warning",
    "/deprecations",
    "/history",
    "/changes",
    "/inconsistencies",
]


@pytest.mark.parametrize("path", PAGES)
def test_each_page_renders_with_seeded_data(client: FlaskClient, path: str) -> None:
    """every page answers 200 HTML with the viewport meta and a CSP without inline scripts"""
    response = client.get(path)
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\b(?:src|type=\"application/json\"))[^>]*>", html)


@pytest.mark.parametrize("suffix", API_PAGES)
def test_each_api_page_renders(client: FlaskClient, seeded: Seeded, suffix: str) -> None:
    """the API page and each of its lists answer 200"""
    response = client.get(f"/apis/{seeded.api_ids[COMPUTE]}{suffix}")
    assert response.status_code == 200, response.data[:300]


def test_overview_lists_every_api_with_its_surface_and_findings(client: FlaskClient) -> None:
    """the overview names each indexed API, its audience and a chart of its history"""
    html = client.get("/").get_data(as_text=True)
    for title in ("Compute API", "Block Storage API", "Image API", "Placement API"):
        assert title in html
    assert 'data-chart="health-trend-data"' in html
    assert "/assets/plotly-" in html
    assert 'class="badge internal"' in html  # placement is classified internal by its path


def test_api_page_shows_operations_evidence_deprecations_and_history(
    client: FlaskClient, seeded: Seeded
) -> None:
    html = client.get(f"/apis/{seeded.api_ids[COMPUTE]}").get_data(as_text=True)
    assert "DELETE /servers/{server_id}" in html
    assert "2026-04-01" in html  # the sunset
    assert "DELETE /v2/servers/{server_id}" in html  # the replacement, from the description
    assert "external-admin" in html and "/os-hosts" in html  # admin by the policy's path rule
    assert 'data-chart="sunset-timeline-data"' in html
    assert "c1c1c1c1c1" in html and "c0c0c0c0c0" in html  # both merged commits in the history
    assert "Open changes touching it" in html


def test_a_script_in_a_change_subject_is_shown_as_text(client: FlaskClient, seeded: Seeded) -> None:
    """change subjects, spec text and messages are escaped, never markup"""
    for path in (
        "/queue",
        f"/apis/{seeded.api_ids[COMPUTE]}",
        f"/apis/{seeded.api_ids[COMPUTE]}/changes",
        "/",
    ):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html, path
        assert "<b>bold</b>" not in html, path
    html = client.get("/queue").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; Add &lt;b&gt;bold&lt;/b&gt;" in html
    assert UNSAFE_SUBJECT not in html


def test_spec_text_in_findings_and_excerpts_is_escaped(client: FlaskClient, seeded: Seeded) -> None:
    api_id = seeded.api_ids[COMPUTE]
    html = client.get(f"/apis/{api_id}/findings?limit=1000").get_data(as_text=True)
    ids = re.findall(rf"/apis/{api_id}/findings/(\d+)", html)
    assert ids
    pages = [client.get(f"/apis/{api_id}/findings/{i}").get_data(as_text=True) for i in ids]
    assert all("<script>alert(1)" not in p for p in pages)
    assert any("&lt;script&gt;alert(1)&lt;/script&gt;" in p for p in pages)
    assert any('class="excerpt"' in p for p in pages)


def test_digest_mail_html_is_sandboxed(client: FlaskClient, seeded: Seeded) -> None:
    """the digest as mailed is served under a CSP sandbox: its markup can run nothing"""
    page = client.get(f"/digests/{seeded.digest_id}")
    assert page.status_code == 200
    assert "&lt;script&gt;" in page.get_data(as_text=True)
    raw = client.get(f"/digests/{seeded.digest_id}/email.html")
    assert raw.status_code == 200
    assert raw.headers["Content-Security-Policy"].startswith("sandbox")


def test_rule_page_has_anchored_sections(client: FlaskClient) -> None:
    """/rules/CODE renders the docstring's sections, each with an anchor"""
    html = client.get("/rules/DEP001").get_data(as_text=True)
    for anchor in ("what-it-checks", "why-it-matters", "example", "fix", "references"):
        assert f'id="{anchor}"' in html
    index = client.get("/rules").get_data(as_text=True)
    assert 'id="DEP001"' in index and 'href="/rules/DEP001"' in index
    assert client.get("/rules/dep001").status_code == 301
    assert client.get("/rules/XYZ999").status_code == 404


def test_pagination_walks_every_item_once(client: FlaskClient, seeded: Seeded) -> None:
    """limit=1 pages through the APIs with next links, each API once, in order"""
    seen, url = [], "/?limit=1"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += re.findall(
            r'href="/apis/(\d+)"', html.split('id="apis"')[1].split('id="sunsets"')[0]
        )
        found = re.search(r'<a rel="next" href="([^"]+)"', html)
        url = found.group(1).replace("&amp;", "&") if found else ""
    assert sorted(map(int, seen)) == sorted(seeded.api_ids.values())
    assert len(seen) == len(set(seen))


def test_bad_pagination_is_a_400(client: FlaskClient) -> None:
    assert client.get("/?limit=0").status_code == 400
    assert client.get("/?marker=abc").status_code == 400
    assert client.get("/?marker=999999").status_code == 400
    assert client.get("/queue?state=bogus").status_code == 400


def test_unknown_items_are_404(client: FlaskClient) -> None:
    for path in ("/apis/999999", "/apis/999999/findings", "/digests/999999", "/blueprints/999999"):
        assert client.get(path).status_code == 404, path


def test_assets_are_served_by_govbot_with_caching(client: FlaskClient) -> None:
    """plotly.js comes from the installed plotly package, gzip'd, cached, revalidated"""
    from govbot.web.dashboard.assets import plotly_version

    url = f"/assets/plotly-{plotly_version()}.min.js"
    response = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert "immutable" in response.headers["Cache-Control"]
    etag = response.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    plain = client.get(url)
    assert b"plotly" in plain.data[:2000].lower() and "Content-Encoding" not in plain.headers
    assert client.get("/assets/plotly-0.0.1.min.js").status_code == 404
    assert client.get("/assets/dashboard.css").mimetype == "text/css"
    assert client.get("/assets/secret.py").status_code == 404


def test_create_app_serves_the_dashboard_with_the_settings_secrets(db_engine, seeded) -> None:
    """`govbot serve`'s app: the dashboard is there without a separate registration, its
    admin password and session key come from the settings (GOVBOT_ADMIN_PASSWORD,
    GOVBOT_SECRET_KEY), and overrides given to create_app win over them"""
    import dataclasses

    from govbot.web import context, create_app

    settings = dataclasses.replace(SETTINGS, admin_password="pw", secret_key="signing-key")
    app = create_app(settings, db_engine, testing=True)
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/summary").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert app.config["SECRET_KEY"] == "signing-key"
    with app.app_context():
        assert context().admin_password == "pw"
    login = client.get("/admin/login").get_data(as_text=True)
    assert "Admin actions are disabled" not in login
    plain = create_app(SETTINGS, db_engine, testing=True)
    with plain.app_context():
        assert context().admin_password == ""
    assert len(plain.config["SECRET_KEY"]) >= 32
    other = create_app(settings, db_engine, admin_password="other", secret_key="k2")
    with other.app_context():
        assert context().admin_password == "other"
    assert other.config["SECRET_KEY"] == "k2"


def test_an_empty_dashboard_says_what_it_waits_for(db_engine, policy) -> None:
    """no API indexed yet: the overview names the index job, when it last ran, and the
    commands that fill it (a backfill per watched project)"""
    import dataclasses
    import datetime as dt

    from govbot.db.models import JobLease
    from govbot.db.session import session_scope
    from govbot.web import create_app

    settings = dataclasses.replace(
        SETTINGS, gerrit_projects=("openstack/compute-api", "openstack/nova:stable/2026.1")
    )
    now = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
    app = create_app(settings, db_engine, policy=policy, now=lambda: now)
    html = app.test_client().get("/").get_data(as_text=True)
    assert "Waiting for the first indexed API" in html
    assert "It has not run yet" in html
    assert "govbot backfill openstack/compute-api\n" in html
    assert "govbot backfill openstack/nova --branch stable/2026.1" in html
    assert "govbot index" in html
    with session_scope(db_engine) as s:
        s.add(
            JobLease(
                name="index",
                owner="host:1",
                lease_until=now - dt.timedelta(hours=2),
                slot=None,
                last_run_at=now - dt.timedelta(hours=2),
            )
        )
    html = app.test_client().get("/").get_data(as_text=True)
    assert "It last ran 2026-03-04 10:00 UTC (2 h ago) and found no merged spec yet" in html
    health = app.test_client().get("/healthz").get_json()
    assert health["index"]["last_run_at"] == "2026-03-04T10:00:00+00:00"
    assert health["index"]["snapshots"] == 0
    assert health["index"]["backfill"]["branches"] == 0


def test_a_seeded_dashboard_does_not_wait(client: FlaskClient) -> None:
    assert "Waiting for the first indexed API" not in client.get("/").get_data(as_text=True)


def test_create_app_without_arguments_reads_the_environment(tmp_path, monkeypatch) -> None:
    """`gunicorn "govbot.web:create_app()"`: settings and database from GOVBOT_*"""
    from govbot.db import upgrade
    from govbot.web import context, create_app

    url = f"sqlite:///{tmp_path / 'env.db'}"
    upgrade(url)
    monkeypatch.setenv("GOVBOT_DATABASE_URL", url)
    monkeypatch.setenv("GOVBOT_ADMIN_PASSWORD", "from-env")
    monkeypatch.chdir(tmp_path)
    app = create_app()
    try:
        assert app.test_client().get("/healthz").status_code == 200
        with app.app_context():
            assert context().admin_password == "from-env"
    finally:
        with app.app_context():
            context().engine.dispose()
