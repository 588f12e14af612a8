"""The sandbox Gerrit's records (accounts, groups, projects, changes, patch sets ...).

Plain mutable dataclasses: ``GerritState`` (``state.py``) holds them behind one lock and
the operations in ``people.py``, ``reviews.py`` and ``lifecycle.py`` change them.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote

from govbot.sandbox.git import GitStore, Person

P = ParamSpec("P")
R = TypeVar("R")

SERVICE_USERS = "Service Users"
ADMINISTRATORS = "Administrators"
PATCHSET_LEVEL = "/PATCHSET_LEVEL"
NOTIFY_VALUES = frozenset({"NONE", "OWNER", "OWNER_REVIEWERS", "ALL"})
DRAFT_VALUES = frozenset({"KEEP", "PUBLISH", "PUBLISH_ALL_REVISIONS"})
FIRST_ACCOUNT_ID = 1000000
MAX_REVIEWERS_WITHOUT_CONFIRMATION = 10  # addreviewer.maxWithoutConfirmation
MAX_REVIEWERS_ALLOWED = 20  # addreviewer.maxAllowed


class RestError(Exception):
    """A Gerrit REST failure: status code plus plain-text message (or a JSON body)."""

    def __init__(self, status: int, message: str, json_body: object = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.json_body = json_body


def not_found(what: str) -> RestError:
    return RestError(404, f"Not found: {what}")


def locked(method: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with args[0].lock:  # type: ignore[attr-defined]
            return method(*args, **kwargs)

    return wrapper


class Clock:
    """The sandbox's notion of now: wall-clock time plus an offset, or frozen.

    ``Clock()`` follows the wall clock; ``Clock(datetime(...))`` is frozen there.
    ``advance`` moves either kind forward; ``set`` freezes at a given time.
    """

    def __init__(self, now: datetime | None = None) -> None:
        self._frozen = utc(now) if now is not None else None
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def set(self, when: datetime) -> None:
        with self._lock:
            self._frozen = utc(when)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        step = (delta or timedelta()) + timedelta(**kwargs)
        with self._lock:
            if self._frozen is not None:
                self._frozen += step
            else:
                self._offset += step
        return self.now()

    @property
    def frozen(self) -> bool:
        return self._frozen is not None


def utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("sandbox times must be timezone-aware")
    return when.astimezone(UTC)


def stamp_of(when: datetime) -> datetime:
    """NoteDb keeps second precision: Gerrit's timestamps end in ``.000000000``."""
    return utc(when).replace(microsecond=0)


# --- entities ------------------------------------------------------------------------------


@dataclass
class Account:
    id: int
    username: str
    name: str
    email: str
    password: str | None = None
    active: bool = True
    registered_on: datetime | None = None
    ssh_keys: list[str] = field(default_factory=list)  # "ssh-ed25519 AAAA..." lines


@dataclass
class Group:
    uuid: str
    id: int
    name: str
    members: list[int] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)  # uuids of subgroups
    description: str = ""
    visible_to_all: bool = True
    created_on: datetime | None = None
    owner_uuid: str | None = None


@dataclass(frozen=True)
class LabelType:
    """A label of a project. ``user_range`` limits accounts that are not project cores."""

    name: str
    values: Mapping[int, str]
    user_range: tuple[int, int] | None = None
    allow_post_submit: bool = False
    default_value: int = 0

    @property
    def min(self) -> int:
        return min(self.values)

    @property
    def max(self) -> int:
        return max(self.values)

    def permitted(self, is_core: bool) -> tuple[int, int]:
        if is_core or self.user_range is None:
            return (self.min, self.max)
        return self.user_range


CODE_REVIEW = LabelType(
    "Code-Review",
    {
        -2: "This shall not be submitted",
        -1: "I would prefer this is not submitted as is",
        0: "No score",
        1: "Looks good to me, but someone else must approve",
        2: "Looks good to me, approved",
    },
    user_range=(-1, 1),
    allow_post_submit=True,
)
VERIFIED = LabelType("Verified", {-1: "Fails", 0: "No score", 1: "Verified"})
DEFAULT_LABELS: Mapping[str, LabelType] = {"Code-Review": CODE_REVIEW, "Verified": VERIFIED}


@dataclass
class Project:
    name: str
    git: GitStore
    labels: dict[str, LabelType]
    branches: dict[str, str] = field(default_factory=dict)  # branch -> commit
    trees: dict[str, dict[str, bytes]] = field(default_factory=dict)  # commit -> files
    subjects: dict[str, str] = field(default_factory=dict)  # commit -> subject
    cores: set[int] = field(default_factory=set)
    description: str = ""


@dataclass
class PatchSet:
    number: int
    sha: str
    parent_sha: str
    parent_subject: str
    files: dict[str, bytes]  # the whole tree at this patch set
    parent_files: dict[str, bytes]  # the whole tree of the parent commit
    uploader: int
    created: datetime
    message: str  # full commit message, Change-Id footer included
    author: Person
    committer: Person
    kind: str = "REWORK"
    ref: str = ""
    _diff_cache: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict, repr=False)

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]

    def changed_paths(self) -> list[str]:
        """Paths modified against the parent (deleted ones included), sorted."""
        return sorted(self.diff(self.parent_files, "parent"))

    def diff(self, base: Mapping[str, bytes], key: str) -> dict[str, dict[str, Any]]:
        """FileInfo-shaped dicts (no magic files) for the changes from ``base`` to this PS."""
        cached = self._diff_cache.get(key)
        if cached is None:
            cached = self._diff_cache[key] = _diff_trees(base, self.files)
        return cached


