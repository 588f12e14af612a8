"""Changes: REST ``ChangeInfo`` (or a ``ChangeAttribute`` of events and SSH queries) and
the pages of a query."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from govbot.gerrit.accounts import AccountInfo, account_or_none
from govbot.gerrit.errors import GerritDataError
from govbot.gerrit.reviews import (
    AttentionSetInfo,
    ChangeMessageInfo,
    LabelInfo,
    ReviewerUpdateInfo,
)
from govbot.gerrit.revisions import RevisionInfo
from govbot.gerrit.scalars import (
    as_bool,
    as_int,
    as_list,
    as_mapping,
    as_str,
    frozen,
    no_mapping,
    parse_timestamp,
    required_int,
    required_str,
)

# How far before a cursor's last "updated" a query reads again: Gerrit's ``after:`` and
# ``-age:`` have one-second resolution, and a change can be updated twice in a second.
CURSOR_OVERLAP = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class ChangeInfo:
    """A change, from REST ``ChangeInfo`` or from a ``ChangeAttribute`` (events, SSH query).

    ``revisions`` holds what the server sent (``CURRENT_REVISION``, ``ALL_REVISIONS``, or the
    ``currentPatchSet``/``patchSets`` of the query shape); ``current`` picks the current one.
    """

    number: int
    project: str
    branch: str
    change_id: str
    subject: str = ""
    status: str = "NEW"  # NEW | MERGED | ABANDONED
    created: datetime | None = None
    updated: datetime | None = None
    id: str | None = None
    triplet_id: str | None = None
    topic: str | None = None
    hashtags: tuple[str, ...] = ()
    submitted: datetime | None = None
    submitter: AccountInfo | None = None
    owner: AccountInfo | None = None
    insertions: int | None = None
    deletions: int | None = None
    total_comment_count: int | None = None
    unresolved_comment_count: int | None = None
    has_review_started: bool = False
    work_in_progress: bool = False
    is_private: bool = False
    mergeable: bool | None = None
    labels: Mapping[str, LabelInfo] = field(default_factory=no_mapping)
    reviewers: Mapping[str, tuple[AccountInfo, ...]] = field(
        default_factory=no_mapping
    )  # REVIEWER / CC / REMOVED
    reviewer_updates: tuple[ReviewerUpdateInfo, ...] = ()
    attention_set: Mapping[int, AttentionSetInfo] = field(default_factory=no_mapping)
    messages: tuple[ChangeMessageInfo, ...] = ()
    current_revision: str | None = None
    current_revision_number: int | None = None
    revisions: Mapping[str, RevisionInfo] = field(default_factory=no_mapping)
    more_changes: bool = False
    sortkey: str | None = None  # pre-2.9 servers
    url: str | None = None  # query/event shape only

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChangeInfo:
        """Parse REST ``ChangeInfo``; a ``ChangeAttribute`` (no ``_number``) is accepted too."""
        data = as_mapping(data, "change")
        if "_number" not in data and "number" in data:
            return cls.from_attribute(data)
        revisions, current, current_number = _revisions(data)
        reviewers = _reviewers(data)
        attention = _attention_set(data)
        mergeable = data.get("mergeable")
        return cls(
            number=required_int(data, "_number"),
            project=required_str(data, "project"),
            branch=required_str(data, "branch"),
            change_id=as_str(data.get("change_id")) or "",
            subject=as_str(data.get("subject")) or "",
            status=as_str(data.get("status")) or "NEW",
            created=parse_timestamp(data.get("created")),
            updated=parse_timestamp(data.get("updated")),
            id=as_str(data.get("id")),
            triplet_id=as_str(data.get("triplet_id")),
            topic=as_str(data.get("topic")),
            hashtags=tuple(str(h) for h in as_list(data.get("hashtags"), "hashtags")),
            submitted=parse_timestamp(data.get("submitted")),
            submitter=account_or_none(data.get("submitter")),
            owner=account_or_none(data.get("owner")),
            insertions=as_int(data.get("insertions"), "insertions"),
            deletions=as_int(data.get("deletions"), "deletions"),
            total_comment_count=as_int(data.get("total_comment_count"), "total_comment_count"),
            unresolved_comment_count=as_int(
                data.get("unresolved_comment_count"), "unresolved_comment_count"
            ),
            has_review_started=as_bool(data.get("has_review_started")),
            work_in_progress=as_bool(data.get("work_in_progress")),
            is_private=as_bool(data.get("is_private")),
            mergeable=None if mergeable is None else as_bool(mergeable),
            labels=_labels(data),
            reviewers=frozen(reviewers),
            reviewer_updates=tuple(
                ReviewerUpdateInfo.from_json(u)
                for u in as_list(data.get("reviewer_updates"), "reviewer_updates")
            ),
            attention_set=frozen(attention),
            messages=tuple(
                ChangeMessageInfo.from_json(m) for m in as_list(data.get("messages"), "messages")
            ),
            current_revision=current,
            current_revision_number=current_number,
            revisions=frozen(revisions),
            more_changes=as_bool(data.get("_more_changes")),
            sortkey=as_str(data.get("_sortkey")),
        )

    @classmethod
    def from_attribute(cls, data: Mapping[str, Any]) -> ChangeInfo:
        """Parse a ``ChangeAttribute``: stream events' ``change`` and ``gerrit query`` lines."""
        data = as_mapping(data, "change")
        message = as_str(data.get("commitMessage"))
        revisions: dict[str, RevisionInfo] = {}
        for ps in as_list(data.get("patchSets"), "patchSets"):
            revision = RevisionInfo.from_attribute(ps)
            revisions[revision.sha] = revision
        current = None
        current_number = None
        if data.get("currentPatchSet"):
            revision = RevisionInfo.from_attribute(data["currentPatchSet"], message)
            revisions[revision.sha] = revision
            current, current_number = revision.sha, revision.number
        status = as_str(data.get("status"))
        if status is None:
            status = "NEW" if as_bool(data.get("open", True)) else "MERGED"
        return cls(
            number=required_int(data, "number"),
            project=required_str(data, "project"),
            branch=required_str(data, "branch"),
            change_id=as_str(data.get("id")) or "",
            subject=as_str(data.get("subject")) or "",
            status=status,
            created=parse_timestamp(data.get("createdOn")),
            updated=parse_timestamp(data.get("lastUpdated")),
            topic=as_str(data.get("topic")),
            hashtags=tuple(str(h) for h in as_list(data.get("hashtags"), "hashtags")),
            owner=account_or_none(data.get("owner")),
            work_in_progress=as_bool(data.get("wip")),
            is_private=as_bool(data.get("private")),
            current_revision=current,
            current_revision_number=current_number,
            revisions=frozen(revisions),
            sortkey=as_str(data.get("sortKey")),
            url=as_str(data.get("url")),
        )

    @property
    def is_open(self) -> bool:
        return self.status == "NEW"

    @property
    def current(self) -> RevisionInfo | None:
        """The current revision, if the response included it."""
        if self.current_revision is not None:
            return self.revisions.get(self.current_revision)
        if self.current_revision_number is not None:
            for revision in self.revisions.values():
                if revision.number == self.current_revision_number:
                    return revision
        return None

    def revision(self, number: int) -> RevisionInfo | None:
        """The revision of patch set ``number``, if the response included it."""
        for revision in self.revisions.values():
            if revision.number == number:
                return revision
        return None


