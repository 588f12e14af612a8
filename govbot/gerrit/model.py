"""Typed, read-only views of Gerrit's JSON, and the pure parsers that build them.

Two families of shapes reach govbot and both are accepted here:

* REST entities (``ChangeInfo``, ``RevisionInfo``, ...): integer ``_number``, timestamps as
  ``"2026-11-21 20:44:01.000000000"`` (UTC, nanoseconds), false/null fields omitted, the
  last item of a query page carrying ``_more_changes``. Old servers (2.8 era) add ``kind``
  and ``_sortkey`` and use the ``project~branch~Change-Id`` triplet as ``id``.
* stream events and ``gerrit query --format json`` lines (``ChangeAttribute``,
  ``PatchSetAttribute``...): camelCase, epoch seconds, and numbers that old servers send
  as strings (``"number": "60244"``, ``"value": "-1"``).

Unknown fields are ignored and missing optional ones get defaults, so a newer or older
Gerrit does not break parsing; a missing *required* field raises ``GerritDataError``.
Timestamps become timezone-aware UTC datetimes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

from govbot.errors import GerritError

XSSI_PREFIX = ")]}'"
# How far before a cursor's last "updated" a query reads again: Gerrit's ``after:`` and
# ``-age:`` have one-second resolution, and a change can be updated twice in a second.
CURSOR_OVERLAP = timedelta(minutes=2)
# Gerrit's change numbers are Java ints from 1 (and so is govbot's column): an event
# naming another number is not an event of any change.
MAX_CHANGE_NUMBER = 2**31 - 1

_EMPTY: Mapping[Any, Any] = MappingProxyType({})


def _no_mapping() -> Mapping[Any, Any]:
    return _EMPTY


class GerritDataError(GerritError):
    """Gerrit sent JSON that lacks a field govbot needs, or has one of the wrong type."""


# --- scalars -------------------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def strip_xssi(text: str) -> str:
    """Remove the ``)]}'`` line Gerrit puts before every JSON body (absent: unchanged)."""
    if text.startswith(XSSI_PREFIX):
        return text[len(XSSI_PREFIX) :].lstrip("\r\n")
    return text


def parse_timestamp(value: object) -> datetime | None:
    """A Gerrit time as an aware UTC datetime.

    Accepts REST strings (``2013-02-21 11:16:36.775000000``, nanoseconds truncated to
    microseconds), ISO 8601 with ``T``/offset, and epoch seconds as int, float or digit
    string (stream events). ``None`` and ``""`` give ``None``.
    """
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise GerritDataError(f"not a timestamp: {value!r}")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if not isinstance(value, str):
        raise GerritDataError(f"not a timestamp: {value!r}")
    text = value.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text), UTC)
    match = _TIMESTAMP.match(text)
    if match is None:
        raise GerritDataError(f"not a Gerrit timestamp: {value!r}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "").ljust(6, "0")[:6])
    zone_info = UTC
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:])
        zone_info = timezone(timedelta(minutes=minutes if zone[0] == "+" else -minutes))
    stamp = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second), micros, zone_info
    )
    return stamp.astimezone(UTC)


