"""The sandbox's Gerrit data and the lookups every operation shares.

``GerritState`` holds accounts, groups, projects and changes in memory (patch sets are real
git commits, see ``git.py``) behind one lock. The operations are functions over the state,
in three modules that share one set of rules:

* ``people.py``: accounts, groups, reviewers and the attention set;
* ``reviews.py``: set-review (``post_review``) and its story shortcuts (``review``,
  ``vote``, ``add_message``);
* ``lifecycle.py``: projects, direct pushes, changes and patch sets, merge, abandon,
  restore, WIP, private, topic.

Story functions (for tests and seeds) take accounts and changes by name/number and accept
explicit dates; REST operations take the authenticated caller and raise ``RestError`` with
Gerrit's status codes and messages.

Side effects follow Gerrit's rest-api-changes.html, set-review: a vote makes the voter a reviewer, a
comment without a vote makes them CC, each write appends a change message and bumps
``updated``, reviewers join the attention set, WIP/abandon/merge clear it. Every write also
emits a stream-events-shaped dict (``events.emit``) to the registered listeners (the
webhook dispatcher and the stream-events server).
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from govbot.sandbox.entities import (
    ADMINISTRATORS,
    SERVICE_USERS,
    Account,
    Change,
    Clock,
    Group,
    PatchSet,
    Project,
    RestError,
    locked,
    make_group,
    not_found,
    stamp_of,
)
from govbot.sandbox.git import Person

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
        max_file_size_download: int = 0,
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
        # change.maxFileSizeDownload: /content refuses bigger files with 400 (0: no limit).
        self.max_file_size_download = max_file_size_download
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
        for name, description in (
            (ADMINISTRATORS, "Gerrit Site Administrators"),
            (SERVICE_USERS, "Bots and other non-human accounts"),
        ):
            group = make_group(
                name,
                len(self.groups) + 1,
                description=description,
                visible_to_all=True,
                when=self.stamp(None),
            )
            self.groups[group.uuid] = group

    # -- helpers --------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def stamp(self, when: datetime | None) -> datetime:
        return stamp_of(when if when is not None else self.clock.now())

    def next_id(self, kind: str) -> str:
        self._serial += 1
        return hashlib.sha1(f"{kind}-{self._serial}".encode()).hexdigest()

    def comment_id(self) -> str:
        digest = self.next_id("comment")
        return f"{digest[:8]}_{digest[8:16]}"

    def emit(self, event: dict[str, Any]) -> None:
        self.event_log.append(event)
        for listener in list(self.listeners):
            listener(event)

    def person(self, account_id: int, when: datetime) -> Person:
        account = self.accounts[account_id]
        return Person(account.name, account.email, when)

    # -- lookups --------------------------------------------------------------------------

    @locked
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

    @locked
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

    @locked
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

    def git_url(self, project: str) -> str:
        """``file://`` URL of the project's bare repository."""
        return self.projects[project].git.url

    @property
    def git_url_template(self) -> str:
        """``GOVBOT_GIT_URL`` for this sandbox: ``file://.../{project}.git``."""
        return (self.root / "git").resolve().as_uri() + "/{project}.git"

    # -- changes and patch sets -----------------------------------------------------------

    # -- review (REST set-review and its story shortcuts) ---------------------------------

    # story shortcuts over post_review

    # -- reviewers ------------------------------------------------------------------------

    # -- attention set --------------------------------------------------------------------

    # -- change state ---------------------------------------------------------------------
