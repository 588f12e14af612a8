"""Set-review's input: a ReviewInput checked with Gerrit's rules and messages, in Gerrit's
order, before ``reviews.post_review`` applies any of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from govbot.paths import COMMIT_MSG
from govbot.sandbox.entities import (
    DRAFT_VALUES,
    NOTIFY_VALUES,
    PATCHSET_LEVEL,
    Account,
    Change,
    Group,
    PatchSet,
    RestError,
)
from govbot.sandbox.people import attention_inputs, reviewer_targets
from govbot.sandbox.state import GerritState


@dataclass(frozen=True)
class Reply:
    """A ReviewInput once Gerrit's validation passed: what set-review will apply."""

    text: str  # the message, stripped
    tag: str | None
    comments: list[tuple[str, Mapping[str, Any]]]
    votes: dict[str, int]
    reviewers: list[
        tuple[Mapping[str, Any], tuple[list[Account], Group | None]]
    ]  # (input, reviewer_targets)
    to_attend: list[tuple[Account, str]]
    to_release: list[tuple[Account, str]]
    auto_attention: bool  # not ignore_automatic_attention_set_rules
    omit_duplicates: bool  # omit_duplicate_comments
    names_attention: bool  # the input adds to or removes from the attention set
    ready: bool
    work_in_progress: bool


def validate_review(
    state: GerritState, change: Change, ps: PatchSet, account_id: int, review: object
) -> Reply:
    """The ReviewInput checked in Gerrit's order (the first problem is the 400 answered)."""
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
    check_size(state, text)
    comments = _validate_comments(state, change, ps, review.get("comments"))
    votes = _validate_labels(state, change, ps, account_id, review.get("labels"))
    reviewers = _validate_reviewers(state, review.get("reviewers") or [])
    return Reply(
        text=text,
        tag=tag if isinstance(tag, str) else None,
        comments=comments,
        votes=votes,
        reviewers=reviewers,
        to_attend=attention_inputs(state, review.get("add_to_attention_set")),
        to_release=attention_inputs(state, review.get("remove_from_attention_set")),
        auto_attention=not review.get("ignore_automatic_attention_set_rules"),
        omit_duplicates=bool(review.get("omit_duplicate_comments")),
        names_attention=bool(
            review.get("add_to_attention_set") or review.get("remove_from_attention_set")
        ),
        ready=bool(review.get("ready")),
        work_in_progress=bool(review.get("work_in_progress")),
    )


def _validate_reviewers(
    state: GerritState, reviewer_inputs: object
) -> list[tuple[Mapping[str, Any], tuple[list[Account], Group | None]]]:
    """Each ReviewerInput with the accounts it names; one 400 listing every unknown one."""
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
    return resolved


def check_size(state: GerritState, text: str) -> None:
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
            check_size(state, text)
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