def format_timestamp(when: datetime) -> str:
    """``when`` as Gerrit writes it in REST JSON: UTC, space separator, nine fraction digits."""
    if when.tzinfo is None:
        raise ValueError("format_timestamp needs an aware datetime")
    utc = when.astimezone(UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S.") + f"{utc.microsecond * 1000:09d}"


def _int(value: object, what: str) -> int | None:
    """An integer that may arrive as a JSON number or a numeric string (``"12"``, ``"+1"``)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise GerritDataError(f"{what}: expected a number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise GerritDataError(f"{what}: expected a number, got {value!r}")


def _required_int(data: Mapping[str, Any], *keys: str) -> int:
    for key in keys:
        number = _int(data.get(key), key)
        if number is not None:
            return number
    raise GerritDataError(f"missing {' or '.join(keys)} in {_describe(data)}")


def _str(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise GerritDataError(f"expected a string, got {value!r}")


def _required_str(data: Mapping[str, Any], key: str) -> str:
    value = _str(data.get(key))
    if value is None:
        raise GerritDataError(f"missing {key} in {_describe(data)}")
    return value


def _bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if value is None:
        return _EMPTY
    if not isinstance(value, Mapping):
        raise GerritDataError(f"{what}: expected an object, got {type(value).__name__}")
    return value


def _list(value: object, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise GerritDataError(f"{what}: expected a list, got {type(value).__name__}")
    return value


def _describe(data: Mapping[str, Any]) -> str:
    keys = ", ".join(sorted(str(k) for k in data)[:8])
    return "{" + keys + ("..." if len(data) > 8 else "") + "}"


def _frozen(mapping: dict[Any, Any]) -> Mapping[Any, Any]:
    return MappingProxyType(mapping) if mapping else _EMPTY


# --- accounts ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """A Gerrit account: REST ``AccountInfo`` or a stream-event ``AccountAttribute``.

    Events carry no numeric id, only name/email/username, so ``account_id`` may be ``None``.
    """

    account_id: int | None = None
    name: str | None = None
    display_name: str | None = None
    email: str | None = None
    username: str | None = None
    tags: tuple[str, ...] = ()
    inactive: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AccountInfo:
        data = _mapping(data, "account")
        return cls(
            account_id=_int(data.get("_account_id"), "_account_id"),
            name=_str(data.get("name")),
            display_name=_str(data.get("display_name")),
            email=_str(data.get("email")),
            username=_str(data.get("username")) or None,
            tags=tuple(str(t) for t in _list(data.get("tags"), "tags")),
            inactive=_bool(data.get("inactive")),
        )

    @property
    def is_service_user(self) -> bool:
        """Member of Gerrit's "Service Users" group (shown only with detailed accounts)."""
        return "SERVICE_USER" in self.tags

    @property
    def label(self) -> str:
        """A human-readable name for logs and messages."""
        return (
            self.display_name
            or self.name
            or self.username
            or self.email
            or (f"account {self.account_id}" if self.account_id is not None else "Gerrit")
        )

    def same_as(self, other: AccountInfo | None) -> bool:
        """Whether both describe one account: by id when both have one, else username, else email."""
        if other is None:
            return False
        if self.account_id is not None and other.account_id is not None:
            return self.account_id == other.account_id
        if self.username and other.username:
            return self.username == other.username
        if self.email and other.email:
            return self.email.lower() == other.email.lower()
        return False


def _account(value: object) -> AccountInfo | None:
    return None if value is None else AccountInfo.from_json(_mapping(value, "account"))


# --- commits, files, revisions -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GitPersonInfo:
    name: str
    email: str
    date: datetime | None
    tz: int = 0  # minutes east of UTC

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GitPersonInfo:
        data = _mapping(data, "person")
        return cls(
            name=_str(data.get("name")) or "",
            email=_str(data.get("email")) or "",
            date=parse_timestamp(data.get("date")),
            tz=_int(data.get("tz"), "tz") or 0,
        )


@dataclass(frozen=True, slots=True)
class ParentCommit:
    commit: str
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """``CommitInfo``; ``commit`` is omitted by Gerrit when nested in a ``RevisionInfo``."""

    commit: str | None
    parents: tuple[ParentCommit, ...]
    subject: str
    message: str
    author: GitPersonInfo | None = None
    committer: GitPersonInfo | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CommitInfo:
        data = _mapping(data, "commit")
        parents = []
        for parent in _list(data.get("parents"), "parents"):
            if isinstance(parent, str):  # stream events list bare SHAs
                parents.append(ParentCommit(parent))
            else:
                parent = _mapping(parent, "parent")
                parents.append(
                    ParentCommit(_required_str(parent, "commit"), _str(parent.get("subject")))
                )
        message = _str(data.get("message")) or ""
        subject = _str(data.get("subject")) or message.split("\n", 1)[0]
        return cls(
            commit=_str(data.get("commit")),
            parents=tuple(parents),
            subject=subject,
            message=message,
            author=GitPersonInfo.from_json(data["author"]) if data.get("author") else None,
            committer=GitPersonInfo.from_json(data["committer"]) if data.get("committer") else None,
        )


@dataclass(frozen=True, slots=True)
class FileInfo:
    """One entry of a revision's file list. ``status`` is ``M`` when Gerrit omits it."""

    path: str
    status: str = "M"  # A added, D deleted, R renamed, C copied, W rewritten, M modified
    old_path: str | None = None
    binary: bool = False
    lines_inserted: int = 0
    lines_deleted: int = 0
    size_delta: int = 0
    size: int = 0

    @classmethod
    def from_json(cls, path: str, data: Mapping[str, Any]) -> FileInfo:
        data = _mapping(data, f"file {path}")
        return cls(
            path=path,
            status=_str(data.get("status")) or "M",
            old_path=_str(data.get("old_path")),
            binary=_bool(data.get("binary")),
            lines_inserted=_int(data.get("lines_inserted"), "lines_inserted") or 0,
            lines_deleted=_int(data.get("lines_deleted"), "lines_deleted") or 0,
            size_delta=_int(data.get("size_delta"), "size_delta") or 0,
            size=_int(data.get("size"), "size") or 0,
        )

    @property
    def is_magic(self) -> bool:
        """``/COMMIT_MSG``, ``/MERGE_LIST``, ``/PATCHSET_LEVEL``: not files of the tree."""
        return self.path.startswith("/")


def parse_file_map(data: Mapping[str, Any]) -> Mapping[str, FileInfo]:
    """The body of ``GET .../revisions/{rev}/files``: path -> ``FileInfo``."""
    files = {path: FileInfo.from_json(path, info) for path, info in _mapping(data, "files").items()}
    return _frozen(files)


@dataclass(frozen=True, slots=True)
class ApprovalInfo:
    """A vote. REST ``ApprovalInfo`` (account fields inline) or an event ``ApprovalAttribute``."""

    account: AccountInfo | None
    value: int | None
    label: str | None = None
    date: datetime | None = None
    tag: str | None = None
    permitted_voting_range: tuple[int, int] | None = None
    post_submit: bool = False
    description: str | None = None
    old_value: int | None = None  # events only: set when this event changed the vote

    @classmethod
    def from_json(cls, data: Mapping[str, Any], label: str | None = None) -> ApprovalInfo:
        data = _mapping(data, "approval")
        voting = data.get("permitted_voting_range")
        voting_range = None
        if voting:
            voting = _mapping(voting, "permitted_voting_range")
            voting_range = (
                _int(voting.get("min"), "min") or 0,
                _int(voting.get("max"), "max") or 0,
            )
        return cls(
            account=AccountInfo.from_json(data),
            value=_int(data.get("value"), "value"),
            label=label,
            date=parse_timestamp(data.get("date")),
            tag=_str(data.get("tag")),
            permitted_voting_range=voting_range,
            post_submit=_bool(data.get("post_submit")),
        )

    @classmethod
    def from_attribute(cls, data: Mapping[str, Any]) -> ApprovalInfo:
        """An ``ApprovalAttribute`` of stream events and ``gerrit query``."""
        data = _mapping(data, "approval")
        return cls(
            account=_account(data.get("by")),
            value=_int(data.get("value"), "value"),
            label=_str(data.get("type")),
            date=parse_timestamp(data.get("grantedOn")),
            description=_str(data.get("description")),
            old_value=_int(data.get("oldValue"), "oldValue"),
        )

    @property
    def changed(self) -> bool:
        """In an event: whether this event changed the vote (``oldValue`` present)."""
        return self.old_value is not None and self.old_value != self.value


@dataclass(frozen=True, slots=True)
class RevisionInfo:
    """A patch set. REST ``RevisionInfo`` (keyed by SHA) or an event ``PatchSetAttribute``."""

    sha: str
    number: int
    ref: str | None = None
    kind: str | None = None
    created: datetime | None = None
    uploader: AccountInfo | None = None
    real_uploader: AccountInfo | None = None
    commit: CommitInfo | None = None
    files: Mapping[str, FileInfo] = field(default_factory=_no_mapping)
    description: str | None = None
    # Only in query/event shapes, where votes hang off the patch set:
    approvals: tuple[ApprovalInfo, ...] = ()
    author: AccountInfo | None = None
    size_insertions: int | None = None
    size_deletions: int | None = None

    @classmethod
    def from_json(cls, sha: str, data: Mapping[str, Any]) -> RevisionInfo:
        data = _mapping(data, f"revision {sha}")
        return cls(
            sha=sha,
            number=_required_int(data, "_number"),
            ref=_str(data.get("ref")),
            kind=_str(data.get("kind")),
            created=parse_timestamp(data.get("created")),
            uploader=_account(data.get("uploader")),
            real_uploader=_account(data.get("real_uploader")),
            commit=CommitInfo.from_json(data["commit"]) if data.get("commit") else None,
            files=parse_file_map(data.get("files") or {}),
            description=_str(data.get("description")),
        )

    @classmethod
    def from_attribute(
        cls, data: Mapping[str, Any], commit_message: str | None = None
    ) -> RevisionInfo:
        """A ``PatchSetAttribute`` (``currentPatchSet`` / ``patchSet`` / ``patchSets[]``)."""
        data = _mapping(data, "patchSet")
        sha = _required_str(data, "revision")
        parents = tuple(ParentCommit(str(p)) for p in _list(data.get("parents"), "parents"))
        commit = None
        if parents or commit_message is not None:
            message = commit_message or ""
            commit = CommitInfo(
                commit=sha, parents=parents, subject=message.split("\n", 1)[0], message=message
            )
        files = {}
        for entry in _list(data.get("files"), "files"):
            entry = _mapping(entry, "file")
            path = _required_str(entry, "file")
            files[path] = FileInfo(
                path=path,
                status={"ADDED": "A", "DELETED": "D", "RENAMED": "R", "COPIED": "C"}.get(
                    _str(entry.get("type")) or "", "M"
                ),
                old_path=_str(entry.get("fileOld")),
                lines_inserted=_int(entry.get("insertions"), "insertions") or 0,
                lines_deleted=abs(_int(entry.get("deletions"), "deletions") or 0),
            )
        deletions = _int(data.get("sizeDeletions"), "sizeDeletions")
        return cls(
            sha=sha,
            number=_required_int(data, "number"),
            ref=_str(data.get("ref")),
            kind=_str(data.get("kind")),
            created=parse_timestamp(data.get("createdOn")),
            uploader=_account(data.get("uploader")),
            commit=commit,
            files=_frozen(files),
            approvals=tuple(
                ApprovalInfo.from_attribute(a) for a in _list(data.get("approvals"), "approvals")
            ),
            author=_account(data.get("author")),
            size_insertions=_int(data.get("sizeInsertions"), "sizeInsertions"),
            # Older servers report deletions as a negative number.
            size_deletions=abs(deletions) if deletions is not None else None,
        )


# --- labels, messages, comments, attention -------------------------------------------------


@dataclass(frozen=True, slots=True)
class LabelInfo:
    """One label of ``ChangeInfo.labels`` (``LABELS`` / ``DETAILED_LABELS``)."""

    name: str
    optional: bool = False
    approved: AccountInfo | None = None
    rejected: AccountInfo | None = None
    recommended: AccountInfo | None = None
    disliked: AccountInfo | None = None
    blocking: bool = False
    value: int | None = None
    default_value: int | None = None
    all: tuple[ApprovalInfo, ...] = ()
    values: Mapping[int, str] = field(
        default_factory=_no_mapping
    )  # {-1: "...", 0: "No score", 1: "..."}

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> LabelInfo:
        data = _mapping(data, f"label {name}")
        values = {}
        for key, text in _mapping(data.get("values"), "values").items():
            number = _int(key, f"label {name} value")
            if number is not None:
                values[number] = _str(text) or ""
        return cls(
            name=name,
            optional=_bool(data.get("optional")),
            approved=_account(data.get("approved")),
            rejected=_account(data.get("rejected")),
            recommended=_account(data.get("recommended")),
            disliked=_account(data.get("disliked")),
            blocking=_bool(data.get("blocking")),
            value=_int(data.get("value"), "value"),
            default_value=_int(data.get("default_value"), "default_value"),
            all=tuple(ApprovalInfo.from_json(a, name) for a in _list(data.get("all"), "all")),
            values=_frozen(values),
        )

    def vote_of(self, account_id: int) -> int | None:
        """The vote ``account_id`` holds on this label (``DETAILED_LABELS`` only)."""
        for approval in self.all:
            if approval.account is not None and approval.account.account_id == account_id:
                return approval.value
        return None


@dataclass(frozen=True, slots=True)
class ChangeMessageInfo:
    """A change message; ``author`` is ``None`` for messages Gerrit writes itself."""

    id: str
    message: str
    date: datetime | None
    author: AccountInfo | None = None
    real_author: AccountInfo | None = None
    tag: str | None = None
    revision_number: int | None = None
    accounts_in_message: tuple[AccountInfo, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChangeMessageInfo:
        data = _mapping(data, "message")
        return cls(
            id=_required_str(data, "id"),
            message=_str(data.get("message")) or "",
            date=parse_timestamp(data.get("date")),
            author=_account(data.get("author")),
            real_author=_account(data.get("real_author")),
            tag=_str(data.get("tag")),
            revision_number=_int(data.get("_revision_number"), "_revision_number"),
            accounts_in_message=tuple(
                AccountInfo.from_json(a)
                for a in _list(data.get("accounts_in_message"), "accounts_in_message")
            ),
        )

    @property
    def is_autogenerated(self) -> bool:
        """Tagged ``autogenerated:...``: bot or Gerrit output, hidden by the UI's filter."""
        return self.tag is not None and self.tag.startswith("autogenerated:")


@dataclass(frozen=True, slots=True)
class CommentRange:
    start_line: int
    start_character: int
    end_line: int
    end_character: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CommentRange:
        data = _mapping(data, "range")
        return cls(
            start_line=_int(data.get("start_line"), "start_line") or 0,
            start_character=_int(data.get("start_character"), "start_character") or 0,
            end_line=_int(data.get("end_line"), "end_line") or 0,
            end_character=_int(data.get("end_character"), "end_character") or 0,
        )


@dataclass(frozen=True, slots=True)
class CommentInfo:
    """A published inline (or file-level, or patch-set-level) comment."""

    id: str
    path: str | None
    message: str
    updated: datetime | None = None
    author: AccountInfo | None = None
    patch_set: int | None = None
    side: str = "REVISION"
    parent: int | None = None
    line: int | None = None
    range: CommentRange | None = None
    in_reply_to: str | None = None
    tag: str | None = None
    unresolved: bool = False
    change_message_id: str | None = None
    commit_id: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], path: str | None = None) -> CommentInfo:
        data = _mapping(data, "comment")
        return cls(
            id=_required_str(data, "id"),
            path=_str(data.get("path")) or path,
            message=_str(data.get("message")) or "",
            updated=parse_timestamp(data.get("updated")),
            author=_account(data.get("author")),
            patch_set=_int(data.get("patch_set"), "patch_set"),
            side=_str(data.get("side")) or "REVISION",
            parent=_int(data.get("parent"), "parent"),
            line=_int(data.get("line"), "line"),
            range=CommentRange.from_json(data["range"]) if data.get("range") else None,
            in_reply_to=_str(data.get("in_reply_to")),
            tag=_str(data.get("tag")),
            unresolved=_bool(data.get("unresolved")),
            change_message_id=_str(data.get("change_message_id")),
            commit_id=_str(data.get("commit_id")),
        )


