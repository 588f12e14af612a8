"""Set-review (``POST .../review``) with Gerrit's validation, and its story shortcuts."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from govbot.paths import COMMIT_MSG
from govbot.sandbox import events
from govbot.sandbox.entities import (
    DRAFT_VALUES,
    NOTIFY_VALUES,
    PATCHSET_LEVEL,
    Account,
    Approval,
    Change,
    Comment,
    Message,
    PatchSet,
    RestError,
    locked,
)
from govbot.sandbox.lifecycle import append_message, change_wip_state
from govbot.sandbox.people import (
    apply_reviewers,
    attention_add,
    attention_inputs,
    reviewer_targets,
    set_reviewer,
)
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
    _check_size(state, text)
    comments = _validate_comments(state, change, ps, review.get("comments"))
    votes = _validate_labels(state, change, ps, account_id, review.get("labels"))
    reviewer_inputs = review.get("reviewers") or []
    if not isinstance(reviewer_inputs, list):
        raise RestError(400, "Invalid application/json in request")
    resolved, errors = [], {}
    for item in reviewer_inputs:
        item = item if isinstance(item, Mapping) else {"reviewer": item}
        if (item.get("state") or "REVIEWER") not in ("REVIEWER", "CC", "REMOVED"):
            raise RestError(400, f"Invalid value for state: {item.get('state')}")
        try:
            resolved.append((item, reviewer_targets(state, item)))
        except RestError as error:
            errors[str(item.get("reviewer"))] = error.json_body
    if errors:
        raise RestError(
            400,
            "error adding reviewer",
            {"reviewers": errors, "error": "error adding reviewer"},
        )
    to_attend = attention_inputs(state, review.get("add_to_attention_set"))
    to_release = attention_inputs(state, review.get("remove_from_attention_set"))

    # Everything is valid: apply it.
    stamp = state.stamp(date)
    account_tag = tag if isinstance(tag, str) else None
    new_comments = _insert_comments(
        state,
        change,
        ps,
        account_id,
        comments,
        account_tag,
        stamp,
        omit_duplicates=bool(review.get("omit_duplicate_comments")),
    )
    old_votes = {
        label: a.value for (label, acc), a in change.votes[ps.number].items() if acc == account_id
    }
    delta = _apply_votes(state, change, ps, account_id, votes, account_tag, stamp)
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
        cm = append_message(state, change, account_id, stamp, comment_text, account_tag, ps.number)
        for comment in new_comments:
            comment.change_message_id = cm.id
        if account_id != change.owner or votes:
            role = "REVIEWER" if votes else "CC"
            current = change.reviewers.get(account_id)
            if current is None or (current == "CC" and role == "REVIEWER"):
                set_reviewer(state, change, account_id, role, account_id, stamp)
        if not review.get("ignore_automatic_attention_set_rules"):
            _reply_attention(state, change, account_id, delta, stamp)
    elif (
        account_id != change.owner
        and account_id not in change.reviewers
        and (
            resolved
            or review.get("add_to_attention_set")
            or review.get("remove_from_attention_set")
        )
    ):
        # Real Gerrit CCs the caller of a set-review that only adds reviewers or changes
        # the attention set, too (tests/contract: the reviewer-and-attention case).
        set_reviewer(state, change, account_id, "CC", account_id, stamp)
    if review.get("ready") and change.wip:
        change_wip_state(state, change, False, account_id, stamp)
        result["ready"] = True
    elif review.get("work_in_progress") and not change.wip:
        change_wip_state(state, change, True, account_id, stamp)
    if resolved:
        result["reviewers"] = {}
        for item, (targets, group) in resolved:
            role = item.get("state") or "REVIEWER"
            result["reviewers"][str(item["reviewer"])] = apply_reviewers(
                state,
                change,
                str(item["reviewer"]),
                targets,
                group,
                role,
                account_id,
                stamp,
                auto_attention=not review.get("ignore_automatic_attention_set_rules"),
            )
    for user, reason in to_attend:
        attention_add(state, change, user, reason, account_id, stamp, quiet=True)
    for user, _reason in to_release:
        change.attention.pop(user.id, None)
    if dirty or resolved or to_attend or to_release:
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


def _check_size(state: GerritState, text: str) -> None:
    size = len(text.encode())
    if size > state.comment_size_limit:
        raise RestError(
            400,
            "One or more comments were rejected in validation: Comment size exceeds limit"
            f" ({size} > {state.comment_size_limit})",
        )


def _validate_comments(
    state: GerritState, change: Change, ps: PatchSet, comments: object
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
            raise RestError(400, f"file {path} not found in revision {change.number},{ps.number}")
        if not isinstance(items, list):
            raise RestError(400, "Invalid application/json in request")
        for item in items:
            if not isinstance(item, Mapping):
                raise RestError(400, "Invalid application/json in request")
            text = item.get("message")
            if not isinstance(text, str) or not text.strip():
                raise RestError(400, f"comment message on {path} must not be empty")
            _check_size(state, text)
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
    state: GerritState, change: Change, ps: PatchSet, account_id: int, labels: object
) -> dict[str, int]:
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
        raise RestError(400, "Invalid application/json in request")
    project = state.projects[change.project]
    votes: dict[str, int] = {}
    for name, raw in labels.items():
        try:
            value = int(str(raw).strip())
        except ValueError:
            raise RestError(400, "Invalid application/json in request") from None
        label = project.labels.get(name)
        if label is None:
            if state.strict_labels:
                raise RestError(400, f'label "{name}" is not a configured label')
            continue
        if value not in label.values:
            if state.strict_labels:
                raise RestError(400, f'label "{name}": {value} is not a valid value')
            continue
        low, high = label.permitted(account_id in project.cores or state.is_admin(account_id))
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
            raise RestError(409, f"Voting on labels disallowed after submit: {', '.join(denied)}")
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
    if state.reject_outdated_votes and ps.number != change.current.number:
        raise RestError(
            409,
            f"sandbox (reject_outdated_votes): patch set {ps.number} is not current"
            f" (current is {change.current.number})",
        )
    return votes


def _insert_comments(
    state: GerritState,
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
