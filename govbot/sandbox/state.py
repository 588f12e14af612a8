"""The sandbox's Gerrit data and the rules Gerrit applies on every write.

``GerritState`` holds accounts, groups, projects and changes in memory (patch sets are real
git commits, see ``git.py``). Its methods come in two flavours that share one set of rules:

* story methods for tests and seeds (``create_change``, ``add_patchset``, ``vote``,
  ``add_message``, ``merge``, ``abandon``, ``set_wip`` ...), which take accounts and changes
  by name/number and accept explicit dates;
* REST operations (``post_review``, ``add_reviewer``, ``add_to_attention_set`` ...) that the
  HTTP layer calls with the authenticated caller, raising ``RestError`` with Gerrit's status
  codes and messages.

Side effects follow research/gerrit.md §1.6-1.8 and §8: a vote makes the voter a reviewer, a
comment without a vote makes them CC, each write appends a change message and bumps
``updated``, reviewers join the attention set, WIP/abandon/merge clear it. Every write also
emits a stream-events-shaped dict to the registered listeners (the webhook dispatcher).
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote

from govbot.sandbox.events import build_event
from govbot.sandbox.git import GitStore, Person

P = ParamSpec("P")
R = TypeVar("R")

SERVICE_USERS = "Service Users"
ADMINISTRATORS = "Administrators"
COMMIT_MSG = "/COMMIT_MSG"
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


def _locked(method: Callable[P, R]) -> Callable[P, R]:
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
        self._frozen = _utc(now) if now is not None else None
        self._offset = timedelta()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return datetime.now(UTC) + self._offset

    def set(self, when: datetime) -> None:
        with self._lock:
            self._frozen = _utc(when)

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


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("sandbox times must be timezone-aware")
    return when.astimezone(UTC)


def _stamp(when: datetime) -> datetime:
    """NoteDb keeps second precision: Gerrit's timestamps end in ``.000000000``."""
    return _utc(when).replace(microsecond=0)


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
        return f"{_quote(self.project)}~{self.number}"

    @property
    def triplet_id(self) -> str:
        return f"{_quote(self.project)}~{_quote(self.branch)}~{self.change_id}"

    @property
    def ref_prefix(self) -> str:
        return f"refs/changes/{self.number % 100:02d}/{self.number}"


def _quote(text: str) -> str:
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


# --- the state -----------------------------------------------------------------------------


