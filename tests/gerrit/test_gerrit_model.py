"""govbot.gerrit's typed views read Gerrit's JSON: old (2.x) captures and current 3.x shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from govbot.gerrit.accounts import AccountInfo
from govbot.gerrit.changes import ChangeInfo, parse_change_list, parse_ssh_query
from govbot.gerrit.errors import GerritDataError
from govbot.gerrit.events import GerritEvent, parse_events
from govbot.gerrit.reviews import CommentInfo, parse_comment_map
from govbot.gerrit.scalars import format_timestamp, parse_timestamp, strip_xssi

DATA = Path(__file__).resolve().parent.parent / "data" / "gerrit"
SSH = DATA / "opendev-gerrit-query-ssh"


# --- timestamps ----------------------------------------------------------------------------


def test_rest_timestamps_are_utc_with_nanoseconds_truncated() -> None:
    parsed = parse_timestamp("2013-02-21 11:16:36.775123456")
    assert parsed == datetime(2013, 2, 21, 11, 16, 36, 775123, tzinfo=UTC)
    assert parse_timestamp("2026-11-21 20:44:01.000000000") == datetime(
        2026, 11, 21, 20, 44, 1, tzinfo=UTC
    )


def test_event_epoch_seconds_and_iso_forms() -> None:
    assert parse_timestamp(1389371115) == datetime(2014, 1, 10, 16, 25, 15, tzinfo=UTC)
    assert parse_timestamp("1389371115") == parse_timestamp(1389371115)
    assert parse_timestamp("2026-11-21T22:44:01+02:00") == datetime(
        2026, 11, 21, 20, 44, 1, tzinfo=UTC
    )
    assert parse_timestamp(None) is None and parse_timestamp("") is None


def test_format_round_trips() -> None:
    text = "2014-08-08 21:06:08.835000000"
    assert format_timestamp(parse_timestamp(text)) == text
    with pytest.raises(ValueError):
        format_timestamp(datetime(2026, 1, 1))  # naive


@pytest.mark.parametrize("bad", ["yesterday", "2026-13", True, [1]])
def test_bad_timestamps_raise(bad: object) -> None:
    with pytest.raises(GerritDataError):
        parse_timestamp(bad)


def test_strip_xssi() -> None:
    assert strip_xssi(")]}'\n[1]\n") == "[1]\n"
    assert json.loads(strip_xssi(')]}\'\n"3.13.1"')) == "3.13.1"
    assert strip_xssi("[]") == "[]"


# --- corpus: real captures -----------------------------------------------------------------


def test_2014_rest_query_result() -> None:
    """Gerrit 2.8 era ChangeInfo: kind, _sortkey, triplet id, name-only owner."""
    [change] = parse_change_list(
        json.loads((DATA / "openstack-rest-changes-query-2014.json").read_text())
    )
    assert change.number == 113009
    assert change.project == "openstack/neutron"
    assert change.id == "openstack%2Fneutron~master~Iefb30452083747b45496600c81f8d0a6f378bd08"
    assert change.change_id == "Iefb30452083747b45496600c81f8d0a6f378bd08"
    assert change.sortkey == "002ef9920001b971"
    assert change.mergeable is False
    assert change.topic == "bug/1288393"
    assert change.updated == datetime(2014, 8, 8, 21, 6, 8, 835000, tzinfo=UTC)
    assert change.owner == AccountInfo(name="Britt Houser")
    assert change.is_open and not change.more_changes and change.current is None


def test_2014_stream_events() -> None:
    events = parse_events((DATA / "openstack-stream-events-comment-added-2014.json").read_text())
    assert len(events) == 11
    assert {e.type for e in events} == {"comment-added"}
    first = events[0]
    assert first.change_number == 60244  # a string on 2.x servers
    assert first.patch_set_number == 12
    assert first.patch_set.ref == "refs/changes/44/60244/12"
    assert first.project == "openstack/keystone"
    assert first.actor.username == "jenkins"
    assert first.change.topic == "bp/mapping"
    assert first.change.url == "https://review.openstack.org/60244"
    assert [(a.label, a.value, a.description) for a in first.approvals] == [("VRIF", 1, "Verified")]
    assert first.created_on == datetime(2014, 1, 10, 16, 25, 15, tzinfo=UTC)
    assert first.comment.startswith("Build succeeded.")
    assert first.dedup_key == ("comment-added", 60244, 12, 1389371115)
    assert all(e.change is not None and e.patch_set is not None for e in events)


@pytest.mark.parametrize(
    ("name", "count", "more"),
    [
        ("simple_query_pagination_new_1.txt", 3, True),
        ("simple_query_pagination_new_2.txt", 2, False),
        ("simple_query_pagination_old_1.txt", 3, None),
        ("simple_query_pagination_old_2.txt", 2, None),
        ("simple_query_pagination_old_3.txt", 0, None),
    ],
)
def test_ssh_query_pages(name: str, count: int, more: bool | None) -> None:
    changes, stats = parse_ssh_query((SSH / name).read_text())
    assert len(changes) == count
    assert stats is not None and stats.row_count == count and stats.more_changes is more


def test_ssh_query_change_details() -> None:
    changes, _ = parse_ssh_query((SSH / "simple_query_pagination_new_1.txt").read_text())
    first = changes[0]
    assert (first.number, first.status, first.is_open) == (202867, "MERGED", False)
    current = first.current
    assert current is not None and current.number == 11
    assert current.sha == "b2332081d8e0fda780bbc1f4dfd917f2546d1724"
    assert current.commit.parents[0].commit == "f8e892567ce2109651e52f721e3887016fca8dbe"
    assert current.commit.message.rstrip().endswith(
        "Depends-On: Ibca938fcf8a65facd7e39dab4eb994dfc637722a"
    )
    assert current.kind == "REWORK"
    code_review = [a for a in current.approvals if a.label == "Code-Review"]
    assert code_review and code_review[0].value == 2 and code_review[0].account.username
    assert all(c.current.size_deletions >= 0 for c in changes)  # old servers send negatives
    old, _ = parse_ssh_query((SSH / "simple_query_pagination_old_1.txt").read_text())
    assert old[-1].sortkey == "003766d3000328f6"


# --- current 3.x shapes --------------------------------------------------------------------

CURRENT_CHANGE = {
    "id": "api%2Fspecs~1001",
    "triplet_id": "api%2Fspecs~master~I0123456789abcdef0123456789abcdef01234567",
    "project": "api/specs",
    "branch": "master",
    "attention_set": {
        "1000096": {
            "account": {"_account_id": 1000096},
            "last_update": "2026-11-20 09:00:00.000000000",
            "reason": "<GERRIT_ACCOUNT_1000097> replied on the change",
            "reason_account": {"_account_id": 1000097},
        }
    },
    "hashtags": ["api"],
    "change_id": "I0123456789abcdef0123456789abcdef01234567",
    "subject": "Add /v2/users",
    "status": "NEW",
    "created": "2026-11-19 09:00:00.000000000",
    "updated": "2026-11-21 20:44:01.000000000",
    "insertions": 40,
    "deletions": 2,
    "total_comment_count": 2,
    "unresolved_comment_count": 1,
    "has_review_started": True,
    "_number": 1001,
    "virtual_id_number": 1001,
    "owner": {
        "_account_id": 1000096,
        "name": "Jane Roe",
        "email": "jane@example.com",
        "username": "jroe",
    },
    "labels": {
        "Code-Review": {
            "disliked": {"_account_id": 1000097},
            "value": -1,
            "all": [
                {
                    "value": -1,
                    "date": "2026-11-20 09:00:00.000000000",
                    "permitted_voting_range": {"min": -2, "max": 2},
                    "_account_id": 1000097,
                }
            ],
            "values": {
                "-2": "Do not submit",
                "-1": "No",
                " 0": "No score",
                "+1": "Ok",
                "+2": "Approved",
            },
            "default_value": 0,
        }
    },
    "reviewers": {
        "REVIEWER": [{"_account_id": 1000097}],
        "CC": [{"_account_id": 1000098, "tags": ["SERVICE_USER"]}],
    },
    "messages": [
        {
            "id": "a1",
            "author": {"_account_id": 1000096},
            "real_author": {"_account_id": 1000096},
            "date": "2026-11-19 09:00:00.000000000",
            "message": "Uploaded patch set 1.",
            "tag": "autogenerated:gerrit:newPatchSet",
            "_revision_number": 1,
        },
        {"id": "a2", "date": "2026-11-19 09:05:00.000000000", "message": "Change has been rebased"},
    ],
    "current_revision_number": 2,
    "current_revision": "c0ffee0000000000000000000000000000000002",
    "revisions": {
        "c0ffee0000000000000000000000000000000002": {
            "kind": "REWORK",
            "_number": 2,
            "created": "2026-11-21 20:44:01.000000000",
            "uploader": {"_account_id": 1000096},
            "ref": "refs/changes/01/1001/2",
            "fetch": {},
            "commit": {
                "parents": [
                    {"commit": "beef000000000000000000000000000000000000", "subject": "Base"}
                ],
                "author": {
                    "name": "Jane Roe",
                    "email": "jane@example.com",
                    "date": "2026-11-21 20:44:01.000000000",
                    "tz": 60,
                },
                "committer": {
                    "name": "Jane Roe",
                    "email": "jane@example.com",
                    "date": "2026-11-21 20:44:01.000000000",
                    "tz": 60,
                },
                "subject": "Add /v2/users",
                "message": "Add /v2/users\n\nChange-Id: I0123456789abcdef0123456789abcdef01234567\n",
            },
            "files": {
                "api/openapi.yaml": {
                    "lines_inserted": 40,
                    "lines_deleted": 2,
                    "size_delta": 900,
                    "size": 4000,
                },
                "api/new.yaml": {"status": "A", "lines_inserted": 3, "size_delta": 30, "size": 30},
            },
            "some_future_field": {"ignored": True},
        }
    },
    "requirements": [],
    "submit_records": [],
    "_more_changes": True,
}


def test_current_change_info() -> None:
    change = ChangeInfo.from_json(CURRENT_CHANGE)
    assert change.number == 1001 and change.more_changes
    assert change.updated == datetime(2026, 11, 21, 20, 44, 1, tzinfo=UTC)
    assert not change.work_in_progress and not change.is_private  # omitted when false
    assert change.owner.username == "jroe"
    current = change.current
    assert current is not None and current.number == 2 and current.ref == "refs/changes/01/1001/2"
    assert current.commit.parents[0].commit.startswith("beef")
    assert current.commit.author.tz == 60
    assert current.files["api/openapi.yaml"].status == "M"  # absent means modified
    assert current.files["api/new.yaml"].status == "A"
    assert change.revision(2) is current and change.revision(1) is None
    label = change.labels["Code-Review"]
    assert label.vote_of(1000097) == -1 and label.values[2] == "Approved"
    assert label.all[0].permitted_voting_range == (-2, 2)
    assert label.disliked.account_id == 1000097
    assert change.reviewers["CC"][0].is_service_user
    assert change.attention_set[1000096].reason_account.account_id == 1000097
    first, second = change.messages
    assert first.is_autogenerated and first.revision_number == 1 and first.real_author
    assert second.author is None and not second.is_autogenerated  # Gerrit's own message


def test_unknown_fields_are_ignored_and_required_ones_checked() -> None:
    minimal = {"_number": 7, "project": "p", "branch": "b", "whatever": [1, 2]}
    change = ChangeInfo.from_json(minimal)
    assert (change.number, change.subject, change.status, change.labels) == (7, "", "NEW", {})
    with pytest.raises(GerritDataError, match="_number"):
        ChangeInfo.from_json({"project": "p", "branch": "b"})
    with pytest.raises(GerritDataError):
        ChangeInfo.from_json({"_number": "seven", "project": "p", "branch": "b"})


def test_comment_map() -> None:
    comments = parse_comment_map(
        {
            "api/openapi.yaml": [
                {
                    "patch_set": 2,
                    "id": "c1",
                    "line": 42,
                    "message": "No 404.",
                    "unresolved": True,
                    "updated": "2026-11-21 20:44:01.000000000",
                    "author": {"_account_id": 9},
                    "tag": "autogenerated:govbot:api-review",
                    "commit_id": "c0ffee",
                },
                {
                    "patch_set": 2,
                    "id": "c2",
                    "range": {
                        "start_line": 1,
                        "start_character": 0,
                        "end_line": 2,
                        "end_character": 5,
                    },
                    "line": 2,
                    "in_reply_to": "c1",
                    "message": "Done",
                    "updated": "2026-11-21 20:45:01.000000000",
                },
            ]
        }
    )
    assert [c.path for c in comments] == ["api/openapi.yaml"] * 2
    assert comments[0].unresolved and not comments[1].unresolved
    assert comments[1].range.end_character == 5 and comments[1].in_reply_to == "c1"
    assert CommentInfo.from_json({"id": "x", "message": "m"}).side == "REVISION"


def test_current_stream_events() -> None:
    created = {
        "type": "patchset-created",
        "eventCreatedOn": 1714726800,
        "project": "api/specs",
        "refName": "refs/heads/master",
        "changeKey": {"id": "I0123"},
        "change": {
            "project": "api/specs",
            "branch": "master",
            "id": "I0123",
            "number": 1001,
            "subject": "Add /v2/users",
            "owner": {"username": "jroe"},
            "url": "https://x/1001",
            "commitMessage": "Add /v2/users\n\nChange-Id: I0123\n",
            "createdOn": 1714554000,
            "status": "NEW",
            "wip": True,
        },
        "patchSet": {
            "number": 2,
            "revision": "ab" * 20,
            "parents": ["cd" * 20],
            "ref": "refs/changes/01/1001/2",
            "uploader": {"username": "jroe"},
            "createdOn": 1714726800,
            "kind": "REWORK",
            "sizeInsertions": 40,
            "sizeDeletions": 2,
        },
        "uploader": {"username": "jroe", "email": "jane@example.com"},
    }
    wip = {
        "type": "wip-state-changed",
        "eventCreatedOn": 1714726900,
        "change": {**created["change"], "wip": False},
        "changer": {"username": "jroe"},
    }
    merged = {
        "type": "change-merged",
        "eventCreatedOn": 1714727000,
        "newRev": "ef" * 20,
        "change": created["change"],
        "patchSet": created["patchSet"],
        "submitter": {"username": "zuul"},
    }
    private = {
        "type": "private-state-changed",
        "change": created["change"],
        "changer": {"username": "jroe"},
    }
    abandoned = {
        "type": "change-abandoned",
        "change": created["change"],
        "abandoner": {"username": "jroe"},
        "reason": "dup",
    }
    text = "\n".join(json.dumps(e) for e in (created, wip, merged, private, abandoned))
    events = parse_events(text)
    assert [e.type for e in events] == [
        "patchset-created",
        "wip-state-changed",
        "change-merged",
        "private-state-changed",
        "change-abandoned",
    ]
    first = events[0]
    assert first.change.work_in_progress and first.patch_set.commit.parents[0].commit == "cd" * 20
    assert first.patch_set.commit.message.startswith("Add /v2/users")
    assert first.actor == AccountInfo(username="jroe", email="jane@example.com")
    assert first.actor.same_as(AccountInfo(username="jroe"))
    assert not events[1].change.work_in_progress and events[1].actor.username == "jroe"
    assert events[2].new_rev == "ef" * 20 and events[2].actor.username == "zuul"
    assert events[4].reason == "dup" and events[3].created_on is None
    assert (
        GerritEvent.from_json(
            {
                "type": "ref-updated",
                "refUpdate": {
                    "project": "p",
                    "refName": "refs/heads/main",
                    "oldRev": "0",
                    "newRev": "1",
                },
            }
        ).project
        == "p"
    )
