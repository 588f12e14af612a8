"""Set-review (``POST .../review``) and its story shortcuts (``review``, ``vote``,
``add_message``). The input is checked first (``review_input.py``); then comments, votes,
the change message, reviewers, WIP state and the attention set are applied in Gerrit's
order, and one comment-added event tells the listeners."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from govbot.sandbox import events
from govbot.sandbox.entities import (
    PATCHSET_LEVEL,
    Account,
    Approval,
    Change,
    Comment,
    Message,
    PatchSet,
    locked,
)
from govbot.sandbox.lifecycle import append_message, change_wip_state
from govbot.sandbox.people import apply_reviewers, attention_add, set_reviewer
from govbot.sandbox.review_input import Reply, validate_review
from govbot.sandbox.state import GerritState


@locked
def post_review(
    state: GerritState,
    change: Change,
    ps: PatchSet,
    account_id: int,
    review: Mapping[str, Any],
    *,
    date: datetime | None = None,
) -> dict[str, Any]:
    """``POST .../revisions/{rev}/review`` with a ReviewInput; returns the ReviewResult.

    Everything is validated before anything is applied, so a refused review changes
    nothing."""
    reply = validate_review(state, change, ps, account_id, review)
    stamp = state.stamp(date)
    new_comments = _insert_comments(state, change, ps, account_id, reply, stamp)
    old_votes = {
        label: a.value for (label, acc), a in change.votes[ps.number].items() if acc == account_id
    }
    delta = _apply_votes(state, change, ps, account_id, reply.votes, reply.tag, stamp)
    dirty = bool(new_comments or delta or reply.text)
    result: dict[str, Any] = {"labels": dict(reply.votes)} if reply.votes else {}
    comment_text = ""
    if dirty:
        comment_text = _record_reply(
            state, change, ps, account_id, reply, new_comments, delta, stamp
        )
    elif _only_people(change, account_id, reply):
        # Real Gerrit CCs the caller of a set-review that only adds reviewers or changes
        # the attention set, too (tests/contract: the reviewer-and-attention case).
        set_reviewer(state, change, account_id, "CC", account_id, stamp)
    _apply_wip(state, change, account_id, reply, stamp, result)
    if reply.reviewers:
        result["reviewers"] = _apply_reviewer_inputs(state, change, account_id, reply, stamp)
    _apply_attention(state, change, account_id, reply, stamp)
    if dirty or reply.reviewers or reply.to_attend or reply.to_release:
        change.updated = max(change.updated, stamp)
    if dirty:
        approvals = _event_approvals(change, ps, account_id, reply.votes, old_votes, delta)
        events.emit(
            state,
            "comment-added",
            change,
            ps,
            stamp,
            author=account_id,
            comment=_event_comment(comment_text, ps.number, new_comments),
            approvals=approvals,
        )
    return result


def _only_people(change: Change, account_id: int, reply: Reply) -> bool:
    """A review by someone not yet on the change that only adds reviewers or touches the
    attention set (no message, comment or vote)."""
    return (
        account_id != change.owner
        and account_id not in change.reviewers
        and bool(reply.reviewers or reply.names_attention)
    )


def _record_reply(
    state: GerritState,
    change: Change,
    ps: PatchSet,
    account_id: int,
    reply: Reply,
    new_comments: list[Comment],
    delta: list[tuple[str, int]],
    stamp: datetime,
) -> str:
    """The change message of a reply (``Patch Set N: Label+1 (2 comments) text``); the
    caller becomes a reviewer (a vote) or CC, and the attention set follows the reply.
    Returns the message's text."""
    parts = "".join(" " + _format_vote(label, value) for label, value in delta)
    if new_comments:
        count = len(new_comments)
        parts += f"\n\n({count} comment{'s' if count != 1 else ''})"
    if reply.text:
        parts += f"\n\n{reply.text}"
    comment_text = f"Patch Set {ps.number}:{parts}"
    cm = append_message(state, change, account_id, stamp, comment_text, reply.tag, ps.number)
    for comment in new_comments:
        comment.change_message_id = cm.id
    if account_id != change.owner or reply.votes:
        role = "REVIEWER" if reply.votes else "CC"
        current = change.reviewers.get(account_id)
        if current is None or (current == "CC" and role == "REVIEWER"):
            set_reviewer(state, change, account_id, role, account_id, stamp)
    if reply.auto_attention:
        _reply_attention(state, change, account_id, delta, stamp)
    return comment_text