@dataclass
class Message:
    id: str
    author: int | None
    date: datetime
    message: str
    tag: str | None = None
    revision_number: int | None = None
    real_author: int | None = None


@dataclass
class Comment:
    id: str
    path: str
    patch_set: int
    message: str
    author: int
    updated: datetime
    commit_id: str
    line: int | None = None
    range: dict[str, int] | None = None
    side: str = "REVISION"
    parent: int | None = None
    in_reply_to: str | None = None
    tag: str | None = None
    unresolved: bool = False
    change_message_id: str | None = None


@dataclass
class Approval:
    label: str
    account: int
    value: int
    date: datetime
    patch_set: int
    tag: str | None = None
    post_submit: bool = False


@dataclass
class AttentionEntry:
    account: int
    last_update: datetime
    reason: str
    reason_account: int | None = None


@dataclass
class ReviewerUpdate:
    updated: datetime
    updated_by: int
    reviewer: int
    state: str


@dataclass
class Change:
    number: int
    project: str
    branch: str
    change_id: str
    subject: str
    owner: int
    created: datetime
    updated: datetime
    status: str = "NEW"
    topic: str | None = None
    hashtags: list[str] = field(default_factory=list)
    wip: bool = False
    private: bool = False
    has_review_started: bool = True
    patch_sets: list[PatchSet] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    votes: dict[int, dict[tuple[str, int], Approval]] = field(default_factory=dict)
    reviewers: dict[int, str] = field(default_factory=dict)  # account -> REVIEWER | CC
    reviewer_updates: list[ReviewerUpdate] = field(default_factory=list)
    attention: dict[int, AttentionEntry] = field(default_factory=dict)
    submitted: datetime | None = None
    submitter: int | None = None

    @property
    def current(self) -> PatchSet:
        return self.patch_sets[-1]

    @property
    def is_open(self) -> bool:
        return self.status == "NEW"

    def patch_set(self, number: int) -> PatchSet:
        return self.patch_sets[number - 1]

    def current_votes(self) -> dict[tuple[str, int], Approval]:
        return self.votes.get(self.current.number, {})

    @property
    def url_id(self) -> str:
        """``project~number``, the id form Gerrit 3.9+ puts in ``ChangeInfo.id``."""
        return f"{quote_id(self.project)}~{self.number}"

    @property
    def triplet_id(self) -> str:
        return f"{quote_id(self.project)}~{quote_id(self.branch)}~{self.change_id}"

    @property
    def ref_prefix(self) -> str:
        return f"refs/changes/{self.number % 100:02d}/{self.number}"


def quote_id(text: str) -> str:
    return quote(text, safe="")


def _is_binary(data: bytes) -> bool:
    return b"\0" in data[:8000]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines()


def _diff_trees(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> dict[str, dict[str, Any]]:
    """Per-path FileInfo fields. Line counts compare line multisets: exact for the usual
    edits (insert/delete/replace blocks), an approximation of Gerrit's histogram diff when
    identical lines move around."""
    result: dict[str, dict[str, Any]] = {}
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before == after:
            continue
        info: dict[str, Any] = {}
        if before is None:
            info["status"] = "A"
        elif after is None:
            info["status"] = "D"
        before_bytes, after_bytes = before or b"", after or b""
        if _is_binary(before_bytes) or _is_binary(after_bytes):
            info["binary"] = True
        else:
            old_lines, new_lines = Counter(_lines(before_bytes)), Counter(_lines(after_bytes))
            inserted = sum((new_lines - old_lines).values())
            deleted = sum((old_lines - new_lines).values())
            if inserted:
                info["lines_inserted"] = inserted
            if deleted:
                info["lines_deleted"] = deleted
        info["size_delta"] = len(after_bytes) - len(before_bytes)
        info["size"] = len(after_bytes)
        result[path] = info
    return result


_FOOTER = re.compile(r"^[A-Za-z][A-Za-z0-9-]*: ")


def with_change_id(message: str, change_id: str) -> str:
    """``message`` with a ``Change-Id:`` footer in its last paragraph, ending in a newline."""
    text = message.rstrip("\n")
    if re.search(r"^Change-Id: I[0-9a-f]{40}$", text, re.MULTILINE):
        return text + "\n"
    paragraphs = text.split("\n\n")
    last = paragraphs[-1].splitlines()
    if len(paragraphs) > 1 and last and all(_FOOTER.match(line) for line in last):
        return text + f"\nChange-Id: {change_id}\n"
    return text + f"\n\nChange-Id: {change_id}\n"


Files = Mapping[str, str | bytes | None]


def make_group(
    name: str, number: int, *, description: str, visible_to_all: bool, when: datetime
) -> Group:
    """A new group owning itself (its UUID derived from its name)."""
    uuid = hashlib.sha1(f"group:{name}".encode()).hexdigest()
    return Group(
        uuid=uuid,
        id=number,
        name=name,
        description=description,
        visible_to_all=visible_to_all,
        created_on=when,
        owner_uuid=uuid,
    )
