"""Accounts and groups, reviewers and the attention set: functions over ``GerritState``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from govbot.sandbox import events
from govbot.sandbox.entities import (
    FIRST_ACCOUNT_ID,
    MAX_REVIEWERS_ALLOWED,
    MAX_REVIEWERS_WITHOUT_CONFIRMATION,
    SERVICE_USERS,
    Account,
    AttentionEntry,
    Change,
    Group,
    RestError,
    ReviewerUpdate,
    locked,
    make_group,
    not_found,
)
from govbot.sandbox.state import GerritState


@locked
def add_account(
    state: GerritState,
    username: str,
    name: str | None = None,
    email: str | None = None,
    *,
    password: str | None = None,
    groups: Iterable[str] = (),
    service: bool = False,
) -> Account:
    """Register an account (``service=True`` puts it in "Service Users")."""
    if any(a.username == username for a in state.accounts.values()):
        raise ValueError(f"account {username} exists")
    account = Account(
        id=FIRST_ACCOUNT_ID + len(state.accounts),
        username=username,
        name=name or username,
        email=email or f"{username}@example.org",
        password=password,
        registered_on=state.stamp(None),
    )
    state.accounts[account.id] = account
    for group in [*groups, *([SERVICE_USERS] if service else [])]:
        add_to_group(state, group, account)
    return account


@locked
def add_group(
    state: GerritState,
    name: str,
    members: Iterable[Account | int | str] = (),
    *,
    includes: Iterable[str] = (),
    description: str = "",
    visible_to_all: bool = True,
) -> Group:
    if state.find_group(name) is not None:
        raise ValueError(f"group {name} exists")
    group = make_group(
        name,
        len(state.groups) + 1,
        description=description,
        visible_to_all=visible_to_all,
        when=state.stamp(None),
    )
    state.groups[group.uuid] = group
    for member in members:
        add_to_group(state, group, member)
    for sub in includes:
        group.includes.append(state.group(sub).uuid)
    return group


@locked
def add_ssh_key(state: GerritState, account: Account | int | str, public_key: str) -> None:
    """Register an SSH public key (``ssh-ed25519 AAAA... [comment]``) of ``account``."""
    parts = public_key.split()
    if len(parts) < 2:
        raise ValueError(f"not an SSH public key: {public_key[:40]!r}")
    target = state.account(account)
    line = f"{parts[0]} {parts[1]}"
    if line not in target.ssh_keys:
        target.ssh_keys.append(line)


@locked
def add_to_group(state: GerritState, group: Group | str, account: Account | int | str) -> None:
    target = state.group(group)
    member = state.account(account)
    if member.id not in target.members:
        target.members.append(member.id)


def reviewer_targets(
    state: GerritState, item: Mapping[str, Any]
) -> tuple[list[Account], Group | None]:
    """Accounts a ReviewerInput names; errors carry a ReviewerResult JSON body."""
    text = item.get("reviewer")
    if not isinstance(text, str | int) or str(text).strip() == "":
        raise RestError(
            400, "missing field: reviewer", {"input": text, "error": "reviewer is required"}
        )
    text = str(text)
    account = state.find_account(text)
    if account is not None:
        return [account], None
    group = state.find_group(text)
    if group is None:
        raise RestError(
            400,
            f"{text} does not identify a registered user or group",
            {"input": text, "error": f"{text} does not identify a registered user or group"},
        )
    members = [a for a in state.group_members(group) if a.active]
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


@locked
def post_reviewer(
    state: GerritState,
    change: Change,
    by: int,
    item: Mapping[str, Any],
    *,
    date: datetime | None = None,
) -> dict[str, Any]:
    """``POST /changes/{id}/reviewers``: ReviewerResult with account ids, not yet rendered."""
    role = item.get("state") or "REVIEWER"
    if role not in ("REVIEWER", "CC", "REMOVED"):
        raise RestError(400, f"Invalid value for state: {state}")
    targets, group = reviewer_targets(state, item)
    stamp = state.stamp(date)
    result = apply_reviewers(state, change, str(item["reviewer"]), targets, group, role, by, stamp)
    change.updated = max(change.updated, stamp)
    return result


def apply_reviewers(
    state: GerritState,
    change: Change,
    text: str,
    targets: list[Account],
    group: Group | None,
    role: str,
    by: int,
    stamp: datetime,
    *,
    auto_attention: bool = True,
) -> dict[str, Any]:
    result: dict[str, Any] = {"input": text}
    changed = []
    for account in targets:
        if role == "REMOVED":
            if change.reviewers.pop(account.id, None) is not None:
                change.reviewer_updates.append(ReviewerUpdate(stamp, by, account.id, "REMOVED"))
                change.attention.pop(account.id, None)
                changed.append(account.id)
            continue
        if change.reviewers.get(account.id) == role:
            continue
        set_reviewer(
            state, change, account.id, role, by, stamp, explicit=True, auto_attention=auto_attention
        )
        changed.append(account.id)
    key = {"REVIEWER": "reviewers", "CC": "ccs", "REMOVED": "removed"}[role]
    result[key] = changed
    return result


def set_reviewer(
    state: GerritState,
    change: Change,
    account_id: int,
    role: str,
    by: int,
    stamp: datetime,
    *,
    explicit: bool = False,
    auto_attention: bool = True,
) -> None:
    change.reviewers[account_id] = role
    change.reviewer_updates.append(ReviewerUpdate(stamp, by, account_id, role))
    if role == "REVIEWER":
        # Gerrit's automatic rule (a new reviewer needs to act), unless the caller asked
        # to ignore the automatic rules or the change is WIP (user-attention-set.txt).
        if account_id != by and auto_attention and not change.wip:
            attention_add(
                state,
                change,
                state.accounts[account_id],
                "Reviewer was added",
                by,
                stamp,
                quiet=True,
            )
        if explicit:  # votes make reviewers silently; only explicit adds fire the event
            events.emit(
                state,
                "reviewer-added",
                change,
                change.current,
                stamp,
                reviewer=account_id,
                adder=by,
            )
    else:
        change.attention.pop(account_id, None)


@locked
def add_reviewer(
    state: GerritState,
    change: Change | int,
    reviewer: Account | int | str,
    *,
    role: str = "REVIEWER",
    by: Account | int | str | None = None,
    date: datetime | None = None,
) -> None:
    """Add an account or group as reviewer (or CC) of ``change``."""
    change = state.change(change)
    by_id = state.account(by).id if by is not None else change.owner
    text = str(reviewer.id) if isinstance(reviewer, Account) else str(reviewer)
    post_reviewer(state, change, by_id, {"reviewer": text, "state": role}, date=date)


@locked
def remove_reviewer(state: GerritState, change: Change, account: Account, by: int) -> None:
    if account.id not in change.reviewers:
        raise not_found(str(account.id))
    stamp = state.stamp(None)
    apply_reviewers(state, change, str(account.id), [account], None, "REMOVED", by, stamp)
    change.updated = max(change.updated, stamp)


def attention_inputs(state: GerritState, items: object) -> list[tuple[Account, str]]:
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
        account = state.find_account(str(user))
        if account is None:
            raise RestError(400, f"{user} does not identify a registered user")
        result.append((account, str(reason)))
    return result


def attention_add(
    state: GerritState,
    change: Change,
    account: Account,
    reason: str,
    by: int,
    stamp: datetime,
    *,
    quiet: bool,
) -> None:
    if state.is_service_user(account.id):
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
    if not involved and not quiet:
        # POST /attention refuses users with no role on the change (AttentionSetUtil);
        # only set-review's add_to_attention_set ignores them (gerrit-fidelity #15).
        raise RestError(400, f"{account.username} doesn't have a role on this change")
    if not involved or account.id in change.attention:
        return  # set-review ignores both silently
    change.attention[account.id] = AttentionEntry(
        account.id, stamp, reason, by if by != account.id else None
    )


@locked
def post_attention(state: GerritState, change: Change, by: int, item: Mapping[str, Any]) -> Account:
    """``POST /changes/{id}/attention`` (AttentionSetInput: user, reason)."""
    ((account, reason),) = attention_inputs(state, [item])
    stamp = state.stamp(None)
    attention_add(state, change, account, reason, by, stamp, quiet=False)
    change.updated = max(change.updated, stamp)
    return account


@locked
def add_attention(
    state: GerritState,
    change: Change | int,
    account: Account | int | str,
    reason: str = "Added by the test",
    *,
    by: Account | int | str | None = None,
) -> None:
    """Put ``account`` in the attention set (as the REST endpoint would)."""
    change = state.change(change)
    by_id = state.account(by).id if by is not None else change.owner
    post_attention(state, change, by_id, {"user": str(state.account(account).id), "reason": reason})


@locked
def remove_attention(
    state: GerritState, change: Change | int, account: Account | int | str
) -> None:
    """Take ``account`` out of the attention set (absent: nothing happens)."""
    change = state.change(change)
    account = state.account(account)
    if change.attention.pop(account.id, None) is not None:
        change.updated = max(change.updated, state.stamp(None))