class GerritState:
    """Everything the sandbox Gerrit knows, behind one lock."""

    def __init__(
        self,
        root: Path,
        clock: Clock | None = None,
        *,
        strict_labels: bool = True,
        reject_outdated_votes: bool = False,
        query_limit: int = 500,
        comment_size_limit: int = 16384,
        version: str = "3.13.1",
    ) -> None:
        self.root = root
        self.clock = clock or Clock()
        # Gerrit drops unknown labels/values silently unless change.strictLabels is set;
        # the sandbox runs strict by default so a bot's wrong label name fails loudly.
        self.strict_labels = strict_labels
        # Real Gerrit accepts votes on outdated patch sets (they land on that patch set);
        # tests can turn this on to make such a vote a hard 409 tripwire.
        self.reject_outdated_votes = reject_outdated_votes
        self.query_limit = query_limit
        self.comment_size_limit = comment_size_limit
        self.version = version
        self.web_url = "http://127.0.0.1/"
        self.lock = threading.RLock()
        self.accounts: dict[int, Account] = {}
        self.groups: dict[str, Group] = {}
        self.projects: dict[str, Project] = {}
        self.changes: dict[int, Change] = {}
        self.event_log: list[dict[str, Any]] = []
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self._serial = 0
        self.add_group(ADMINISTRATORS, description="Gerrit Site Administrators")
        self.add_group(SERVICE_USERS, description="Bots and other non-human accounts")

    # -- helpers --------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def _when(self, when: datetime | None) -> datetime:
        return _stamp(when if when is not None else self.clock.now())

    def _next_id(self, kind: str) -> str:
        self._serial += 1
        return hashlib.sha1(f"{kind}-{self._serial}".encode()).hexdigest()

    def _comment_id(self) -> str:
        digest = self._next_id("comment")
        return f"{digest[:8]}_{digest[8:16]}"

    def _emit(self, event: dict[str, Any]) -> None:
        self.event_log.append(event)
        for listener in list(self.listeners):
            listener(event)

    def _event(
        self, kind: str, change: Change, ps: PatchSet | None, when: datetime, **extra: Any
    ) -> None:
        event = build_event(self, kind, change, ps, **extra)
        event["eventCreatedOn"] = int(when.timestamp())
        self._emit(event)

    def person(self, account_id: int, when: datetime) -> Person:
        account = self.accounts[account_id]
        return Person(account.name, account.email, when)

    # -- lookups --------------------------------------------------------------------------

    @_locked
    def account(self, ref: Account | int | str) -> Account:
        """An account by object, id, username, email or full name (``LookupError`` if none)."""
        if isinstance(ref, Account):
            return ref
        found = self.find_account(str(ref))
        if found is None:
            raise LookupError(f"no account {ref!r}")
        return found

    def find_account(self, text: str) -> Account | None:
        """Gerrit's account-id forms: id, username, email, full name, ``Name <email>``,
        ``Full Name (id)``. (``self`` is resolved by the caller.)"""
        text = text.strip()
        if text.isdigit() and int(text) in self.accounts:
            return self.accounts[int(text)]
        match = re.fullmatch(r".*\((\d+)\)", text)
        if match and int(match.group(1)) in self.accounts:
            return self.accounts[int(match.group(1))]
        match = re.fullmatch(r".*<([^>]+)>", text)
        if match:
            text = match.group(1)
        for key in ("username", "email", "name"):
            hits = [a for a in self.accounts.values() if getattr(a, key).lower() == text.lower()]
            if len(hits) == 1:
                return hits[0]
        return None

    @_locked
    def group(self, ref: Group | str | int) -> Group:
        if isinstance(ref, Group):
            return ref
        found = self.find_group(str(ref))
        if found is None:
            raise LookupError(f"no group {ref!r}")
        return found

    def find_group(self, text: str) -> Group | None:
        if text in self.groups:
            return self.groups[text]
        for group in self.groups.values():
            if group.name == text or str(group.id) == text:
                return group
        return None

    def group_members(self, group: Group, recursive: bool = True) -> list[Account]:
        seen: set[str] = set()
        members: dict[int, Account] = {}

        def walk(g: Group) -> None:
            if g.uuid in seen:
                return
            seen.add(g.uuid)
            for account_id in g.members:
                members[account_id] = self.accounts[account_id]
            if recursive:
                for sub in g.includes:
                    if sub in self.groups:
                        walk(self.groups[sub])

        walk(group)
        return sorted(members.values(), key=lambda a: (a.name, a.email, a.id))

    def in_group(self, account_id: int, group_name: str) -> bool:
        group = self.find_group(group_name)
        return group is not None and any(
            a.id == account_id for a in self.group_members(group, recursive=True)
        )

    def is_service_user(self, account_id: int) -> bool:
        return self.in_group(account_id, SERVICE_USERS)

    def is_admin(self, account_id: int) -> bool:
        return self.in_group(account_id, ADMINISTRATORS)

    @_locked
    def change(self, ref: Change | int | str) -> Change:
        """A change by object or number (``LookupError`` if none)."""
        if isinstance(ref, Change):
            return ref
        number = int(ref)
        if number not in self.changes:
            raise LookupError(f"no change {ref!r}")
        return self.changes[number]

    def can_see(self, change: Change, viewer: int | None) -> bool:
        if not change.private:
            return True
        if viewer is None:
            return False
        return viewer == change.owner or viewer in change.reviewers or self.is_admin(viewer)

    def resolve_change(self, text: str, viewer: int | None) -> Change:
        """A change by any REST id form; invisible changes are 404, as in Gerrit."""
        found: list[Change] = []
        parts = text.split("~")
        if len(parts) == 1 and text.isdigit():
            change = self.changes.get(int(text))
            found = [change] if change else []
        elif len(parts) == 1:
            found = [c for c in self.changes.values() if c.change_id == text]
        elif len(parts) == 2 and parts[1].isdigit():
            change = self.changes.get(int(parts[1]))
            found = [change] if change and change.project == parts[0] else []
        elif len(parts) == 3:
            project, branch, change_id = parts
            branch = branch.removeprefix("refs/heads/")
            found = [
                c
                for c in self.changes.values()
                if c.project == project and c.branch == branch and c.change_id == change_id
            ]
        found = [c for c in found if self.can_see(c, viewer)]
        if len(found) > 1:
            raise RestError(404, f"Multiple changes found for {text}")
        if not found:
            raise not_found(text)
        return found[0]

    def resolve_revision(self, change: Change, text: str) -> PatchSet:
        if text == "current":
            return change.current
        if re.fullmatch(r"[1-9][0-9]{0,4}", text):  # a patch set number
            number = int(text)
            if number <= len(change.patch_sets):
                return change.patch_set(number)
            raise not_found(text)
        if re.fullmatch(r"[0-9a-f]{4,40}", text):
            hits = [ps for ps in change.patch_sets if ps.sha.startswith(text)]
            if len(hits) == 1:
                return hits[0]
        raise not_found(text)

    def resolve_account(self, text: str, viewer: int | None) -> Account:
        if text in ("self", "me"):
            if viewer is None:
                raise RestError(403, "Authentication required")
            return self.accounts[viewer]
        account = self.find_account(text)
        if account is None:
            raise not_found(text)
        return account

    # -- accounts, groups, projects -------------------------------------------------------

    @_locked
    def add_account(
        self,
        username: str,
        name: str | None = None,
        email: str | None = None,
        *,
        password: str | None = None,
        groups: Iterable[str] = (),
        service: bool = False,
    ) -> Account:
        """Register an account (``service=True`` puts it in "Service Users")."""
        if any(a.username == username for a in self.accounts.values()):
            raise ValueError(f"account {username} exists")
        account = Account(
            id=FIRST_ACCOUNT_ID + len(self.accounts),
            username=username,
            name=name or username,
            email=email or f"{username}@example.org",
            password=password,
            registered_on=self._when(None),
        )
        self.accounts[account.id] = account
        for group in [*groups, *([SERVICE_USERS] if service else [])]:
            self.add_to_group(group, account)
        return account

    @_locked
    def add_group(
        self,
        name: str,
        members: Iterable[Account | int | str] = (),
        *,
        includes: Iterable[str] = (),
        description: str = "",
        visible_to_all: bool = True,
    ) -> Group:
        if self.find_group(name) is not None:
            raise ValueError(f"group {name} exists")
        group = Group(
            uuid=hashlib.sha1(f"group:{name}".encode()).hexdigest(),
            id=len(self.groups) + 1,
            name=name,
            description=description,
            visible_to_all=visible_to_all,
            created_on=self._when(None),
        )
        group.owner_uuid = group.uuid
        self.groups[group.uuid] = group
        for member in members:
            self.add_to_group(group, member)
        for sub in includes:
            group.includes.append(self.group(sub).uuid)
        return group

    @_locked
    def add_to_group(self, group: Group | str, account: Account | int | str) -> None:
        target = self.group(group)
        member = self.account(account)
        if member.id not in target.members:
            target.members.append(member.id)

    @_locked
    def add_project(
        self,
        name: str,
        files: Files | None = None,
        *,
        branch: str = "master",
        labels: Iterable[LabelType] | None = None,
        cores: Iterable[Account | int | str] = (),
        description: str = "",
        message: str | None = None,
        when: datetime | None = None,
    ) -> Project:
        """A project with one branch holding ``files`` (an initial empty commit if none)."""
        if name in self.projects:
            raise ValueError(f"project {name} exists")
        store = GitStore(self.root / "git" / f"{name}.git", default_branch=branch)
        project = Project(
            name=name,
            git=store,
            labels={
                lt.name: lt for lt in (labels if labels is not None else DEFAULT_LABELS.values())
            },
            cores={self.account(c).id for c in cores},
            description=description,
        )
        self.projects[name] = project
        stamp = self._when(when)
        admin = Person("Gerrit Code Review", "gerrit@example.org", stamp)
        root = store.commit(store.tree({}), [], admin, admin, "Initial empty repository\n")
        project.trees[root] = {}
        project.subjects[root] = "Initial empty repository"
        project.branches[branch] = root
        store.set_ref(f"refs/heads/{branch}", root)
        if files:
            self.push(name, files, branch=branch, message=message or f"Import {name}", when=stamp)
        return project

    @_locked
    def push(
        self,
        project: str,
        files: Files,
        *,
        branch: str = "master",
        message: str = "Update",
        author: Account | int | str | None = None,
        when: datetime | None = None,
    ) -> str:
        """A direct push to ``branch`` (no review): moves the branch, returns the commit."""
        proj = self.projects[project]
        stamp = self._when(when)
        base = proj.branches.get(branch)
        tree = dict(proj.trees[base]) if base else {}
        _apply(tree, files)
        person = (
            self.person(self.account(author).id, stamp)
            if author is not None
            else Person("Gerrit Code Review", "gerrit@example.org", stamp)
        )
        sha = proj.git.commit(
            proj.git.tree(tree), [base] if base else [], person, person, message.rstrip() + "\n"
        )
        proj.trees[sha] = tree
        proj.subjects[sha] = message.split("\n", 1)[0]
        proj.branches[branch] = sha
        proj.git.set_ref(f"refs/heads/{branch}", sha)
        return sha

    def git_url(self, project: str) -> str:
        """``file://`` URL of the project's bare repository."""
        return self.projects[project].git.url

    @property
    def git_url_template(self) -> str:
        """``GOVBOT_GIT_URL`` for this sandbox: ``file://.../{project}.git``."""
        return (self.root / "git").resolve().as_uri() + "/{project}.git"

    # -- changes and patch sets -----------------------------------------------------------

    @_locked
    def create_change(
        self,
        project: str,
        branch: str = "master",
        subject: str = "A change",
        files: Files | None = None,
        *,
        owner: Account | int | str | None = None,
        wip: bool = False,
        private: bool = False,
        topic: str | None = None,
        hashtags: Iterable[str] = (),
        created: datetime | None = None,
        body: str | None = None,
        change_id: str | None = None,
    ) -> Change:
        """Upload a new change (patch set 1) on top of ``branch``."""
        proj = self.projects[project]
        if branch not in proj.branches:
            raise ValueError(f"{project} has no branch {branch}")
        owner_account = self.account(owner) if owner is not None else self._first_human()
        stamp = self._when(created)
        number = len(self.changes) + 1
        change_id = (
            change_id
            or "I" + hashlib.sha1(f"{project}\0{branch}\0{number}\0{subject}".encode()).hexdigest()
        )
        change = Change(
            number=number,
            project=project,
            branch=branch,
            change_id=change_id,
            subject=subject,
            owner=owner_account.id,
            created=stamp,
            updated=stamp,
            topic=topic,
            hashtags=list(hashtags),
            wip=wip,
            private=private,
            has_review_started=not wip,
        )
        self.changes[number] = change
        base = proj.branches[branch]
        message = subject + (f"\n\n{body.strip()}" if body and body.strip() else "")
        self._new_patch_set(
            change,
            base,
            dict(proj.trees[base]),
            files or {},
            with_change_id(message, change_id),
            owner_account.id,
            stamp,
        )
        return change

    def _first_human(self) -> Account:
        for account in self.accounts.values():
            if not self.is_service_user(account.id) and not self.is_admin(account.id):
                return account
        return self.add_account("owner", "Change Owner")

    def _new_patch_set(
        self,
        change: Change,
        parent: str,
        tree: dict[str, bytes],
        files: Files,
        message: str,
        uploader: int,
        stamp: datetime,
    ) -> PatchSet:
        proj = self.projects[change.project]
        parent_files = proj.trees[parent]
        _apply(tree, files)
        number = len(change.patch_sets) + 1
        person = self.person(change.owner, stamp)
        uploader_person = self.person(uploader, stamp)
        sha = proj.git.commit(proj.git.tree(tree), [parent], person, uploader_person, message)
        ps = PatchSet(
            number=number,
            sha=sha,
            parent_sha=parent,
            parent_subject=proj.subjects.get(parent, ""),
            files=tree,
            parent_files=parent_files,
            uploader=uploader,
            created=stamp,
            message=message,
            author=person,
            committer=uploader_person,
        )
        ps.ref = f"{change.ref_prefix}/{number}"
        if change.patch_sets:
            ps.kind = _change_kind(change.current, ps)
        proj.git.set_ref(ps.ref, sha)
        previous = change.current if change.patch_sets else None
        change.patch_sets.append(ps)
        change.subject = ps.subject
        change.votes[number] = _copied_votes(change, previous, ps) if previous else {}
        text = f"Uploaded patch set {number}."
        if ps.kind == "NO_CODE_CHANGE":
            text = f"Uploaded patch set {number}: Commit message was updated."
        tag = (
            "autogenerated:gerrit:newWipPatchSet"
            if change.wip
            else "autogenerated:gerrit:newPatchSet"
        )
        self._append_message(change, uploader, stamp, text, tag, number)
        change.attention.pop(uploader, None)
        change.updated = max(change.updated, stamp)
        self._event("patchset-created", change, ps, stamp, uploader=uploader)
        return ps

    @_locked
    def add_patchset(
        self,
        change: Change | int,
        files: Files | None = None,
        *,
        uploader: Account | int | str | None = None,
        created: datetime | None = None,
        subject: str | None = None,
        body: str | None = None,
        rebase: bool = False,
    ) -> PatchSet:
        """Upload a new patch set: ``files`` apply on top of the previous patch set.

        ``rebase=True`` moves the parent to the branch tip (keeping the change's edits).
        """
        change = self.change(change)
        if not change.is_open:
            raise RestError(409, f"change {change.number} is closed")
        stamp = self._when(created)
        proj = self.projects[change.project]
        previous = change.current
        if rebase:
            parent = proj.branches[change.branch]
            tree = dict(proj.trees[parent])
            _apply(tree, _delta(previous.parent_files, previous.files))
        else:
            parent = previous.parent_sha
            tree = dict(previous.files)
        message = previous.message
        if subject is not None or body is not None:
            new_subject = subject if subject is not None else previous.subject
            text = new_subject + (f"\n\n{body.strip()}" if body and body.strip() else "")
            message = with_change_id(text, change.change_id)
        uploader_id = self.account(uploader).id if uploader is not None else change.owner
        return self._new_patch_set(change, parent, tree, files or {}, message, uploader_id, stamp)

    def _append_message(
        self,
        change: Change,
        author: int | None,
        date: datetime,
        text: str,
        tag: str | None,
        revision: int | None,
    ) -> Message:
        message = Message(
            id=self._next_id("message"),
            author=author,
            date=date,
            message=text,
            tag=tag,
            revision_number=revision,
        )
        change.messages.append(message)
        return message

    # -- review (REST set-review and its story shortcuts) ---------------------------------

    @_locked
    def post_review(
        self,
        change: Change,
        ps: PatchSet,
        account_id: int,
        review: Mapping[str, Any],
        *,
        date: datetime | None = None,
    ) -> dict[str, Any]:
        """``POST .../revisions/{rev}/review`` with a ReviewInput; returns the ReviewResult."""
        if not isinstance(review, Mapping):
            raise RestError(400, "Invalid application/json in request")
        message = review.get("message")
        if message is not None and not isinstance(message, str):
            raise RestError(400, "Invalid application/json in request")
        tag = review.get("tag")
        notify = review.get("notify")
        if notify is not None and notify not in NOTIFY_VALUES:
            raise RestError(400, f"Invalid value for notify: {notify}")
        drafts = review.get("drafts")
        if drafts is not None and drafts not in DRAFT_VALUES:
            raise RestError(400, f"Invalid value for drafts: {drafts}")
        if review.get("ready") and review.get("work_in_progress"):
            raise RestError(400, "work_in_progress and ready are mutually exclusive")
        text = (message or "").strip()
        self._check_size(text)
        comments = self._validate_comments(change, ps, review.get("comments"))
        votes = self._validate_labels(change, ps, account_id, review.get("labels"))
        reviewer_inputs = review.get("reviewers") or []
        if not isinstance(reviewer_inputs, list):
            raise RestError(400, "Invalid application/json in request")
        resolved, errors = [], {}
        for item in reviewer_inputs:
            item = item if isinstance(item, Mapping) else {"reviewer": item}
            if (item.get("state") or "REVIEWER") not in ("REVIEWER", "CC", "REMOVED"):
                raise RestError(400, f"Invalid value for state: {item.get('state')}")
            try:
                resolved.append((item, self._reviewer_targets(item)))
            except RestError as error:
                errors[str(item.get("reviewer"))] = error.json_body
        if errors:
            raise RestError(
                400,
                "error adding reviewer",
                {"reviewers": errors, "error": "error adding reviewer"},
            )
        attention_add = self._attention_inputs(review.get("add_to_attention_set"))
        attention_remove = self._attention_inputs(review.get("remove_from_attention_set"))

        # Everything is valid: apply it.
        stamp = self._when(date)
        account_tag = tag if isinstance(tag, str) else None
        new_comments = self._insert_comments(
            change,
            ps,
            account_id,
            comments,
            account_tag,
            stamp,
            omit_duplicates=bool(review.get("omit_duplicate_comments")),
        )
        old_votes = {
            label: a.value
            for (label, acc), a in change.votes[ps.number].items()
            if acc == account_id
        }
        delta = self._apply_votes(change, ps, account_id, votes, account_tag, stamp)
        dirty = bool(new_comments or delta or text)
        comment_text = ""
        result: dict[str, Any] = {}
        if votes:
            result["labels"] = dict(votes)
        if dirty:
            parts = "".join(" " + _format_vote(label, value) for label, value in delta)
            if new_comments:
                count = len(new_comments)
                parts += f"\n\n({count} comment{'s' if count != 1 else ''})"
            if text:
                parts += f"\n\n{text}"
            comment_text = f"Patch Set {ps.number}:{parts}"
            cm = self._append_message(
                change, account_id, stamp, comment_text, account_tag, ps.number
            )
            for comment in new_comments:
                comment.change_message_id = cm.id
            if account_id != change.owner or votes:
                state = "REVIEWER" if votes else "CC"
                current = change.reviewers.get(account_id)
                if current is None or (current == "CC" and state == "REVIEWER"):
                    self._set_reviewer(change, account_id, state, account_id, stamp)
            if not review.get("ignore_automatic_attention_set_rules"):
                self._reply_attention(change, account_id, delta, stamp)
        if review.get("ready") and change.wip:
            self._set_wip(change, False, account_id, stamp)
            result["ready"] = True
        elif review.get("work_in_progress") and not change.wip:
            self._set_wip(change, True, account_id, stamp)
        if resolved:
            result["reviewers"] = {}
            for item, (targets, group) in resolved:
                state = item.get("state") or "REVIEWER"
                result["reviewers"][str(item["reviewer"])] = self._apply_reviewers(
                    change, str(item["reviewer"]), targets, group, state, account_id, stamp
                )
        for user, reason in attention_add:
            self._attention_add(change, user, reason, account_id, stamp, quiet=True)
        for user, _reason in attention_remove:
            change.attention.pop(user.id, None)
        if dirty or resolved or attention_add or attention_remove:
            change.updated = max(change.updated, stamp)
        if dirty:
            approvals = []
            for (label, acc), approval in sorted(change.votes[ps.number].items()):
                if acc != account_id:
                    continue
                entry = {"type": label, "description": label, "value": str(approval.value)}
                if label in votes and old_votes.get(label, 0) != approval.value:
                    entry["oldValue"] = str(old_votes.get(label, 0))
                approvals.append(entry)
            for label, value in delta:  # removed votes still show, with value 0
                if value == 0:
                    approvals.append(
                        {
                            "type": label,
                            "description": label,
                            "value": "0",
                            "oldValue": str(old_votes.get(label, 0)),
                        }
                    )
            self._event(
                "comment-added",
                change,
                ps,
                stamp,
                author=account_id,
                comment=_event_comment(comment_text, ps.number, new_comments),
                approvals=approvals,
            )
        return result

    def _check_size(self, text: str) -> None:
        size = len(text.encode())
        if size > self.comment_size_limit:
            raise RestError(
                400,
                "One or more comments were rejected in validation: Comment size exceeds limit"
                f" ({size} > {self.comment_size_limit})",
            )

    def _validate_comments(
        self, change: Change, ps: PatchSet, comments: object
    ) -> list[tuple[str, Mapping[str, Any]]]:
        if comments is None:
            return []
        if not isinstance(comments, Mapping):
            raise RestError(400, "Invalid application/json in request")
        allowed = set(ps.changed_paths()) | {COMMIT_MSG, PATCHSET_LEVEL}
        known_ids = {c.id for c in change.comments}
        result = []
        for path, items in comments.items():
            if path not in allowed:
                raise RestError(
                    400, f"file {path} not found in revision {change.number},{ps.number}"
                )
            if not isinstance(items, list):
                raise RestError(400, "Invalid application/json in request")
            for item in items:
                if not isinstance(item, Mapping):
                    raise RestError(400, "Invalid application/json in request")
                text = item.get("message")
                if not isinstance(text, str) or not text.strip():
                    raise RestError(400, f"comment message on {path} must not be empty")
                self._check_size(text)
                line = item.get("line")
                if line is not None and (not isinstance(line, int) or isinstance(line, bool)):
                    raise RestError(400, "Invalid application/json in request")
                if line is not None and line < 0:
                    raise RestError(400, f"negative line number {line} not allowed on {path}")
                span = item.get("range")
                if path == PATCHSET_LEVEL and (line or span or item.get("side")):
                    raise RestError(400, "Patchset-level comments can't have line, range or side")
                if span is not None:
                    _check_range(span, path)
                side = item.get("side")
                if side is not None and side not in ("REVISION", "PARENT"):
                    raise RestError(400, "Invalid application/json in request")
                reply_to = item.get("in_reply_to")
                if reply_to is not None and reply_to not in known_ids:
                    raise RestError(400, f"Invalid inReplyTo, comment {reply_to} not found")
                result.append((path, item))
        return result

    def _validate_labels(
        self, change: Change, ps: PatchSet, account_id: int, labels: object
    ) -> dict[str, int]:
        if labels is None:
            return {}
        if not isinstance(labels, Mapping):
            raise RestError(400, "Invalid application/json in request")
        project = self.projects[change.project]
        votes: dict[str, int] = {}
        for name, raw in labels.items():
            try:
                value = int(str(raw).strip())
            except ValueError:
                raise RestError(400, "Invalid application/json in request") from None
            label = project.labels.get(name)
            if label is None:
                if self.strict_labels:
                    raise RestError(400, f'label "{name}" is not a configured label')
                continue
            if value not in label.values:
                if self.strict_labels:
                    raise RestError(400, f'label "{name}": {value} is not a valid value')
                continue
            low, high = label.permitted(account_id in project.cores or self.is_admin(account_id))
            if not low <= value <= high:
                raise RestError(403, f'Applying label "{name}": {value} is restricted')
            votes[name] = value
        if not votes:
            return votes
        if change.status == "ABANDONED":
            raise RestError(409, "change is closed")
        if change.status == "MERGED":
            denied = sorted(n for n in votes if not project.labels[n].allow_post_submit)
            if denied:
                raise RestError(
                    409, f"Voting on labels disallowed after submit: {', '.join(denied)}"
                )
            current = change.current_votes()
            lowered = sorted(
                n
                for n, v in votes.items()
                if (n, account_id) in current and v < current[(n, account_id)].value
            )
            if lowered:
                raise RestError(
                    409, f"Cannot reduce vote on labels for closed change: {', '.join(lowered)}"
                )
        if self.reject_outdated_votes and ps.number != change.current.number:
            raise RestError(
                409,
                f"sandbox (reject_outdated_votes): patch set {ps.number} is not current"
                f" (current is {change.current.number})",
            )
        return votes

    def _insert_comments(
        self,
        change: Change,
        ps: PatchSet,
        account_id: int,
        comments: list[tuple[str, Mapping[str, Any]]],
        tag: str | None,
        stamp: datetime,
        *,
        omit_duplicates: bool,
    ) -> list[Comment]:
        existing = {_comment_key(c) for c in change.comments} if omit_duplicates else set()
        by_id = {c.id: c for c in change.comments}
        inserted = []
        for path, item in comments:
            span = dict(item["range"]) if item.get("range") else None
            line = span["end_line"] if span else (item.get("line") or None)
            reply_to = item.get("in_reply_to")
            unresolved = item.get("unresolved")
            if unresolved is None:
                unresolved = by_id[reply_to].unresolved if reply_to else False
            comment = Comment(
                id=self._comment_id(),
                path=path,
                patch_set=ps.number,
                message=item["message"],
                author=account_id,
                updated=stamp,
                commit_id=ps.sha if item.get("side") != "PARENT" else ps.parent_sha,
                line=line,
                range=span,
                side=item.get("side") or "REVISION",
                parent=1 if item.get("side") == "PARENT" else None,
                in_reply_to=reply_to,
                tag=tag,
                unresolved=bool(unresolved),
            )
            key = _comment_key(comment)
            if key in existing:
                continue
            existing.add(key)
            inserted.append(comment)
        change.comments.extend(inserted)
        return inserted

    def _apply_votes(
        self,
        change: Change,
        ps: PatchSet,
        account_id: int,
        votes: Mapping[str, int],
        tag: str | None,
        stamp: datetime,
    ) -> list[tuple[str, int]]:
        table = change.votes[ps.number]
        delta = []
        for label, value in votes.items():
            old = table.get((label, account_id))
            if (old.value if old else 0) == value:
                continue
            if value == 0:
                del table[(label, account_id)]
            else:
                table[(label, account_id)] = Approval(
                    label,
                    account_id,
                    value,
                    stamp,
                    ps.number,
                    tag,
                    post_submit=change.status == "MERGED",
                )
            delta.append((label, value))
        return delta

    def _reply_attention(
        self, change: Change, account_id: int, delta: list[tuple[str, int]], stamp: datetime
    ) -> None:
        """Gerrit's automatic attention-set rules for a reply (user-attention-set.txt)."""
        reason = f"<GERRIT_ACCOUNT_{account_id}> replied on the change"
        if self.is_service_user(account_id):
            # Service users only bring the owner back with a negative vote.
            if not change.wip and any(value < 0 for _, value in delta):
                self._attention_add(
                    change,
                    self.accounts[change.owner],
                    "A robot voted negatively on a label",
                    account_id,
                    stamp,
                    quiet=True,
                )
            return
        change.attention.pop(account_id, None)
        if not change.wip and account_id != change.owner:
            self._attention_add(
                change, self.accounts[change.owner], reason, account_id, stamp, quiet=True
            )

    # story shortcuts over post_review

    @_locked
    def review(
        self,
        change: Change | int,
        author: Account | int | str,
        message: str | None = None,
        *,
        labels: Mapping[str, int] | None = None,
        comments: Mapping[str, list[Mapping[str, Any]]] | None = None,
        tag: str | None = None,
        date: datetime | None = None,
        patch_set: int | None = None,
    ) -> dict[str, Any]:
        """Post a review as ``author`` (the same rules as the REST endpoint)."""
        change = self.change(change)
        ps = change.patch_set(patch_set) if patch_set else change.current
        review: dict[str, Any] = {"message": message, "tag": tag}
        if labels:
            review["labels"] = dict(labels)
        if comments:
            review["comments"] = {k: list(v) for k, v in comments.items()}
        return self.post_review(change, ps, self.account(author).id, review, date=date)

    @_locked
    def add_message(
        self,
        change: Change | int,
        author: Account | int | str,
        text: str,
        *,
        tag: str | None = None,
        date: datetime | None = None,
        patch_set: int | None = None,
    ) -> Message:
        """A review with only a message (stored as ``Patch Set N:\\n\\ntext``)."""
        change = self.change(change)
        self.review(change, author, text, tag=tag, date=date, patch_set=patch_set)
        return change.messages[-1]

    @_locked
    def vote(
        self,
        change: Change | int,
        account: Account | int | str,
        label: str,
        value: int,
        *,
        message: str | None = None,
        tag: str | None = None,
        date: datetime | None = None,
        patch_set: int | None = None,
    ) -> dict[str, Any]:
        return self.review(
            change,
            account,
            message,
            labels={label: value},
            tag=tag,
            date=date,
            patch_set=patch_set,
        )

    # -- reviewers ------------------------------------------------------------------------

    def _reviewer_targets(self, item: Mapping[str, Any]) -> tuple[list[Account], Group | None]:
        """Accounts a ReviewerInput names; errors carry a ReviewerResult JSON body."""
        text = item.get("reviewer")
        if not isinstance(text, str | int) or str(text).strip() == "":
            raise RestError(
                400, "missing field: reviewer", {"input": text, "error": "reviewer is required"}
            )
        text = str(text)
        account = self.find_account(text)
        if account is not None:
            return [account], None
        group = self.find_group(text)
        if group is None:
            raise RestError(
                400,
                f"{text} does not identify a registered user or group",
                {"input": text, "error": f"{text} does not identify a registered user or group"},
            )
        members = [a for a in self.group_members(group) if a.active]
        if len(members) > MAX_REVIEWERS_ALLOWED:
            error = f"The group {group.name} has too many members to add them all as reviewers."
            raise RestError(400, error, {"input": text, "error": error})
        if len(members) > MAX_REVIEWERS_WITHOUT_CONFIRMATION and not item.get("confirmed"):
            error = (
                f"The group {group.name} has {len(members)} members."
                " Do you want to add them all as reviewers?"
            )
            raise RestError(400, error, {"input": text, "error": error, "confirm": True})
        return members, group

    @_locked
    def post_reviewer(
        self,
        change: Change,
        by: int,
        item: Mapping[str, Any],
        *,
        date: datetime | None = None,
    ) -> dict[str, Any]:
        """``POST /changes/{id}/reviewers``: ReviewerResult with account ids, not yet rendered."""
        state = item.get("state") or "REVIEWER"
        if state not in ("REVIEWER", "CC", "REMOVED"):
            raise RestError(400, f"Invalid value for state: {state}")
        targets, group = self._reviewer_targets(item)
        stamp = self._when(date)
        result = self._apply_reviewers(
            change, str(item["reviewer"]), targets, group, state, by, stamp
        )
        change.updated = max(change.updated, stamp)
        return result

    def _apply_reviewers(
        self,
        change: Change,
        text: str,
        targets: list[Account],
        group: Group | None,
        state: str,
        by: int,
        stamp: datetime,
    ) -> dict[str, Any]:
        result: dict[str, Any] = {"input": text}
        changed = []
        for account in targets:
            if state == "REMOVED":
                if change.reviewers.pop(account.id, None) is not None:
                    change.reviewer_updates.append(ReviewerUpdate(stamp, by, account.id, "REMOVED"))
                    change.attention.pop(account.id, None)
                    changed.append(account.id)
                continue
            if change.reviewers.get(account.id) == state:
                continue
            self._set_reviewer(change, account.id, state, by, stamp, explicit=True)
            changed.append(account.id)
        key = {"REVIEWER": "reviewers", "CC": "ccs", "REMOVED": "removed"}[state]
        result[key] = changed
        return result

    def _set_reviewer(
        self,
        change: Change,
        account_id: int,
        state: str,
        by: int,
        stamp: datetime,
        *,
        explicit: bool = False,
    ) -> None:
        change.reviewers[account_id] = state
        change.reviewer_updates.append(ReviewerUpdate(stamp, by, account_id, state))
        if state == "REVIEWER":
            if account_id != by:
                self._attention_add(
                    change, self.accounts[account_id], "Reviewer was added", by, stamp, quiet=True
                )
            if explicit:  # votes make reviewers silently; only explicit adds fire the event
                self._event(
                    "reviewer-added", change, change.current, stamp, reviewer=account_id, adder=by
                )
        else:
            change.attention.pop(account_id, None)

    @_locked
    def add_reviewer(
        self,
        change: Change | int,
        reviewer: Account | int | str,
        *,
        state: str = "REVIEWER",
        by: Account | int | str | None = None,
        date: datetime | None = None,
    ) -> None:
        """Add an account or group as reviewer (or CC) of ``change``."""
        change = self.change(change)
        by_id = self.account(by).id if by is not None else change.owner
        text = str(reviewer.id) if isinstance(reviewer, Account) else str(reviewer)
        self.post_reviewer(change, by_id, {"reviewer": text, "state": state}, date=date)

    @_locked
    def remove_reviewer(self, change: Change, account: Account, by: int) -> None:
        if account.id not in change.reviewers:
            raise not_found(str(account.id))
        stamp = self._when(None)
        self._apply_reviewers(change, str(account.id), [account], None, "REMOVED", by, stamp)
        change.updated = max(change.updated, stamp)

    # -- attention set --------------------------------------------------------------------

    def _attention_inputs(self, items: object) -> list[tuple[Account, str]]:
        if items is None:
            return []
        if not isinstance(items, list):
            raise RestError(400, "Invalid application/json in request")
        result = []
        for item in items:
            if not isinstance(item, Mapping):
                raise RestError(400, "Invalid application/json in request")
            user, reason = item.get("user"), item.get("reason")
            if user is None or str(user).strip() == "":
                raise RestError(400, "missing field: user")
            if not reason:
                raise RestError(400, "missing field: reason")
            account = self.find_account(str(user))
            if account is None:
                raise RestError(400, f"{user} does not identify a registered user")
            result.append((account, str(reason)))
        return result

    def _attention_add(
        self,
        change: Change,
        account: Account,
        reason: str,
        by: int,
        stamp: datetime,
        *,
        quiet: bool,
    ) -> None:
        if self.is_service_user(account.id):
            if quiet:
                return
            raise RestError(
                400,
                f"{account.username} is a robot, and robots can't be added to the attention set.",
            )
        involved = (
            account.id == change.owner
            or account.id in change.reviewers
            or any(ps.uploader == account.id for ps in change.patch_sets)
        )
        if not involved or account.id in change.attention:
            return  # Gerrit ignores both silently
        change.attention[account.id] = AttentionEntry(
            account.id, stamp, reason, by if by != account.id else None
        )

    @_locked
    def post_attention(self, change: Change, by: int, item: Mapping[str, Any]) -> Account:
        """``POST /changes/{id}/attention`` (AttentionSetInput: user, reason)."""
        ((account, reason),) = self._attention_inputs([item])
        stamp = self._when(None)
        self._attention_add(change, account, reason, by, stamp, quiet=False)
        change.updated = max(change.updated, stamp)
        return account

    @_locked
    def add_attention(
        self,
        change: Change | int,
        account: Account | int | str,
        reason: str = "Added by the test",
        *,
        by: Account | int | str | None = None,
    ) -> None:
        """Put ``account`` in the attention set (as the REST endpoint would)."""
        change = self.change(change)
        by_id = self.account(by).id if by is not None else change.owner
        self.post_attention(
            change, by_id, {"user": str(self.account(account).id), "reason": reason}
        )

    @_locked
    def remove_attention(self, change: Change | int, account: Account | int | str) -> None:
        """Take ``account`` out of the attention set (absent: nothing happens)."""
        change = self.change(change)
        account = self.account(account)
        if change.attention.pop(account.id, None) is not None:
            change.updated = max(change.updated, self._when(None))

    # -- change state ---------------------------------------------------------------------

    def _require_owner(self, change: Change, by: int, action: str) -> None:
        if by != change.owner and not self.is_admin(by):
            raise RestError(403, f"{action} not permitted")

    @_locked
    def merge(
        self,
        change: Change | int,
        *,
        submitter: Account | int | str | None = None,
        date: datetime | None = None,
    ) -> str:
        """Submit ``change``: the branch moves to include it. Returns the new branch tip."""
        change = self.change(change)
        if not change.is_open:
            raise RestError(409, f"change is {change.status.lower()}")
        stamp = self._when(date)
        who = self.account(submitter).id if submitter is not None else change.owner
        proj = self.projects[change.project]
        ps = change.current
        tip = proj.branches[change.branch]
        if tip == ps.parent_sha:
            new_tip = ps.sha
            proj.trees[new_tip] = ps.files
        else:  # cherry-pick the change's edits onto the moved branch
            tree = dict(proj.trees[tip])
            _apply(tree, _delta(ps.parent_files, ps.files))
            committer = self.person(who, stamp)
            new_tip = proj.git.commit(proj.git.tree(tree), [tip], ps.author, committer, ps.message)
            proj.trees[new_tip] = tree
        proj.subjects[new_tip] = ps.subject
        proj.branches[change.branch] = new_tip
        proj.git.set_ref(f"refs/heads/{change.branch}", new_tip)
        change.status = "MERGED"
        change.submitted = stamp
        change.submitter = who
        change.attention.clear()
        self._append_message(
            change,
            who,
            stamp,
            f"Change has been successfully merged by {self.accounts[who].name}",
            "autogenerated:gerrit:merged",
            ps.number,
        )
        change.updated = max(change.updated, stamp)
        self._event("change-merged", change, ps, stamp, submitter=who, newRev=new_tip)
        return new_tip

    @_locked
    def abandon(
        self,
        change: Change | int,
        *,
        by: Account | int | str | None = None,
        reason: str | None = None,
        date: datetime | None = None,
    ) -> None:
        change = self.change(change)
        who = self.account(by).id if by is not None else change.owner
        if not change.is_open:
            raise RestError(409, f"change is {change.status.lower()}")
        stamp = self._when(date)
        change.status = "ABANDONED"
        change.attention.clear()
        text = "Abandoned" + (f"\n\n{reason.strip()}" if reason and reason.strip() else "")
        self._append_message(
            change, who, stamp, text, "autogenerated:gerrit:abandon", change.current.number
        )
        change.updated = max(change.updated, stamp)
        self._event(
            "change-abandoned", change, change.current, stamp, abandoner=who, reason=reason or ""
        )

    @_locked
    def restore(
        self,
        change: Change | int,
        *,
        by: Account | int | str | None = None,
        reason: str | None = None,
        date: datetime | None = None,
    ) -> None:
        change = self.change(change)
        who = self.account(by).id if by is not None else change.owner
        if change.status != "ABANDONED":
            raise RestError(409, f"change is {change.status.lower()}")
        stamp = self._when(date)
        change.status = "NEW"
        text = "Restored" + (f"\n\n{reason.strip()}" if reason and reason.strip() else "")
        self._append_message(
            change, who, stamp, text, "autogenerated:gerrit:restore", change.current.number
        )
        change.updated = max(change.updated, stamp)
        self._event(
            "change-restored", change, change.current, stamp, restorer=who, reason=reason or ""
        )

    @_locked
    def set_wip(
        self,
        change: Change | int,
        wip: bool = True,
        *,
        by: Account | int | str | None = None,
        date: datetime | None = None,
    ) -> None:
        change = self.change(change)
        who = self.account(by).id if by is not None else change.owner
        if change.wip == wip:
            return
        self._set_wip(change, wip, who, self._when(date))

    def _set_wip(self, change: Change, wip: bool, who: int, stamp: datetime) -> None:
        if not change.is_open:
            raise RestError(409, f"change is {change.status.lower()}")
        change.wip = wip
        if wip:
            change.attention.clear()
            text, tag = "Set Work In Progress", "autogenerated:gerrit:setWorkInProgress"
        else:
            change.has_review_started = True
            text, tag = "Set Ready For Review", "autogenerated:gerrit:setReadyForReview"
            for account_id, state in change.reviewers.items():
                if state == "REVIEWER":
                    self._attention_add(
                        change,
                        self.accounts[account_id],
                        "Change was marked ready for review",
                        who,
                        stamp,
                        quiet=True,
                    )
        self._append_message(change, who, stamp, text, tag, change.current.number)
        change.updated = max(change.updated, stamp)
        self._event("wip-state-changed", change, change.current, stamp, changer=who)

    @_locked
    def set_private(
        self,
        change: Change | int,
        private: bool = True,
        *,
        by: Account | int | str | None = None,
        date: datetime | None = None,
    ) -> None:
        change = self.change(change)
        who = self.account(by).id if by is not None else change.owner
        if change.private == private:
            return
        stamp = self._when(date)
        change.private = private
        text, tag = (
            ("Set private", "autogenerated:gerrit:setPrivate")
            if private
            else ("Unset private", "autogenerated:gerrit:unsetPrivate")
        )
        self._append_message(change, who, stamp, text, tag, change.current.number)
        change.updated = max(change.updated, stamp)
        self._event("private-state-changed", change, change.current, stamp, changer=who)

    @_locked
    def set_topic(
        self,
        change: Change | int,
        topic: str | None,
        *,
        by: Account | int | str | None = None,
        date: datetime | None = None,
    ) -> None:
        change = self.change(change)
        who = self.account(by).id if by is not None else change.owner
        old = change.topic
        if old == topic:
            return
        stamp = self._when(date)
        change.topic = topic or None
        text = f"Topic set to {topic}" if topic else f"Topic {old} removed"
        self._append_message(
            change, who, stamp, text, "autogenerated:gerrit:setTopic", change.current.number
        )
        change.updated = max(change.updated, stamp)
        self._event("topic-changed", change, None, stamp, changer=who, oldTopic=old or "")


