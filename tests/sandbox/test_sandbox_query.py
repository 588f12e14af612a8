"""GET /changes/?q=: the operators govbot uses, paging with S= and _more_changes, o= options."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from gerrit_support import PROJECT, SPEC, client, new_change
from pygerrit2 import GerritRestAPI

from govbot.gerrit.changes import parse_change_list
from govbot.gerrit.scalars import format_timestamp
from govbot.sandbox import Sandbox, lifecycle, people, reviews


def numbers(rest: GerritRestAPI, query: str, **params: object) -> list[int]:
    return [c["_number"] for c in rest.get("/changes/", params={"q": query, **params})]


@pytest.fixture
def seven(gerrit: Sandbox) -> list[int]:
    """Seven open changes updated 7h, 6h ... 1h ago (change 1 is the oldest)."""
    return [new_change(gerrit, f"change {i}", hours_ago=8 - i).number for i in range(1, 8)]


def test_paging_with_start_and_more_changes(
    gerrit: Sandbox, rest: GerritRestAPI, seven: list[int]
) -> None:
    """Pages of n=3 come newest first; only the last item of a non-final page is flagged."""
    seen: list[int] = []
    flags: list[list[bool]] = []
    while True:
        page = rest.get("/changes/", params={"q": "status:open", "n": 3, "S": len(seen)})
        seen += [c["_number"] for c in page]
        flags.append([c.get("_more_changes", False) for c in page])
        if not page or not page[-1].get("_more_changes"):
            break
    assert seen == list(reversed(seven))
    assert flags == [[False, False, True], [False, False, True], [False]]
    assert parse_change_list(page)[-1].more_changes is False


def test_server_query_limit_applies_without_n(
    gerrit: Sandbox, rest: GerritRestAPI, seven: list[int]
) -> None:
    gerrit.query_limit = 5
    page = rest.get("/changes/", params={"q": "status:open"})
    assert len(page) == 5 and page[-1]["_more_changes"] is True
    assert numbers(rest, "status:open limit:2") == [7, 6]


def test_negative_start_is_400(gerrit: Sandbox, rest: GerritRestAPI) -> None:
    with pytest.raises(requests.HTTPError) as caught:
        rest.get("/changes/", params={"q": "status:open", "S": -1})
    assert caught.value.response.status_code == 400
    assert "'start' parameter cannot be less than zero" in caught.value.response.text


def test_after_since_before_and_age(gerrit: Sandbox, rest: GerritRestAPI, seven: list[int]) -> None:
    """after:/since: and before: are inclusive on `updated`; age: is "not updated for"."""
    cutoff = format_timestamp(gerrit.now() - timedelta(hours=3))
    assert numbers(rest, f'status:open after:"{cutoff}"') == [7, 6, 5]
    assert numbers(rest, f'since:"{cutoff[:19]}"') == [7, 6, 5]
    assert numbers(rest, f'before:"{cutoff}"') == [5, 4, 3, 2, 1]
    assert numbers(rest, "age:4h") == [4, 3, 2, 1]
    assert numbers(rest, "-age:4h") == [7, 6, 5]
    day = (gerrit.now() - timedelta(days=1)).strftime("%Y-%m-%d")
    assert numbers(rest, f"after:{day}") == [7, 6, 5, 4, 3, 2, 1]


def test_a_write_moves_a_change_to_the_front(
    gerrit: Sandbox, rest: GerritRestAPI, seven: list[int]
) -> None:
    reviews.add_message(gerrit, 1, "dave", "Any news?")
    assert numbers(rest, "status:open")[0] == 1
    assert numbers(rest, f'after:"{format_timestamp(gerrit.now())}"') == [1]


def test_status_wip_private_and_negation(gerrit: Sandbox, rest: GerritRestAPI) -> None:
    ready = new_change(gerrit, "ready").number
    wip = new_change(gerrit, "wip", wip=True).number
    private = new_change(gerrit, "private", private=True).number
    merged = new_change(gerrit, "merged").number
    lifecycle.merge(gerrit, merged)
    abandoned = new_change(gerrit, "abandoned").number
    lifecycle.abandon(gerrit, abandoned)
    assert set(numbers(rest, "status:open")) == {ready, wip}  # the bot can't see the private one
    assert numbers(rest, "status:open -is:wip") == [ready]
    assert numbers(rest, "is:wip") == [wip]
    assert numbers(rest, "status:merged") == [merged]
    assert set(numbers(rest, "is:closed")) == {merged, abandoned}
    assert numbers(rest, "status:open NOT is:wip") == [ready]
    owner = client(gerrit, "alice", "alice-pw")
    assert numbers(owner, "is:private") == [private]
    people.add_reviewer(gerrit, private, "govbot")
    assert numbers(rest, "is:private") == [private]


def test_project_branch_topic_owner_and_number(gerrit: Sandbox, rest: GerritRestAPI) -> None:
    lifecycle.add_project(gerrit, "demo/other", {"x.txt": "x\n"})
    mine = new_change(gerrit, "spec", topic="bp/pets").number
    other = lifecycle.create_change(
        gerrit, "demo/other", subject="other", files={"x.txt": "y\n"}, owner="erin"
    ).number
    assert numbers(rest, f"project:{PROJECT}") == [mine]
    assert numbers(rest, "project:^demo/.*") == [other, mine]
    assert numbers(rest, "projects:demo/o") == [other]
    assert numbers(rest, "branch:master topic:bp/pets") == [mine]
    assert numbers(rest, "owner:erin") == [other]
    assert numbers(rest, "owner:alice@example.org") == [mine]
    assert numbers(rest, str(other)) == [other]
    assert numbers(rest, f"change:{mine}") == [mine]
    assert numbers(rest, "(project:demo/other OR topic:bp/pets) -owner:erin") == [mine]


def test_file_and_path_operators(gerrit: Sandbox, rest: GerritRestAPI) -> None:
    spec = new_change(gerrit, "spec").number
    docs = new_change(gerrit, "docs", files={"docs/guide.rst": "Guide\n"}).number
    assert numbers(rest, "file:pets.yaml") == [spec]  # a path component
    assert numbers(rest, f"file:{SPEC}") == [spec]
    assert numbers(rest, "file:api-specs") == [spec]
    assert numbers(rest, 'path:"^api-specs/.*\\.ya?ml"') == [spec]
    assert numbers(rest, "file:^docs/.*") == [docs]
    assert numbers(rest, f"path:{SPEC}") == [spec]
    assert numbers(rest, "path:pets.yaml") == []  # path: is the whole path
    assert numbers(rest, "ext:yaml") == [spec]
    assert numbers(rest, "directory:docs") == [docs]


def test_people_and_label_operators(gerrit: Sandbox, rest: GerritRestAPI) -> None:
    voted = new_change(gerrit, "voted").number
    quiet = new_change(gerrit, "quiet").number
    reviews.vote(gerrit, voted, "dave", "Code-Review", -1)
    people.add_reviewer(gerrit, quiet, "erin")
    assert numbers(rest, "reviewer:dave") == [voted]
    assert numbers(rest, "attention:erin") == [quiet]
    assert numbers(rest, "label:Code-Review=-1") == [voted]
    assert numbers(rest, "label:Code-Review<=-1,user=dave") == [voted]
    assert numbers(rest, "label:Code-Review=MIN") == []
    assert numbers(rest, "reviewedby:dave") == [voted]
    assert numbers(rest, "is:reviewed") == [voted]


def test_unknown_operator_and_bad_syntax_are_400(gerrit: Sandbox, rest: GerritRestAPI) -> None:
    for query in ("frobnicate:yes", "(status:open", "status:open OR"):
        with pytest.raises(requests.HTTPError) as caught:
            rest.get("/changes/", params={"q": query})
        assert caught.value.response.status_code == 400, query


def test_several_queries_give_a_list_of_lists(gerrit: Sandbox, rest: GerritRestAPI) -> None:
    first = new_change(gerrit, "a").number
    second = new_change(gerrit, "b", wip=True).number
    result = rest.get("/changes/", params={"q": ["-is:wip", "is:wip"]})
    assert [[c["_number"] for c in page] for page in result] == [[first], [second]]


def test_options_shape_the_output(gerrit: Sandbox, rest: GerritRestAPI) -> None:
    change = new_change(gerrit)
    lifecycle.add_patchset(gerrit, change, {"README.rst": "Pets 2\n"})
    reviews.vote(gerrit, change, "zuul", "Verified", 1, tag="autogenerated:zuul:check")

    def get(*options: str) -> dict:
        return rest.get("/changes/", params={"q": str(change.number), "o": list(options)})[0]

    bare = get()
    for key in ("revisions", "current_revision", "labels", "messages", "reviewers"):
        assert key not in bare
    assert bare["owner"] == {"_account_id": gerrit.account("alice").id}
    assert bare["current_revision_number"] == 2
    current = get("CURRENT_REVISION", "CURRENT_FILES", "CURRENT_COMMIT")
    assert list(current["revisions"]) == [change.current.sha]
    revision = current["revisions"][change.current.sha]
    assert revision["ref"] == f"refs/changes/{change.number:02d}/{change.number}/2"
    assert "/COMMIT_MSG" not in revision["files"] and SPEC in revision["files"]
    assert revision["commit"]["parents"][0]["commit"] == change.current.parent_sha
    everything = get("ALL_REVISIONS", "DETAILED_ACCOUNTS", "DETAILED_LABELS", "MESSAGES")
    assert len(everything["revisions"]) == 2
    assert "files" not in everything["revisions"][change.current.sha]
    assert everything["owner"]["username"] == "alice"
    verified = everything["labels"]["Verified"]
    assert verified["approved"]["tags"] == ["SERVICE_USER"]
    assert verified["values"] == {"-1": "Fails", " 0": "No score", "+1": "Verified"}
    assert {a["username"]: a["value"] for a in verified["all"]} == {"zuul": 1}
    assert [m["tag"] for m in everything["messages"]] == [
        "autogenerated:gerrit:newPatchSet",
        "autogenerated:gerrit:newPatchSet",
        "autogenerated:zuul:check",
    ]
    assert "insertions" in bare and "insertions" not in get("SKIP_DIFFSTAT")
    with pytest.raises(requests.HTTPError) as caught:
        get("NO_SUCH_OPTION")
    assert caught.value.response.status_code == 400