def parse_comment_map(data: Mapping[str, Any]) -> list[CommentInfo]:
    """The body of ``GET /changes/{id}/comments``: path -> [CommentInfo], flattened."""
    comments: list[CommentInfo] = []
    for path, entries in _mapping(data, "comments").items():
        comments.extend(CommentInfo.from_json(c, path) for c in _list(entries, f"comments {path}"))
    return comments


@dataclass(frozen=True, slots=True)
class AttentionSetInfo:
    account: AccountInfo
    last_update: datetime | None
    reason: str | None = None
    reason_account: AccountInfo | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AttentionSetInfo:
        data = _mapping(data, "attention set entry")
        account = _account(data.get("account"))
        if account is None:
            raise GerritDataError(f"missing account in {_describe(data)}")
        return cls(
            account=account,
            last_update=parse_timestamp(data.get("last_update")),
            reason=_str(data.get("reason")),
            reason_account=_account(data.get("reason_account")),
        )


@dataclass(frozen=True, slots=True)
class ReviewerUpdateInfo:
    updated: datetime | None
    updated_by: AccountInfo | None
    reviewer: AccountInfo | None
    state: str  # REVIEWER | CC | REMOVED

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReviewerUpdateInfo:
        data = _mapping(data, "reviewer update")
        return cls(
            updated=parse_timestamp(data.get("updated")),
            updated_by=_account(data.get("updated_by")),
            reviewer=_account(data.get("reviewer")),
            state=_str(data.get("state")) or "REVIEWER",
        )


