"""The JSON API's edge: parameters checked against the description, one error shape for
every status, links from checked parameters only. On SQLite and PostgreSQL."""

from __future__ import annotations

from importlib import resources
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from api_schema import check
from flask.testing import FlaskClient
from sqlalchemy import Engine
from web_support import COMPUTE, Seeded

from govbot.web import create_app
from govbot.web.api.contract import load_contract, parse_time
from tests.conftest import REPO

HUGE = "9835222689215061910869770240"  # beyond any database integer


def test_the_package_ships_the_description_the_repository_keeps() -> None:
    """an installed govbot reads api-specs/govbot.yaml from its own package"""
    packaged = (resources.files("govbot.web.api") / "govbot.yaml").read_text(encoding="utf-8")
    assert packaged == (REPO / "api-specs" / "govbot.yaml").read_text(encoding="utf-8")
    described = yaml.safe_load(packaged)
    operations = {
        op["operationId"]
        for item in described["paths"].values()
        for method, op in item.items()
        if method != "parameters"
    }
    assert set(load_contract().operations) == operations


@pytest.mark.parametrize(
    ("template", "path", "status"),
    [
        ("/v1/trend", f"/v1/trend?api={HUGE}", 400),
        ("/v1/trend", "/v1/trend?api=2147483648", 400),
        ("/v1/apis/{api_id}", f"/v1/apis/{HUGE}", 404),
        ("/v1/apis/{api_id}", "/v1/apis/2147483648", 404),
        ("/v1/apis/{api_id}/findings", f"/v1/apis/{HUGE}/findings", 404),
        ("/v1/escalations/{escalation_id}", "/v1/escalations/9223372036854775808", 404),
        ("/v1/escalations/{escalation_id}", "/v1/escalations/9223372036854775807", 404),
        ("/v1/digests/{digest_id}", "/v1/digests/-210", 404),
        ("/v1/digests/{digest_id}", "/v1/digests/abc", 404),
        ("/v1/rules/{rule_code}", "/v1/rules/DEP0011", 404),
        ("/v1/apis", "/v1/apis?marker=" + HUGE, 400),
        ("/v1/apis", "/v1/apis?marker=abc", 400),
        ("/v1/apis", "/v1/apis?limit=", 400),
        ("/v1/apis", "/v1/apis?limit=1&limit=2", 400),
        ("/v1/apis", "/v1/apis?project=", 400),
        ("/v1/apis", "/v1/apis?project=a%00b", 400),
        ("/v1/apis/{api_id}/findings", "/v1/apis/{compute}/findings?rule=", 400),
        ("/v1/apis/{api_id}/findings", "/v1/apis/{compute}/findings?waived=1", 400),
        ("/v1/apis/{api_id}/operations", "/v1/apis/{compute}/operations?marker=" + HUGE, 400),
        ("/v1/reviews", "/v1/reviews?state=", 400),
        ("/v1/reviews", "/v1/reviews?state=stale,,at-risk", 400),
        ("/v1/deprecations", "/v1/deprecations?within_days=-1", 400),
        ("/v1/rules", "/v1/rules?marker=zz", 400),
    ],
)
def test_out_of_range_and_malformed_parameters_are_refused(
    client: FlaskClient, seeded: Seeded, template: str, path: str, status: int
) -> None:
    """ids beyond the columns' range and parameters against the description are a 400
    (query) or a 404 (path), in the documented shape, never a 500"""
    response = client.get("/api" + path.replace("{compute}", str(seeded.api_ids[COMPUTE])))
    assert response.status_code == status, response.data[:300]
    body = check(template, response)
    assert body["errors"][0]["status"] == status


@pytest.mark.parametrize(
    "path",
    [
        "/v1/apis?marker=2147483647",
        "/v1/reviews?marker=777",
        "/v1/blueprints?marker=999999",
        "/v1/deprecations?marker=999999",
        "/v1/apis/{compute}/snapshots?marker=999999",
        "/v1/apis/{compute}/changes?marker=999999",
    ],
)
def test_a_marker_naming_no_item_is_a_404(client: FlaskClient, seeded: Seeded, path: str) -> None:
    response = client.get("/api" + path.replace("{compute}", str(seeded.api_ids[COMPUTE])))
    assert response.status_code == 404
    assert response.get_json()["errors"][0]["code"] == "govbot.marker.not_found"


