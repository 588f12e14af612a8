"""The JSON API: every response validated against api-specs/govbot.yaml, on both databases."""

from __future__ import annotations

import re
from typing import Any

import pytest
from api_schema import check, spec
from flask import Flask
from flask.testing import FlaskClient
from web_support import BLOCK, COMPUTE, PLACEMENT, UNSAFE_SUBJECT, Seeded


def test_every_api_route_is_described_and_every_described_path_is_served(app: Flask) -> None:
    """the spec and the app agree on the set of paths"""
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api"))
            served.add(path)
    assert served == set(spec()["paths"])


def test_version_and_summary(client: FlaskClient) -> None:
    check("/", client.get("/api/"))
    body = check("/v1/summary", client.get("/api/v1/summary"))["summary"]
    assert body["apis"] == 4 and body["projects"] == 4
    assert body["review_queue"]["stale"] == 2 and body["review_queue"]["escalated"] == 2
    assert body["inconsistencies"] >= 1
    check("/v1", client.get("/api/v1"))


def test_apis_and_their_lists(client: FlaskClient, seeded: Seeded) -> None:
    body = check("/v1/apis", client.get("/api/v1/apis"))
    assert {a["project"] for a in body["apis"]} == {
        COMPUTE,
        BLOCK,
        PLACEMENT,
        "openstack/image-api",
    }
    placement = next(a for a in body["apis"] if a["project"] == PLACEMENT)
    assert placement["audience"] == "internal"
    api_id = seeded.api_ids[COMPUTE]
    api = check("/v1/apis/{api_id}", client.get(f"/api/v1/apis/{api_id}"))["api"]
    assert api["version"] == "2.96" and api["operation_counts"]["external_admin"] == 1
    ops = check("/v1/apis/{api_id}/operations", client.get(f"/api/v1/apis/{api_id}/operations"))
    assert any(
        o["audience"] == "external-admin" and o["path"] == "/os-hosts" for o in ops["operations"]
    )
    findings = check("/v1/apis/{api_id}/findings", client.get(f"/api/v1/apis/{api_id}/findings"))
    assert findings["findings"] and all(
        f["help"].endswith(f"/rules/{f['rule']}") for f in findings["findings"]
    )
    deps = check(
        "/v1/apis/{api_id}/deprecations", client.get(f"/api/v1/apis/{api_id}/deprecations")
    )["deprecations"]
    assert [d["sunset"] for d in deps] == ["2026-04-01", "2027-01-15"]
    assert deps[0]["replacement"] == "DELETE /v2/servers/{server_id}"
    snaps = check("/v1/apis/{api_id}/snapshots", client.get(f"/api/v1/apis/{api_id}/snapshots"))
    assert [s["version"] for s in snaps["snapshots"]] == ["2.96", "2.95"]
    since = check(
        "/v1/apis/{api_id}/snapshots",
        client.get(f"/api/v1/apis/{api_id}/snapshots?since=2026-02-20T00:00:00Z"),
    )
    assert [s["version"] for s in since["snapshots"]] == ["2.96"]
    changes = check("/v1/apis/{api_id}/changes", client.get(f"/api/v1/apis/{api_id}/changes"))
    assert UNSAFE_SUBJECT in {c["subject"] for c in changes["changes"]}  # JSON keeps it as data
    check(
        "/v1/apis/{api_id}/inconsistencies",
        client.get(f"/api/v1/apis/{seeded.api_ids[BLOCK]}/inconsistencies"),
    )
    everything = check("/v1/inconsistencies", client.get("/api/v1/inconsistencies"))
    assert {i["rule"] for i in everything["inconsistencies"]} & {"CON080", "CON081"}
    sunsets = check("/v1/deprecations", client.get("/api/v1/deprecations"))
    assert [d["operation"] for d in sunsets["deprecations"]] == ["DELETE /servers/{server_id}"]
    check("/v1/trend", client.get("/api/v1/trend"))
    check("/v1/trend", client.get(f"/api/v1/trend?api={api_id}&days=30"))
    check("/v1/projects", client.get("/api/v1/projects"))


