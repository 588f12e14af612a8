"""The sandbox speaks Gerrit's REST protocol: XSSI prefix, /a/ auth, plain-text errors, ids."""

from __future__ import annotations

import base64
import re

import pytest
import requests
from gerrit_support import PROJECT, SPEC, client, new_change
from pygerrit2 import Anonymous, GerritRestAPI

from govbot.gerrit.changes import ChangeInfo
from govbot.gerrit.scalars import parse_timestamp
from govbot.sandbox import Sandbox, lifecycle, reviews

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{9}$")


def test_json_has_the_xssi_prefix_and_pygerrit2_strips_it(
    gerrit: Sandbox, rest: GerritRestAPI
) -> None:
    """JSON bodies start with )]}' and a newline; pygerrit2 hands back the decoded value."""
    raw = requests.get(
        gerrit.url + "a/config/server/version", auth=("govbot", "govbot-demo"), timeout=5
    )
    assert raw.status_code == 200
    assert raw.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert raw.content.startswith(b")]}'\n")
    assert raw.content.endswith(b"\n")
    assert rest.get("/config/server/version") == gerrit.version


def test_wrong_password_is_401_with_basic_challenge(gerrit: Sandbox) -> None:
    """A bad HTTP password on /a/ is a 401 naming Gerrit's Basic realm."""
    bad = client(gerrit, "govbot", "not-the-password")
    with pytest.raises(requests.HTTPError) as caught:
        bad.get("/accounts/self")
    response = caught.value.response
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Gerrit Code Review"'
    assert gerrit.requests[-1].status == 401
    assert gerrit.requests[-1].account is None


def test_missing_credentials_on_authenticated_path_is_401(gerrit: Sandbox) -> None:
    response = requests.get(gerrit.url + "a/changes/", timeout=5)
    assert response.status_code == 401
    assert "WWW-Authenticate" in response.headers


def test_anonymous_reads_are_allowed_and_writes_refused(gerrit: Sandbox) -> None:
    """Without /a/ anonymous may read public changes; writes and `self` are 403."""
    change = new_change(gerrit)
    anonymous = GerritRestAPI(gerrit.url, auth=Anonymous())
    assert anonymous.get(f"/changes/{change.number}")["_number"] == change.number
    with pytest.raises(requests.HTTPError) as caught:
        anonymous.post(f"/changes/{change.number}/revisions/current/review", json={"message": "hi"})
    assert caught.value.response.status_code == 403
    assert caught.value.response.text == "Authentication required\n"
    with pytest.raises(requests.HTTPError) as caught:
        anonymous.get("/accounts/self")
    assert caught.value.response.status_code == 403


def test_errors_are_plain_text_with_a_newline(gerrit: Sandbox, rest: GerritRestAPI) -> None:
    with pytest.raises(requests.HTTPError) as caught:
        rest.get("/changes/4242")
    response = caught.value.response
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "text/plain; charset=UTF-8"
    assert response.text == "Not found: 4242\n"


def test_false_and_null_fields_are_omitted_and_times_are_gerrit_style(
    gerrit: Sandbox, rest: GerritRestAPI
) -> None:
    change = new_change(gerrit)
    info = rest.get(f"/changes/{change.number}")
    for absent in ("topic", "work_in_progress", "is_private", "_more_changes", "submitted"):
        assert absent not in info
    assert info["has_review_started"] is True
    assert info["_number"] == change.number
    assert info["id"] == f"demo%2Fapi~{change.number}"
    for key in ("created", "updated"):
        assert TIMESTAMP.match(info[key])
        assert info[key].endswith(".000000000")  # NoteDb keeps seconds
    assert parse_timestamp(info["created"]) == change.created


def test_all_change_id_forms_resolve_to_the_same_change(
    gerrit: Sandbox, rest: GerritRestAPI
) -> None:
    change = new_change(gerrit)
    forms = [
        str(change.number),
        change.change_id,
        f"demo%2Fapi~{change.number}",
        f"demo%2Fapi~master~{change.change_id}",
    ]
    assert {rest.get(f"/changes/{form}")["_number"] for form in forms} == {change.number}


def test_all_revision_id_forms_resolve(gerrit: Sandbox, rest: GerritRestAPI) -> None:
    change = new_change(gerrit)
    lifecycle.add_patchset(gerrit, change, {"README.rst": "Pets, v2\n"})
    first, second = change.patch_sets
    base = f"/changes/{change.number}/revisions"
    assert rest.get(f"{base}/current/commit")["commit"] == second.sha
    assert rest.get(f"{base}/1/commit")["commit"] == first.sha
    assert rest.get(f"{base}/{first.sha}/commit")["commit"] == first.sha
    assert rest.get(f"{base}/{first.sha[:7]}/commit")["commit"] == first.sha
    with pytest.raises(requests.HTTPError) as caught:
        rest.get(f"{base}/3/commit")
    assert caught.value.response.status_code == 404