def _revisions(
    data: Mapping[str, Any],
) -> tuple[dict[str, RevisionInfo], str | None, int | None]:
    """A REST change's revisions, its current revision's SHA and patch set number."""
    revisions = {
        sha: RevisionInfo.from_json(sha, rev)
        for sha, rev in as_mapping(data.get("revisions"), "revisions").items()
    }
    current = as_str(data.get("current_revision"))
    current_number = as_int(data.get("current_revision_number"), "current_revision_number")
    if current_number is None and current in revisions:
        current_number = revisions[current].number
    return revisions, current, current_number


def _reviewers(data: Mapping[str, Any]) -> dict[str, tuple[AccountInfo, ...]]:
    return {
        state: tuple(AccountInfo.from_json(a) for a in as_list(accounts, f"reviewers {state}"))
        for state, accounts in as_mapping(data.get("reviewers"), "reviewers").items()
    }


def _attention_set(data: Mapping[str, Any]) -> dict[int | None, AttentionSetInfo]:
    attention = {}
    for key, entry in as_mapping(data.get("attention_set"), "attention_set").items():
        info = AttentionSetInfo.from_json(entry)
        account_id = info.account.account_id
        attention[account_id if account_id is not None else as_int(key, "attention_set")] = info
    return attention


def _labels(data: Mapping[str, Any]) -> Mapping[str, LabelInfo]:
    return frozen(
        {
            name: LabelInfo.from_json(name, info)
            for name, info in as_mapping(data.get("labels"), "labels").items()
        }
    )


def parse_change_list(data: object) -> list[ChangeInfo]:
    """A query page (``GET /changes/?q=``): a list of ``ChangeInfo``.

    Whether more pages exist is ``changes[-1].more_changes``.
    """
    return [ChangeInfo.from_json(item) for item in as_list(data, "changes")]


@dataclass(frozen=True, slots=True)
class QueryStats:
    """The closing ``{"type":"stats",...}`` line of ``gerrit query --format json``."""

    row_count: int
    run_time_ms: int | None = None
    more_changes: bool | None = None  # absent on servers before 2.9


def parse_ssh_query(text: str) -> tuple[list[ChangeInfo], QueryStats | None]:
    """Output of ``gerrit query --format json``: one JSON object per line, then stats.

    Lines that are not JSON objects (a recorded command line, blank lines) are skipped.
    """
    changes: list[ChangeInfo] = []
    stats = None
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        data = json.loads(line)
        if data.get("type") == "stats":
            more = data.get("moreChanges")
            stats = QueryStats(
                row_count=as_int(data.get("rowCount"), "rowCount") or 0,
                run_time_ms=as_int(data.get("runTimeMilliseconds"), "runTimeMilliseconds"),
                more_changes=None if more is None else as_bool(more),
            )
        elif data.get("type") == "error":
            raise GerritDataError(f"gerrit query error: {data.get('message')}")
        else:
            changes.append(ChangeInfo.from_attribute(data))
    return changes, stats