def test_lists_ordered_by_id_take_any_id_as_marker(client: FlaskClient, seeded: Seeded) -> None:
    api_id = seeded.api_ids[COMPUTE]
    for path in (
        f"/v1/apis/{api_id}/findings?marker=9223372036854775807",
        "/v1/digests?marker=1",
        "/v1/escalations?marker=9223372036854775807",
    ):
        template = "/v1/apis/{api_id}/findings" if "findings" in path else path.split("?")[0]
        assert check(template, client.get("/api" + path)) is not None


def test_valid_extremes_are_accepted(client: FlaskClient, seeded: Seeded) -> None:
    """whatever the description allows is served: odd but valid times, the largest ids"""
    api_id = seeded.api_ids[COMPUTE]
    for since in (
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+23:59",
        "9999-12-31T23:59:60-23:59",
        "2026-02-20t00:00:00.1234567z",
    ):
        path = f"/api/v1/apis/{api_id}/snapshots?since={since.replace('+', '%2B')}"
        check("/v1/apis/{api_id}/snapshots", client.get(path))
    check("/v1/trend", client.get("/api/v1/trend?api=2147483647&days=3660"))
    check("/v1/apis/{api_id}", client.get("/api/v1/apis/2147483647"))


def test_other_methods_get_405_with_allow_in_the_error_shape(client: FlaskClient) -> None:
    for path in ("/api/v1/apis", "/api/v1/summary", "/api/"):
        response = client.post(path)
        assert response.status_code == 405
        assert "GET" in response.headers["Allow"]
        template = {"/api/": "/"}.get(path, path.removeprefix("/api"))
        check(template, response, method="get")
        assert response.get_json()["errors"][0]["status"] == 405
    assert client.delete("/api/v1/apis/1").headers["Allow"]


def test_unknown_paths_under_the_api_answer_json(client: FlaskClient) -> None:
    for path in ("/api/v1/nothing", "/api/v2", "/api/v1/apis/1/nothing"):
        response = client.get(path)
        assert response.status_code == 404 and response.mimetype == "application/json"
        assert response.get_json()["errors"][0]["code"] == "govbot.http.404"
    assert client.get("/nothing").mimetype == "text/plain"  # pages keep one line of text


def test_a_failure_is_a_json_500(tmp_path, policy) -> None:
    """a database without govbot's tables: the API answers its error shape, not a page"""
    from govbot.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        response = create_app(engine=engine, policy=policy).test_client().get("/api/v1/summary")
    finally:
        engine.dispose()
    assert response.status_code == 500
    body = check("/v1/summary", response)
    assert body["errors"][0]["code"] == "govbot.internal"
    assert "Traceback" not in response.get_data(as_text=True)


def test_links_carry_only_the_described_parameters_normalised(
    client: FlaskClient, seeded: Seeded
) -> None:
    api_id = seeded.api_ids[COMPUTE]
    query = "limit=01&bogus=%3Ca%20href%3Dx%3E&severity=warning&rule=con001&waived=false"
    body = check(
        "/v1/apis/{api_id}/findings", client.get(f"/api/v1/apis/{api_id}/findings?{query}")
    )
    [self_link] = [link["href"] for link in body["links"] if link["rel"] == "self"]
    parts = urlsplit(self_link)
    assert parts.path == f"/api/v1/apis/{api_id}/findings"
    assert parse_qs(parts.query) == {
        "limit": ["1"],
        "severity": ["warning"],
        "rule": ["con001"],
        "waived": ["false"],
    }
    assert "bogus" not in self_link and "<" not in self_link
    states = check("/v1/reviews", client.get("/api/v1/reviews?state=stale,at-risk&limit=1"))
    [nxt] = [link["href"] for link in states["links"] if link["rel"] == "next"]
    assert parse_qs(urlsplit(nxt).query) == {
        "state": ["stale,at-risk"],
        "limit": ["1"],
        "marker": ["2"],
    }


def test_rfc3339_times_parse_to_utc() -> None:
    assert parse_time("2026-03-04T12:00:00+01:00").isoformat() == "2026-03-04T11:00:00+00:00"
    assert parse_time("2026-03-04t12:00:60.5z").second == 59
    for bad in ("2026-02-30T00:00:00Z", "2026-03-04T24:00:00Z", "yesterday", "2026-03-04"):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_html_pages_never_send_an_out_of_range_id_to_the_database(
    client: FlaskClient, seeded: Seeded, db_engine: Engine
) -> None:
    api_id = seeded.api_ids[COMPUTE]
    for path in (
        f"/apis/{HUGE}",
        f"/apis/{api_id}/findings/{HUGE}",
        f"/digests/{HUGE}",
        f"/blueprints/{HUGE}",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/?marker={HUGE}").status_code == 400
    assert client.get(f"/apis/{api_id}/operations?marker={HUGE}").status_code == 200