# --- changes -------------------------------------------------------------------------------


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
    labels: Mapping[str, LabelInfo] = field(default_factory=_no_mapping)
    reviewers: Mapping[str, tuple[AccountInfo, ...]] = field(
        default_factory=_no_mapping
    )  # REVIEWER / CC / REMOVED
    reviewer_updates: tuple[ReviewerUpdateInfo, ...] = ()
    attention_set: Mapping[int, AttentionSetInfo] = field(default_factory=_no_mapping)
    messages: tuple[ChangeMessageInfo, ...] = ()
    current_revision: str | None = None
    current_revision_number: int | None = None
    revisions: Mapping[str, RevisionInfo] = field(default_factory=_no_mapping)
    more_changes: bool = False
    sortkey: str | None = None  # pre-2.9 servers
    url: str | None = None  # query/event shape only

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ChangeInfo:
        """Parse REST ``ChangeInfo``; a ``ChangeAttribute`` (no ``_number``) is accepted too."""
        data = _mapping(data, "change")
        if "_number" not in data and "number" in data:
            return cls.from_attribute(data)
        revisions = {
            sha: RevisionInfo.from_json(sha, rev)
            for sha, rev in _mapping(data.get("revisions"), "revisions").items()
        }
        current = _str(data.get("current_revision"))
        current_number = _int(data.get("current_revision_number"), "current_revision_number")
        if current_number is None and current in revisions:
            current_number = revisions[current].number
        reviewers = {
            state: tuple(AccountInfo.from_json(a) for a in _list(accounts, f"reviewers {state}"))
            for state, accounts in _mapping(data.get("reviewers"), "reviewers").items()
        }
        attention = {}
        for key, entry in _mapping(data.get("attention_set"), "attention_set").items():
            info = AttentionSetInfo.from_json(entry)
            account_id = info.account.account_id
            attention[account_id if account_id is not None else _int(key, "attention_set")] = info
        mergeable = data.get("mergeable")
        return cls(
            number=_required_int(data, "_number"),
            project=_required_str(data, "project"),
            branch=_required_str(data, "branch"),
            change_id=_str(data.get("change_id")) or "",
            subject=_str(data.get("subject")) or "",
            status=_str(data.get("status")) or "NEW",
            created=parse_timestamp(data.get("created")),
            updated=parse_timestamp(data.get("updated")),
            id=_str(data.get("id")),
            triplet_id=_str(data.get("triplet_id")),
            topic=_str(data.get("topic")),
            hashtags=tuple(str(h) for h in _list(data.get("hashtags"), "hashtags")),
            submitted=parse_timestamp(data.get("submitted")),
            submitter=_account(data.get("submitter")),
            owner=_account(data.get("owner")),
            insertions=_int(data.get("insertions"), "insertions"),
            deletions=_int(data.get("deletions"), "deletions"),
            total_comment_count=_int(data.get("total_comment_count"), "total_comment_count"),
            unresolved_comment_count=_int(
                data.get("unresolved_comment_count"), "unresolved_comment_count"
            ),
            has_review_started=_bool(data.get("has_review_started")),
            work_in_progress=_bool(data.get("work_in_progress")),
            is_private=_bool(data.get("is_private")),
            mergeable=None if mergeable is None else _bool(mergeable),
            labels=_frozen(
                {
                    name: LabelInfo.from_json(name, info)
                    for name, info in _mapping(data.get("labels"), "labels").items()
                }
            ),
            reviewers=_frozen(reviewers),
            reviewer_updates=tuple(
                ReviewerUpdateInfo.from_json(u)
                for u in _list(data.get("reviewer_updates"), "reviewer_updates")
            ),
            attention_set=_frozen(attention),
            messages=tuple(
                ChangeMessageInfo.from_json(m) for m in _list(data.get("messages"), "messages")
            ),
            current_revision=current,
            current_revision_number=current_number,
            revisions=_frozen(revisions),
            more_changes=_bool(data.get("_more_changes")),
            sortkey=_str(data.get("_sortkey")),
        )

    @classmethod
    def from_attribute(cls, data: Mapping[str, Any]) -> ChangeInfo:
        """Parse a ``ChangeAttribute``: stream events' ``change`` and ``gerrit query`` lines."""
        data = _mapping(data, "change")
        message = _str(data.get("commitMessage"))
        revisions: dict[str, RevisionInfo] = {}
        for ps in _list(data.get("patchSets"), "patchSets"):
            revision = RevisionInfo.from_attribute(ps)
            revisions[revision.sha] = revision
        current = None
        current_number = None
        if data.get("currentPatchSet"):
            revision = RevisionInfo.from_attribute(data["currentPatchSet"], message)
            revisions[revision.sha] = revision
            current, current_number = revision.sha, revision.number
        status = _str(data.get("status"))
        if status is None:
            status = "NEW" if _bool(data.get("open", True)) else "MERGED"
        return cls(
            number=_required_int(data, "number"),
            project=_required_str(data, "project"),
            branch=_required_str(data, "branch"),
            change_id=_str(data.get("id")) or "",
            subject=_str(data.get("subject")) or "",
            status=status,
            created=parse_timestamp(data.get("createdOn")),
            updated=parse_timestamp(data.get("lastUpdated")),
            topic=_str(data.get("topic")),
            hashtags=tuple(str(h) for h in _list(data.get("hashtags"), "hashtags")),
            owner=_account(data.get("owner")),
            work_in_progress=_bool(data.get("wip")),
            is_private=_bool(data.get("private")),
            current_revision=current,
            current_revision_number=current_number,
            revisions=_frozen(revisions),
            sortkey=_str(data.get("sortKey")),
            url=_str(data.get("url")),
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


def parse_change_list(data: object) -> list[ChangeInfo]:
    """A query page (``GET /changes/?q=``): a list of ``ChangeInfo``.

    Whether more pages exist is ``changes[-1].more_changes``.
    """
    return [ChangeInfo.from_json(item) for item in _list(data, "changes")]


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
                row_count=_int(data.get("rowCount"), "rowCount") or 0,
                run_time_ms=_int(data.get("runTimeMilliseconds"), "runTimeMilliseconds"),
                more_changes=None if more is None else _bool(more),
            )
        elif data.get("type") == "error":
            raise GerritDataError(f"gerrit query error: {data.get('message')}")
        else:
            changes.append(ChangeInfo.from_attribute(data))
    return changes, stats


