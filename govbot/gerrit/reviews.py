"""What reviewers leave on a change: votes and labels, messages, comments, the attention
set and reviewer updates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from govbot.gerrit.accounts import AccountInfo, account_or_none
from govbot.gerrit.errors import GerritDataError
from govbot.gerrit.scalars import (
    as_bool,
    as_int,
    as_list,
    as_mapping,
    as_str,
    describe,
    frozen,
    no_mapping,
    parse_timestamp,
    required_str,
)


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
        data = as_mapping(data, "approval")
        voting = data.get("permitted_voting_range")
        voting_range = None
        if voting:
            voting = as_mapping(voting, "permitted_voting_range")
            voting_range = (
                as_int(voting.get("min"), "min") or 0,
                as_int(voting.get("max"), "max") or 0,
            )
        return cls(
            account=AccountInfo.from_json(data),
            value=as_int(data.get("value"), "value"),
            label=label,
            date=parse_timestamp(data.get("date")),
            tag=as_str(data.get("tag")),
            permitted_voting_range=voting_range,
            post_submit=as_bool(data.get("post_submit")),
        )

    @classmethod
    def from_attribute(cls, data: Mapping[str, Any]) -> ApprovalInfo:
        """An ``ApprovalAttribute`` of stream events and ``gerrit query``."""
        data = as_mapping(data, "approval")
        return cls(
            account=account_or_none(data.get("by")),
            value=as_int(data.get("value"), "value"),
            label=as_str(data.get("type")),
            date=parse_timestamp(data.get("grantedOn")),
            description=as_str(data.get("description")),
            old_value=as_int(data.get("oldValue"), "oldValue"),
        )

    @property
    def changed(self) -> bool:
        """In an event: whether this event changed the vote (``oldValue`` present)."""
        return self.old_value is not None and self.old_value != self.value


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
        default_factory=no_mapping
    )  # {-1: "...", 0: "No score", 1: "..."}

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> LabelInfo:
        data = as_mapping(data, f"label {name}")
        values = {}
        for key, text in as_mapping(data.get("values"), "values").items():
            number = as_int(key, f"label {name} value")
            if number is not None:
                values[number] = as_str(text) or ""
        return cls(
            name=name,
            optional=as_bool(data.get("optional")),
            approved=account_or_none(data.get("approved")),
            rejected=account_or_none(data.get("rejected")),
            recommended=account_or_none(data.get("recommended")),
            disliked=account_or_none(data.get("disliked")),
            blocking=as_bool(data.get("blocking")),
            value=as_int(data.get("value"), "value"),
            default_value=as_int(data.get("default_value"), "default_value"),
            all=tuple(ApprovalInfo.from_json(a, name) for a in as_list(data.get("all"), "all")),
            values=frozen(values),
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
        data = as_mapping(data, "message")
        return cls(
            id=required_str(data, "id"),
            message=as_str(data.get("message")) or "",
            date=parse_timestamp(data.get("date")),
            author=account_or_none(data.get("author")),
            real_author=account_or_none(data.get("real_author")),
            tag=as_str(data.get("tag")),
            revision_number=as_int(data.get("_revision_number"), "_revision_number"),
            accounts_in_message=tuple(
                AccountInfo.from_json(a)
                for a in as_list(data.get("accounts_in_message"), "accounts_in_message")
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
        data = as_mapping(data, "range")
        return cls(
            start_line=as_int(data.get("start_line"), "start_line") or 0,
            start_character=as_int(data.get("start_character"), "start_character") or 0,
            end_line=as_int(data.get("end_line"), "end_line") or 0,
            end_character=as_int(data.get("end_character"), "end_character") or 0,
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
        data = as_mapping(data, "comment")
        return cls(
            id=required_str(data, "id"),
            path=as_str(data.get("path")) or path,
            message=as_str(data.get("message")) or "",
            updated=parse_timestamp(data.get("updated")),
            author=account_or_none(data.get("author")),
            patch_set=as_int(data.get("patch_set"), "patch_set"),
            side=as_str(data.get("side")) or "REVISION",
            parent=as_int(data.get("parent"), "parent"),
            line=as_int(data.get("line"), "line"),
            range=CommentRange.from_json(data["range"]) if data.get("range") else None,
            in_reply_to=as_str(data.get("in_reply_to")),
            tag=as_str(data.get("tag")),
            unresolved=as_bool(data.get("unresolved")),
            change_message_id=as_str(data.get("change_message_id")),
            commit_id=as_str(data.get("commit_id")),
        )


def parse_comment_map(data: Mapping[str, Any]) -> list[CommentInfo]:
    """The body of ``GET /changes/{id}/comments``: path -> [CommentInfo], flattened."""
    comments: list[CommentInfo] = []
    for path, entries in as_mapping(data, "comments").items():
        comments.extend(
            CommentInfo.from_json(c, path) for c in as_list(entries, f"comments {path}")
        )
    return comments


@dataclass(frozen=True, slots=True)
class AttentionSetInfo:
    account: AccountInfo
    last_update: datetime | None
    reason: str | None = None
    reason_account: AccountInfo | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AttentionSetInfo:
        data = as_mapping(data, "attention set entry")
        account = account_or_none(data.get("account"))
        if account is None:
            raise GerritDataError(f"missing account in {describe(data)}")
        return cls(
            account=account,
            last_update=parse_timestamp(data.get("last_update")),
            reason=as_str(data.get("reason")),
            reason_account=account_or_none(data.get("reason_account")),
        )


@dataclass(frozen=True, slots=True)
class ReviewerUpdateInfo:
    updated: datetime | None
    updated_by: AccountInfo | None
    reviewer: AccountInfo | None
    state: str  # REVIEWER | CC | REMOVED

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReviewerUpdateInfo:
        data = as_mapping(data, "reviewer update")
        return cls(
            updated=parse_timestamp(data.get("updated")),
            updated_by=account_or_none(data.get("updated_by")),
            reviewer=account_or_none(data.get("reviewer")),
            state=as_str(data.get("state")) or "REVIEWER",
        )
