"""Gerrit: typed views of its JSON (``accounts``, ``revisions``, ``reviews``, ``changes``,
``events``); the REST client (``client``) and the changed specs (``sources``) build on them."""

from __future__ import annotations

from govbot.gerrit.accounts import AccountInfo
from govbot.gerrit.changes import ChangeInfo, QueryStats, parse_change_list, parse_ssh_query
from govbot.gerrit.errors import GerritDataError
from govbot.gerrit.events import GerritEvent, parse_events
from govbot.gerrit.reviews import (
    ApprovalInfo,
    AttentionSetInfo,
    ChangeMessageInfo,
    CommentInfo,
    CommentRange,
    LabelInfo,
    ReviewerUpdateInfo,
    parse_comment_map,
)
from govbot.gerrit.revisions import CommitInfo, FileInfo, GitPersonInfo, ParentCommit, RevisionInfo
from govbot.gerrit.scalars import format_timestamp, parse_timestamp, strip_xssi

__all__ = [
    "AccountInfo",
    "ApprovalInfo",
    "AttentionSetInfo",
    "ChangeInfo",
    "ChangeMessageInfo",
    "CommentInfo",
    "CommentRange",
    "CommitInfo",
    "FileInfo",
    "GerritDataError",
    "GerritEvent",
    "GitPersonInfo",
    "LabelInfo",
    "ParentCommit",
    "QueryStats",
    "ReviewerUpdateInfo",
    "RevisionInfo",
    "format_timestamp",
    "parse_change_list",
    "parse_comment_map",
    "parse_events",
    "parse_ssh_query",
    "parse_timestamp",
    "strip_xssi",
]
