"""A change's patch sets: ``RevisionInfo`` (or an event's ``PatchSetAttribute``), its
commit, its parents and its files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from govbot.gerrit.accounts import AccountInfo, account_or_none
from govbot.gerrit.reviews import ApprovalInfo
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


@dataclass(frozen=True, slots=True)
class GitPersonInfo:
    name: str
    email: str
    date: datetime | None
    tz: int = 0  # minutes east of UTC

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GitPersonInfo:
        data = as_mapping(data, "person")
        return cls(
            name=as_str(data.get("name")) or "",
            email=as_str(data.get("email")) or "",
            date=parse_timestamp(data.get("date")),
            tz=as_int(data.get("tz"), "tz") or 0,
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
        data = as_mapping(data, "commit")
        parents = []
        for parent in as_list(data.get("parents"), "parents"):
            if isinstance(parent, str):  # stream events list bare SHAs
                parents.append(ParentCommit(parent))
            else:
                parent = as_mapping(parent, "parent")
                parents.append(
                    ParentCommit(required_str(parent, "commit"), as_str(parent.get("subject")))
                )
        message = as_str(data.get("message")) or ""
        subject = as_str(data.get("subject")) or message.split("\n", 1)[0]
        return cls(
            commit=as_str(data.get("commit")),
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
        data = as_mapping(data, f"file {path}")
        return cls(
            path=path,
            status=as_str(data.get("status")) or "M",
            old_path=as_str(data.get("old_path")),
            binary=as_bool(data.get("binary")),
            lines_inserted=as_int(data.get("lines_inserted"), "lines_inserted") or 0,
            lines_deleted=as_int(data.get("lines_deleted"), "lines_deleted") or 0,
            size_delta=as_int(data.get("size_delta"), "size_delta") or 0,
            size=as_int(data.get("size"), "size") or 0,
        )

    @property
    def is_magic(self) -> bool:
        """``/COMMIT_MSG``, ``/MERGE_LIST``, ``/PATCHSET_LEVEL``: not files of the tree."""
        return self.path.startswith("/")


def parse_file_map(data: Mapping[str, Any]) -> Mapping[str, FileInfo]:
    """The body of ``GET .../revisions/{rev}/files``: path -> ``FileInfo``."""
    files = {
        path: FileInfo.from_json(path, info) for path, info in as_mapping(data, "files").items()
    }
    return frozen(files)


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
    files: Mapping[str, FileInfo] = field(default_factory=no_mapping)
    description: str | None = None
    # Only in query/event shapes, where votes hang off the patch set:
    approvals: tuple[ApprovalInfo, ...] = ()
    author: AccountInfo | None = None
    size_insertions: int | None = None
    size_deletions: int | None = None

    @classmethod
    def from_json(cls, sha: str, data: Mapping[str, Any]) -> RevisionInfo:
        data = as_mapping(data, f"revision {sha}")
        return cls(
            sha=sha,
            number=required_int(data, "_number"),
            ref=as_str(data.get("ref")),
            kind=as_str(data.get("kind")),
            created=parse_timestamp(data.get("created")),
            uploader=account_or_none(data.get("uploader")),
            real_uploader=account_or_none(data.get("real_uploader")),
            commit=CommitInfo.from_json(data["commit"]) if data.get("commit") else None,
            files=parse_file_map(data.get("files") or {}),
            description=as_str(data.get("description")),
        )

    @classmethod
    def from_attribute(
        cls, data: Mapping[str, Any], commit_message: str | None = None
    ) -> RevisionInfo:
        """A ``PatchSetAttribute`` (``currentPatchSet`` / ``patchSet`` / ``patchSets[]``)."""
        data = as_mapping(data, "patchSet")
        sha = required_str(data, "revision")
        parents = tuple(ParentCommit(str(p)) for p in as_list(data.get("parents"), "parents"))
        commit = None
        if parents or commit_message is not None:
            message = commit_message or ""
            commit = CommitInfo(
                commit=sha, parents=parents, subject=message.split("\n", 1)[0], message=message
            )
        files = {}
        for entry in as_list(data.get("files"), "files"):
            entry = as_mapping(entry, "file")
            path = required_str(entry, "file")
            files[path] = FileInfo(
                path=path,
                status={"ADDED": "A", "DELETED": "D", "RENAMED": "R", "COPIED": "C"}.get(
                    as_str(entry.get("type")) or "", "M"
                ),
                old_path=as_str(entry.get("fileOld")),
                lines_inserted=as_int(entry.get("insertions"), "insertions") or 0,
                lines_deleted=abs(as_int(entry.get("deletions"), "deletions") or 0),
            )
        deletions = as_int(data.get("sizeDeletions"), "sizeDeletions")
        return cls(
            sha=sha,
            number=required_int(data, "number"),
            ref=as_str(data.get("ref")),
            kind=as_str(data.get("kind")),
            created=parse_timestamp(data.get("createdOn")),
            uploader=account_or_none(data.get("uploader")),
            commit=commit,
            files=frozen(files),
            approvals=tuple(
                ApprovalInfo.from_attribute(a) for a in as_list(data.get("approvals"), "approvals")
            ),
            author=account_or_none(data.get("author")),
            size_insertions=as_int(data.get("sizeInsertions"), "sizeInsertions"),
            # Older servers report deletions as a negative number.
            size_deletions=abs(deletions) if deletions is not None else None,
        )
