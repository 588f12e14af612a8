"""Projects, direct pushes, changes and patch sets, and a change's state: merge, abandon,
restore, WIP, private, topic. Functions over ``GerritState``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime

from govbot.sandbox import events
from govbot.sandbox.entities import (
    DEFAULT_LABELS,
    Account,
    Approval,
    Change,
    Files,
    LabelType,
    Message,
    PatchSet,
    Project,
    RestError,
    locked,
    with_change_id,
)
from govbot.sandbox.git import GitStore, Person
from govbot.sandbox.people import add_account, attention_add
from govbot.sandbox.state import GerritState


@locked
def add_project(
    state: GerritState,
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
    if name in state.projects:
        raise ValueError(f"project {name} exists")
    store = GitStore(state.root / "git" / f"{name}.git", default_branch=branch)
    project = Project(
        name=name,
        git=store,
        labels={lt.name: lt for lt in (labels if labels is not None else DEFAULT_LABELS.values())},
        cores={state.account(c).id for c in cores},
        description=description,
    )
    state.projects[name] = project
    stamp = state.stamp(when)
    admin = Person("Gerrit Code Review", "gerrit@example.org", stamp)
    root = store.commit(store.tree({}), [], admin, admin, "Initial empty repository\n")
    project.trees[root] = {}
    project.subjects[root] = "Initial empty repository"
    project.branches[branch] = root
    store.set_ref(f"refs/heads/{branch}", root)
    if files:
        push(state, name, files, branch=branch, message=message or f"Import {name}", when=stamp)
    return project


@locked
def push(
    state: GerritState,
    project: str,
    files: Files,
    *,
    branch: str = "master",
    message: str = "Update",
    author: Account | int | str | None = None,
    when: datetime | None = None,
) -> str:
    """A direct push to ``branch`` (no review): moves the branch, returns the commit."""
    proj = state.projects[project]
    stamp = state.stamp(when)
    base = proj.branches.get(branch)
    tree = dict(proj.trees[base]) if base else {}
    _apply(tree, files)
    person = (
        state.person(state.account(author).id, stamp)
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


@locked
def create_change(
    state: GerritState,
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
    proj = state.projects[project]
    if branch not in proj.branches:
        raise ValueError(f"{project} has no branch {branch}")
    owner_account = state.account(owner) if owner is not None else first_human(state)
    stamp = state.stamp(created)
    number = len(state.changes) + 1
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
    state.changes[number] = change
    base = proj.branches[branch]
    message = subject + (f"\n\n{body.strip()}" if body and body.strip() else "")
    new_patch_set(
        state,
        change,
        base,
        dict(proj.trees[base]),
        files or {},
        with_change_id(message, change_id),
        owner_account.id,
        stamp,
    )
    return change


def first_human(state: GerritState) -> Account:
    for account in state.accounts.values():
        if not state.is_service_user(account.id) and not state.is_admin(account.id):
            return account
    return add_account(state, "owner", "Change Owner")


def new_patch_set(
    state: GerritState,
    change: Change,
    parent: str,
    tree: dict[str, bytes],
    files: Files,
    message: str,
    uploader: int,
    stamp: datetime,
) -> PatchSet:
    proj = state.projects[change.project]
    parent_files = proj.trees[parent]
    _apply(tree, files)
    number = len(change.patch_sets) + 1
    person = state.person(change.owner, stamp)
    uploader_person = state.person(uploader, stamp)
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
        "autogenerated:gerrit:newWipPatchSet" if change.wip else "autogenerated:gerrit:newPatchSet"
    )
    append_message(state, change, uploader, stamp, text, tag, number)
    change.attention.pop(uploader, None)
    change.updated = max(change.updated, stamp)
    events.emit(state, "patchset-created", change, ps, stamp, uploader=uploader)
    return ps


@locked
def add_patchset(
    state: GerritState,
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
    change = state.change(change)
    if not change.is_open:
        raise RestError(409, f"change {change.number} is closed")
    stamp = state.stamp(created)
    proj = state.projects[change.project]
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
    uploader_id = state.account(uploader).id if uploader is not None else change.owner
    return new_patch_set(state, change, parent, tree, files or {}, message, uploader_id, stamp)


def append_message(
    state: GerritState,
    change: Change,
    author: int | None,
    date: datetime,
    text: str,
    tag: str | None,
    revision: int | None,
) -> Message:
    message = Message(
        id=state.next_id("message"),
        author=author,
        date=date,
        message=text,
        tag=tag,
        revision_number=revision,
    )
    change.messages.append(message)
    return message


def require_owner(state: GerritState, change: Change, by: int, action: str) -> None:
    if by != change.owner and not state.is_admin(by):
        raise RestError(403, f"{action} not permitted")


@locked
def merge(
    state: GerritState,
    change: Change | int,
    *,
    submitter: Account | int | str | None = None,
    date: datetime | None = None,
) -> str:
    """Submit ``change``: the branch moves to include it. Returns the new branch tip."""
    change = state.change(change)
    if not change.is_open:
        raise RestError(409, f"change is {change.status.lower()}")
    stamp = state.stamp(date)
    who = state.account(submitter).id if submitter is not None else change.owner
    proj = state.projects[change.project]
    ps = change.current
    tip = proj.branches[change.branch]
    if tip == ps.parent_sha:
        new_tip = ps.sha
        proj.trees[new_tip] = ps.files
    else:  # cherry-pick the change's edits onto the moved branch
        tree = dict(proj.trees[tip])
        _apply(tree, _delta(ps.parent_files, ps.files))
        committer = state.person(who, stamp)
        new_tip = proj.git.commit(proj.git.tree(tree), [tip], ps.author, committer, ps.message)
        proj.trees[new_tip] = tree
    proj.subjects[new_tip] = ps.subject
    proj.branches[change.branch] = new_tip
    proj.git.set_ref(f"refs/heads/{change.branch}", new_tip)
    change.status = "MERGED"
    change.submitted = stamp
    change.submitter = who
    change.attention.clear()
    append_message(
        state,
        change,
        who,
        stamp,
        f"Change has been successfully merged by {state.accounts[who].name}",
        "autogenerated:gerrit:merged",
        ps.number,
    )
    change.updated = max(change.updated, stamp)
    events.emit(state, "change-merged", change, ps, stamp, submitter=who, newRev=new_tip)
    return new_tip


@locked
def abandon(
    state: GerritState,
    change: Change | int,
    *,
    by: Account | int | str | None = None,
    reason: str | None = None,
    date: datetime | None = None,
) -> None:
    change = state.change(change)
    who = state.account(by).id if by is not None else change.owner
    if not change.is_open:
        raise RestError(409, f"change is {change.status.lower()}")
    stamp = state.stamp(date)
    change.status = "ABANDONED"
    change.attention.clear()
    text = "Abandoned" + (f"\n\n{reason.strip()}" if reason and reason.strip() else "")
    append_message(
        state, change, who, stamp, text, "autogenerated:gerrit:abandon", change.current.number
    )
    change.updated = max(change.updated, stamp)
    events.emit(
        state, "change-abandoned", change, change.current, stamp, abandoner=who, reason=reason or ""
    )


@locked
def restore(
    state: GerritState,
    change: Change | int,
    *,
    by: Account | int | str | None = None,
    reason: str | None = None,
    date: datetime | None = None,
) -> None:
    change = state.change(change)
    who = state.account(by).id if by is not None else change.owner
    if change.status != "ABANDONED":
        raise RestError(409, f"change is {change.status.lower()}")
    stamp = state.stamp(date)
    change.status = "NEW"
    text = "Restored" + (f"\n\n{reason.strip()}" if reason and reason.strip() else "")
    append_message(
        state, change, who, stamp, text, "autogenerated:gerrit:restore", change.current.number
    )
    change.updated = max(change.updated, stamp)
    events.emit(
        state, "change-restored", change, change.current, stamp, restorer=who, reason=reason or ""
    )


@locked
def set_wip(
    state: GerritState,
    change: Change | int,
    wip: bool = True,
    *,
    by: Account | int | str | None = None,
    date: datetime | None = None,
) -> None:
    change = state.change(change)
    who = state.account(by).id if by is not None else change.owner
    if change.wip == wip:
        return
    change_wip_state(state, change, wip, who, state.stamp(date))


def change_wip_state(
    state: GerritState, change: Change, wip: bool, who: int, stamp: datetime
) -> None:
    if not change.is_open:
        raise RestError(409, f"change is {change.status.lower()}")
    change.wip = wip
    if wip:
        change.attention.clear()
        text, tag = "Set Work In Progress", "autogenerated:gerrit:setWorkInProgress"
    else:
        change.has_review_started = True
        text, tag = "Set Ready For Review", "autogenerated:gerrit:setReadyForReview"
        for account_id, role in change.reviewers.items():
            if role == "REVIEWER":
                attention_add(
                    state,
                    change,
                    state.accounts[account_id],
                    "Change was marked ready for review",
                    who,
                    stamp,
                    quiet=True,
                )
    append_message(state, change, who, stamp, text, tag, change.current.number)
    change.updated = max(change.updated, stamp)
    events.emit(state, "wip-state-changed", change, change.current, stamp, changer=who)


@locked
def set_private(
    state: GerritState,
    change: Change | int,
    private: bool = True,
    *,
    by: Account | int | str | None = None,
    date: datetime | None = None,
) -> None:
    change = state.change(change)
    who = state.account(by).id if by is not None else change.owner
    if change.private == private:
        return
    stamp = state.stamp(date)
    change.private = private
    text, tag = (
        ("Set private", "autogenerated:gerrit:setPrivate")
        if private
        else ("Unset private", "autogenerated:gerrit:unsetPrivate")
    )
    append_message(state, change, who, stamp, text, tag, change.current.number)
    change.updated = max(change.updated, stamp)
    events.emit(state, "private-state-changed", change, change.current, stamp, changer=who)


@locked
def set_topic(
    state: GerritState,
    change: Change | int,
    topic: str | None,
    *,
    by: Account | int | str | None = None,
    date: datetime | None = None,
) -> None:
    change = state.change(change)
    who = state.account(by).id if by is not None else change.owner
    old = change.topic
    if old == topic:
        return
    stamp = state.stamp(date)
    change.topic = topic or None
    text = f"Topic set to {topic}" if topic else f"Topic {old} removed"
    append_message(
        state, change, who, stamp, text, "autogenerated:gerrit:setTopic", change.current.number
    )
    change.updated = max(change.updated, stamp)
    events.emit(state, "topic-changed", change, None, stamp, changer=who, oldTopic=old or "")


# --- small helpers ---


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