def _apply_wip(
    state: GerritState,
    change: Change,
    account_id: int,
    reply: Reply,
    stamp: datetime,
    result: dict[str, Any],
) -> None:
    """``ready`` / ``work_in_progress`` of the ReviewInput (``ready`` is reported back)."""
    if reply.ready and change.wip:
        change_wip_state(state, change, False, account_id, stamp)
        result["ready"] = True
    elif reply.work_in_progress and not change.wip:
        change_wip_state(state, change, True, account_id, stamp)


def _apply_reviewer_inputs(
    state: GerritState, change: Change, account_id: int, reply: Reply, stamp: datetime
) -> dict[str, Any]:
    """Each ReviewerInput applied; its result under the ``reviewer`` it named."""
    results = {}
    for item, (targets, group) in reply.reviewers:
        role = item.get("state") or "REVIEWER"
        results[str(item["reviewer"])] = apply_reviewers(
            state,
            change,
            str(item["reviewer"]),
            targets,
            group,
            role,
            account_id,
            stamp,
            auto_attention=reply.auto_attention,
        )
    return results


def _apply_attention(
    state: GerritState, change: Change, account_id: int, reply: Reply, stamp: datetime
) -> None:
    """``add_to_attention_set`` and ``remove_from_attention_set``, after the automatic rules."""
    for user, reason in reply.to_attend:
        attention_add(state, change, user, reason, account_id, stamp, quiet=True)
    for user, _reason in reply.to_release:
        change.attention.pop(user.id, None)


def _event_approvals(
    change: Change,
    ps: PatchSet,
    account_id: int,
    votes: Mapping[str, int],
    old_votes: Mapping[str, int],
    delta: list[tuple[str, int]],
) -> list[dict[str, str]]:
    """``approvals`` of comment-added: the caller's votes, ``oldValue`` where one changed,
    and removed votes with value 0."""
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
    return approvals


def _insert_comments(
    state: GerritState,
    change: Change,
    ps: PatchSet,
    account_id: int,
    reply: Reply,
    stamp: datetime,
) -> list[Comment]:
    """The reply's comments stored (with ``omit_duplicate_comments``, those already on
    the change are left out); returns the new ones."""
    tag = reply.tag
    existing = {_comment_key(c) for c in change.comments} if reply.omit_duplicates else set()
    by_id = {c.id: c for c in change.comments}
    inserted = []
    for path, item in reply.comments:
        span = dict(item["range"]) if item.get("range") else None
        line = span["end_line"] if span else (item.get("line") or None)
        reply_to = item.get("in_reply_to")
        unresolved = item.get("unresolved")
        if unresolved is None:
            unresolved = by_id[reply_to].unresolved if reply_to else False
        comment = Comment(
            id=state.comment_id(),
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
    state: GerritState,
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
    state: GerritState,
    change: Change,
    account_id: int,
    delta: list[tuple[str, int]],
    stamp: datetime,
) -> None:
    """Gerrit's automatic attention-set rules for a reply (user-attention-set.txt)."""
    reason = f"<GERRIT_ACCOUNT_{account_id}> replied on the change"
    if state.is_service_user(account_id):
        # Service users only bring the owner back with a negative vote.
        if not change.wip and any(value < 0 for _, value in delta):
            attention_add(
                state,
                change,
                state.accounts[change.owner],
                "A robot voted negatively on a label",
                account_id,
                stamp,
                quiet=True,
            )
        return
    change.attention.pop(account_id, None)
    if not change.wip and account_id != change.owner:
        attention_add(
            state, change, state.accounts[change.owner], reason, account_id, stamp, quiet=True
        )


@locked
def review(
    state: GerritState,
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
    change = state.change(change)
    ps = change.patch_set(patch_set) if patch_set else change.current
    review: dict[str, Any] = {"message": message, "tag": tag}
    if labels:
        review["labels"] = dict(labels)
    if comments:
        review["comments"] = {k: list(v) for k, v in comments.items()}
    return post_review(state, change, ps, state.account(author).id, review, date=date)


@locked
def add_message(
    state: GerritState,
    change: Change | int,
    author: Account | int | str,
    text: str,
    *,
    tag: str | None = None,
    date: datetime | None = None,
    patch_set: int | None = None,
) -> Message:
    """A review with only a message (stored as ``Patch Set N:\\n\\ntext``)."""
    change = state.change(change)
    review(state, change, author, text, tag=tag, date=date, patch_set=patch_set)
    return change.messages[-1]


@locked
def vote(
    state: GerritState,
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
    return review(
        state,
        change,
        account,
        message,
        labels={label: value},
        tag=tag,
        date=date,
        patch_set=patch_set,
    )


# --- small helpers ---


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