def test_request_body_must_be_json(gerrit: Sandbox) -> None:
    change = new_change(gerrit)
    url = f"{gerrit.url}a/changes/{change.number}/revisions/current/review"
    auth = ("govbot", "govbot-demo")
    wrong_type = requests.post(
        url,
        data="message=hi",
        auth=auth,
        timeout=5,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (wrong_type.status_code, wrong_type.text) == (
        400,
        "Expected Content-Type: application/json\n",
    )
    broken = requests.post(
        url, data="{not json", auth=auth, timeout=5, headers={"Content-Type": "application/json"}
    )
    assert (broken.status_code, broken.text) == (400, "Invalid application/json in request\n")


def test_unknown_review_fields_are_ignored(gerrit: Sandbox, rest: GerritRestAPI) -> None:
    change = new_change(gerrit)
    rest.post(
        f"/changes/{change.number}/revisions/current/review",
        json={
            "message": "ok",
            "robot_comments": {SPEC: [{"line": 1, "message": "x"}]},
            "strict_labels": True,
        },
    )
    assert change.messages[-1].message == "Patch Set 1:\n\nok"
    assert change.comments == []  # robot comments are gone since Gerrit 3.13


def test_file_content_is_base64_text_or_a_json_string(gerrit: Sandbox, rest: GerritRestAPI) -> None:
    """Gerrit's two encodings: base64 by default, a JSON string for Accept: application/json."""
    change = new_change(gerrit)
    path = f"a/changes/{change.number}/revisions/current/files/api-specs%2Fpets.yaml/content"
    auth = ("govbot", "govbot-demo")
    plain = requests.get(gerrit.url + path, auth=auth, headers={"Accept": "*/*"}, timeout=5)
    assert plain.headers["X-FYI-Content-Encoding"] == "base64"
    assert plain.headers["Content-Type"] == "text/plain; charset=ISO-8859-1"
    assert base64.b64decode(plain.content).decode() == change.current.files[SPEC].decode()
    # pygerrit2 always sends Accept: application/json, so it gets the text itself.
    text = rest.get(
        f"/changes/{change.number}/revisions/current/files/api-specs%2Fpets.yaml/content"
    )
    assert text == change.current.files[SPEC].decode()
    before = rest.get(
        f"/changes/{change.number}/revisions/current/files/api-specs%2Fpets.yaml/content",
        params={"parent": 1},
    )
    assert before == gerrit.projects[PROJECT].trees[change.current.parent_sha][SPEC].decode()


def test_files_list_includes_commit_msg_and_omits_modified_status(
    gerrit: Sandbox, rest: GerritRestAPI
) -> None:
    change = new_change(
        gerrit, files={SPEC: "openapi: 3.1.0\n", "docs/new.rst": "New\n", "README.rst": None}
    )
    files = rest.get(f"/changes/{change.number}/revisions/current/files/")
    assert list(files) == ["/COMMIT_MSG", "README.rst", SPEC, "docs/new.rst"]
    assert files["/COMMIT_MSG"]["status"] == "A"
    assert files["docs/new.rst"]["status"] == "A"
    assert files["README.rst"]["status"] == "D"
    assert "status" not in files[SPEC]
    assert files[SPEC]["lines_deleted"] > 0


def test_parsed_by_govbots_model(gerrit: Sandbox, rest: GerritRestAPI) -> None:
    """The sandbox's richest ChangeInfo parses with govbot.gerrit.changes."""
    change = new_change(gerrit, topic="bp/pets")
    reviews.vote(gerrit, change, "dave", "Code-Review", 2, message="Nice")
    data = rest.get(
        f"/changes/{change.number}/detail",
        params={"o": ["CURRENT_REVISION", "CURRENT_COMMIT", "CURRENT_FILES"]},
    )
    info = ChangeInfo.from_json(data)
    assert info.number == change.number and info.topic == "bp/pets"
    assert info.current is not None and info.current.sha == change.current.sha
    assert info.current.commit is not None
    assert info.current.commit.message.endswith(f"Change-Id: {change.change_id}\n")
    assert SPEC in info.current.files
    assert info.labels["Code-Review"].approved is not None
    assert info.labels["Code-Review"].vote_of(gerrit.account("dave").id) == 2
    assert [m.message for m in info.messages][-1] == "Patch Set 1: Code-Review+2\n\nNice"