# --- small helpers -------------------------------------------------------------------------


def _apply(tree: dict[str, bytes], files: Files) -> None:
    for path, content in files.items():
        path = path.strip("/")
        if content is None:
            tree.pop(path, None)
        else:
            tree[path] = content.encode() if isinstance(content, str) else bytes(content)


def _delta(before: Mapping[str, bytes], after: Mapping[str, bytes]) -> dict[str, bytes | None]:
    delta: dict[str, bytes | None] = {}
    for path in set(before) | set(after):
        if before.get(path) != after.get(path):
            delta[path] = after.get(path)
    return delta


def _change_kind(previous: PatchSet, new: PatchSet) -> str:
    same_parent = previous.parent_sha == new.parent_sha
    same_delta = _delta(previous.parent_files, previous.files) == _delta(
        new.parent_files, new.files
    )
    same_message = previous.message == new.message
    if same_parent and previous.files == new.files:
        return "NO_CHANGE" if same_message else "NO_CODE_CHANGE"
    if not same_parent and same_delta:
        return "TRIVIAL_REBASE" if same_message else "TRIVIAL_REBASE_WITH_MESSAGE_UPDATE"
    return "REWORK"


def _copied_votes(
    change: Change, previous: PatchSet, new: PatchSet
) -> dict[tuple[str, int], Approval]:
    """Votes carried to a new patch set: all of them for trivial rebases and message-only
    updates, and a Code-Review minimum (-2) always (Gerrit's default copy conditions)."""
    copied = {}
    for key, approval in change.votes.get(previous.number, {}).items():
        trivial = new.kind in (
            "NO_CHANGE",
            "NO_CODE_CHANGE",
            "TRIVIAL_REBASE",
            "TRIVIAL_REBASE_WITH_MESSAGE_UPDATE",
        )
        if trivial or (approval.label == "Code-Review" and approval.value == -2):
            copied[key] = Approval(
                approval.label,
                approval.account,
                approval.value,
                approval.date,
                new.number,
                approval.tag,
            )
    return copied