# --- stream events -------------------------------------------------------------------------

# Which field names the account that caused each event (Zuul maps them the same way).
ACTOR_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "patchset-created": "uploader",
        "comment-added": "author",
        "change-merged": "submitter",
        "change-abandoned": "abandoner",
        "change-restored": "restorer",
        "change-deleted": "deleter",
        "reviewer-added": "adder",
        "reviewer-deleted": "remover",
        "vote-deleted": "remover",
        "wip-state-changed": "changer",
        "private-state-changed": "changer",
        "topic-changed": "changer",
        "hashtags-changed": "editor",
        "ref-updated": "submitter",
    }
)


@dataclass(frozen=True, slots=True)
class GerritEvent:
    """A stream event (SSH ``stream-events``, webhooks plugin, events-log), any type.

    govbot treats events as hints ("re-check change N"), so one flat type covers all of
    them; type-specific fields are ``None`` when absent.
    """

    type: str
    created_on: datetime | None = None
    project: str | None = None
    ref_name: str | None = None
    change: ChangeInfo | None = None
    patch_set: RevisionInfo | None = None
    actor: AccountInfo | None = None  # uploader / author / submitter / abandoner / changer ...
    comment: str | None = None
    approvals: tuple[ApprovalInfo, ...] = ()
    reviewer: AccountInfo | None = None
    reason: str | None = None
    new_rev: str | None = None
    old_topic: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GerritEvent:
        data = _mapping(data, "event")
        kind = _required_str(data, "type")
        change = ChangeInfo.from_attribute(data["change"]) if data.get("change") else None
        if change is not None and not 0 < change.number <= MAX_CHANGE_NUMBER:
            raise GerritDataError(f"{kind} event: no change has number {change.number}")
        patch_set = None
        if data.get("patchSet"):
            message = None
            if change is not None and data["change"].get("commitMessage"):
                message = _str(data["change"]["commitMessage"])
            patch_set = RevisionInfo.from_attribute(data["patchSet"], message)
        project = data.get("project")
        if isinstance(project, Mapping):  # the webhooks plugin may serialise it as an object
            project = project.get("name")
        if project is None and change is not None:
            project = change.project
        if project is None and data.get("refUpdate"):
            project = _mapping(data["refUpdate"], "refUpdate").get("project")
        ref_name = _str(data.get("refName"))
        if ref_name is None and data.get("refUpdate"):
            ref_name = _str(_mapping(data["refUpdate"], "refUpdate").get("refName"))
        actor_field = ACTOR_FIELDS.get(kind)
        return cls(
            type=kind,
            created_on=parse_timestamp(data.get("eventCreatedOn")),
            project=_str(project),
            ref_name=ref_name,
            change=change,
            patch_set=patch_set,
            actor=_account(data.get(actor_field)) if actor_field else None,
            comment=_str(data.get("comment")),
            approvals=tuple(
                ApprovalInfo.from_attribute(a) for a in _list(data.get("approvals"), "approvals")
            ),
            reviewer=_account(data.get("reviewer")),
            reason=_str(data.get("reason")),
            new_rev=_str(data.get("newRev")),
            old_topic=_str(data.get("oldTopic")),
        )

    @property
    def change_number(self) -> int | None:
        return self.change.number if self.change is not None else None

    @property
    def patch_set_number(self) -> int | None:
        return self.patch_set.number if self.patch_set is not None else None

    @property
    def dedup_key(self) -> tuple[str, int | None, int | None, int | None]:
        """(type, change, patch set, eventCreatedOn): equal for a redelivered event."""
        created = int(self.created_on.timestamp()) if self.created_on is not None else None
        return (self.type, self.change_number, self.patch_set_number, created)


def parse_events(data: str | Iterable[Mapping[str, Any]]) -> list[GerritEvent]:
    """Events from a JSON array, an iterable of dicts, or JSON lines (stream-events output)."""
    if isinstance(data, str):
        text = data.strip()
        if text.startswith("["):
            items: Iterable[Mapping[str, Any]] = json.loads(text)
        else:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        items = data
    return [GerritEvent.from_json(item) for item in items]