def test_queue_escalations_digests_blueprints_rules(client: FlaskClient, seeded: Seeded) -> None:
    reviews = check("/v1/reviews", client.get("/api/v1/reviews?state=stale,at-risk"))
    assert [r["change"] for r in reviews["reviews"]] == [2, 3, 4]
    esc = check("/v1/escalations", client.get("/api/v1/escalations?state=open"))
    assert {e["change"] for e in esc["escalations"]} == {2, 3}
    check(
        "/v1/escalations/{escalation_id}",
        client.get(f"/api/v1/escalations/{seeded.escalation_id}"),
    )
    digests = check("/v1/digests", client.get("/api/v1/digests"))
    assert digests["digests"][0]["headline"] == {"stale": 2}
    check("/v1/digests/{digest_id}", client.get(f"/api/v1/digests/{seeded.digest_id}"))
    bps = check("/v1/blueprints", client.get("/api/v1/blueprints"))["blueprints"]
    assert sorted(b["verdict"] for b in bps) == ["missing", "strong"]
    check("/v1/blueprints/{blueprint_id}", client.get(f"/api/v1/blueprints/{bps[0]['id']}"))
    assert (
        len(check("/v1/blueprints", client.get("/api/v1/blueprints?verdict=missing"))["blueprints"])
        == 1
    )
    rules = check("/v1/rules", client.get("/api/v1/rules"))["rules"]
    assert {"DEP001", "CON080", "BPR002"} <= {r["code"] for r in rules}
    rule = check("/v1/rules/{rule_code}", client.get("/api/v1/rules/dep001"))["rule"]
    assert rule["code"] == "DEP001" and "what-it-checks" in {s["anchor"] for s in rule["sections"]}


@pytest.mark.parametrize(
    ("template", "path"),
    [
        ("/v1/apis", "/v1/apis"),
        ("/v1/apis/{api_id}/operations", "/v1/apis/{compute}/operations"),
        ("/v1/apis/{api_id}/findings", "/v1/apis/{compute}/findings"),
        ("/v1/apis/{api_id}/deprecations", "/v1/apis/{compute}/deprecations"),
        ("/v1/apis/{api_id}/snapshots", "/v1/apis/{compute}/snapshots"),
        ("/v1/reviews", "/v1/reviews"),
        ("/v1/rules", "/v1/rules"),
        ("/v1/projects", "/v1/projects"),
        ("/v1/inconsistencies", "/v1/inconsistencies"),
    ],
)
def test_pagination_follows_next_links_to_every_item(
    client: FlaskClient, seeded: Seeded, template: str, path: str
) -> None:
    """limit=1 (2 for big lists) pages through a list: every item once, pages validated"""
    path = path.replace("{compute}", str(seeded.api_ids[COMPUTE]))
    whole = check(template, client.get(f"/api{path}?limit=1000"))
    name = next(k for k in whole if k != "links")
    expected = [_identity(x) for x in whole[name]]
    size = 1 if len(expected) < 40 else 17
    seen: list[Any] = []
    url: str | None = f"/api{path}?limit={size}"
    while url:
        body = check(template, client.get(url))
        assert len(body[name]) <= size
        seen += [_identity(x) for x in body[name]]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nxt[0].removeprefix("http://localhost") if nxt else None
    assert seen == expected and len(expected) >= 2


def _identity(item: dict[str, Any]) -> Any:
    return item.get("id", item.get("code", item.get("change", item.get("name"))))


@pytest.mark.parametrize(
    ("template", "path", "status"),
    [
        ("/v1/apis", "/v1/apis?limit=0", 400),
        ("/v1/apis", "/v1/apis?limit=abc", 400),
        ("/v1/apis", "/v1/apis?marker=999999", 404),
        ("/v1/apis", "/v1/apis?audience=public", 400),
        ("/v1/apis/{api_id}", "/v1/apis/999999", 404),
        ("/v1/apis/{api_id}/findings", "/v1/apis/999999/findings", 404),
        ("/v1/apis/{api_id}/findings", "/v1/apis/{compute}/findings?severity=fatal", 400),
        ("/v1/apis/{api_id}/findings", "/v1/apis/{compute}/findings?waived=maybe", 400),
        ("/v1/apis/{api_id}/snapshots", "/v1/apis/{compute}/snapshots?since=yesterday", 400),
        ("/v1/reviews", "/v1/reviews?state=bogus", 400),
        ("/v1/escalations", "/v1/escalations?state=bogus", 400),
        ("/v1/escalations/{escalation_id}", "/v1/escalations/999999", 404),
        ("/v1/digests/{digest_id}", "/v1/digests/999999", 404),
        ("/v1/blueprints", "/v1/blueprints?verdict=great", 400),
        ("/v1/rules/{rule_code}", "/v1/rules/XYZ999", 404),
        ("/v1/trend", "/v1/trend?days=0", 400),
    ],
)
def test_errors_use_the_documented_format(
    client: FlaskClient, seeded: Seeded, template: str, path: str, status: int
) -> None:
    response = client.get("/api" + path.replace("{compute}", str(seeded.api_ids[COMPUTE])))
    assert response.status_code == status
    body = check(template, response)
    assert body["errors"][0]["status"] == status