def _event_comment(message: str, patch_set: int, comments: list[Comment]) -> str:
    """``comment`` of comment-added: since 3.3 a patch-set-level comment's text wins."""
    for comment in comments:
        if comment.path == PATCHSET_LEVEL and comment.message:
            return f"Patch Set {patch_set}:\n\n{comment.message}"
    return message


def _format_vote(label: str, value: int) -> str:
    if value == 0:
        return f"-{label}"
    return f"{label}{value:+d}"


def _comment_key(comment: Comment) -> tuple[Any, ...]:
    span = tuple(sorted(comment.range.items())) if comment.range else None
    return (
        comment.path,
        comment.patch_set,
        comment.line,
        comment.side,
        comment.message,
        span,
    )


def _check_range(span: object, path: str) -> None:
    if not isinstance(span, Mapping):
        raise RestError(400, "Invalid application/json in request")
    try:
        start_line, start_char = int(span["start_line"]), int(span.get("start_character", 0))
        end_line, end_char = int(span["end_line"]), int(span.get("end_character", 0))
    except (KeyError, TypeError, ValueError):
        raise RestError(400, f"Range is not valid for the comment on {path}") from None
    valid = (
        start_line > 0
        and end_line > 0
        and start_char >= 0
        and end_char >= 0
        and (start_line < end_line or (start_line == end_line and start_char <= end_char))
    )
    if not valid:
        raise RestError(
            400,
            f"Range ({start_line}:{start_char} - {end_line}:{end_char})"
            f" is not valid for the comment on {path}",
        )
