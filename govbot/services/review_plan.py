"""The review planner: from facts already read, what one review of a patch set does.

Plain functions over values (no database, no Gerrit, no clock): the review reads the
change and what the database recorded, and :func:`plan_review` decides

* :class:`Skip`: nothing to post, and why (a closed, WIP or private change; a patch set
  this pass found nothing to review in, or reviewed quietly, under this policy);
* :class:`AlreadyPosted`: the review is recorded as posted, or is on Gerrit (its tag,
  patch set and policy marker) without a record, which the store then writes, so a
  crash between the POST and its record, or a lost database, never posts it twice;
* :class:`Run`: evaluate the patch set and post.

The order is ARCHITECTURE.md's (One change on Gerrit): a change that cannot be reviewed is
skipped before any
record is consulted; a posted review wins over a remembered verdict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from govbot import render
from govbot.db.models import EvaluationStatus
from govbot.findings import Finding
from govbot.gerrit.changes import ChangeInfo
from govbot.gerrit.reviews import ChangeMessageInfo
from govbot.policy import ReviewConfig
from govbot.services.reservations import ReviewKey
from govbot.services.review_pass import ReviewStatus

# Evaluation.detail of a pass that found nothing and, by its rules, posts nothing.
QUIET_PREFIX = "quiet: "


@dataclass(frozen=True)
class Recorded:
    """What the database holds for one review key (read by the store before planning)."""

    reserved: bool = False  # a PostedReview row exists (reserved, or posted)
    posted_at: dt.datetime | None = None  # when the review was posted; None: not yet
    verdict: EvaluationStatus | None = None  # the Evaluation's status, if one was recorded
    detail: str = ""  # the Evaluation's detail (why skipped, or QUIET_PREFIX + why)


@dataclass(frozen=True)
class Skip:
    """Post nothing: ``status`` says which kind of nothing, ``reason`` why."""

    status: ReviewStatus
    reason: str


@dataclass(frozen=True)
class AlreadyPosted:
    """The review exists. ``found``: the message on Gerrit that the database does not
    record yet (the store records it); None when the database already does."""

    reason: str
    found: ChangeMessageInfo | None = None


@dataclass(frozen=True)
class Run:
    """Evaluate the patch set and post the review of ``key``."""

    key: ReviewKey


Plan = Skip | AlreadyPosted | Run


def plan_review(
    info: ChangeInfo, config: ReviewConfig, key: ReviewKey, recorded: Recorded | None
) -> Plan:
    """What the review of ``key`` does, from the change as read and the records.

    ``recorded`` None: no records are consulted (a dry run plans as if nothing was
    posted, since finding a review on Gerrit would have to be recorded).
    """
    skip = skip_change(info, config)
    if skip is not None:
        return skip
    if recorded is None:
        return Run(key)
    posted = already_posted(recorded, info.messages, key, config.tag)
    if posted is not None:
        return posted
    if recorded.verdict == EvaluationStatus.SKIPPED:
        return Skip(ReviewStatus.NO_SPECS, recorded.detail)
    if recorded.detail.startswith(QUIET_PREFIX):
        return Skip(ReviewStatus.QUIET, recorded.detail.removeprefix(QUIET_PREFIX))
    return Run(key)


def skip_change(info: ChangeInfo, config: ReviewConfig) -> Skip | None:
    """A change that is not reviewed: closed, or WIP or private when the policy says so."""
    if not info.is_open:
        return Skip(ReviewStatus.SKIPPED_CLOSED, f"the change is {info.status.lower()}")
    if info.work_in_progress and config.skip_wip:
        return Skip(ReviewStatus.SKIPPED_WIP, "work in progress (the policy skips WIP changes)")
    if info.is_private and config.skip_private:
        return Skip(ReviewStatus.SKIPPED_PRIVATE, "private (the policy skips private changes)")
    return None


def already_posted(
    recorded: Recorded, messages: Sequence[ChangeMessageInfo], key: ReviewKey, tag: str
) -> AlreadyPosted | None:
    """The review recorded as posted, or found on Gerrit; None if it is neither."""
    if recorded.posted_at is not None:
        return AlreadyPosted(f"posted at {recorded.posted_at.isoformat()}")
    found = find_posted(messages, key, tag)
    if found is None:
        return None
    return AlreadyPosted(f"found on Gerrit (message {found.id})", found)


def find_posted(
    messages: Sequence[ChangeMessageInfo], key: ReviewKey, tag: str
) -> ChangeMessageInfo | None:
    """The change message of this review on Gerrit: the tag, the patch set, the marker."""
    for m in messages:
        if (
            m.tag == tag
            and m.revision_number == key.patch_set
            and render.has_policy_marker(m.message, key.digest)
        ):
            return m
    return None


def quiet_reason(
    title: str,
    quiet_when_clean: bool,
    findings: Sequence[Finding],
    messages: Sequence[ChangeMessageInfo],
    tag: str,
) -> str | None:
    """Why a pass posts nothing on a clean patch set (no findings and no earlier review
    of it on the change to follow up), or None: it posts."""
    if not quiet_when_clean or findings or any(m.tag == tag for m in messages):
        return None
    return f"no findings, and no earlier {title} on this change to follow up"


def may_vote(
    info: ChangeInfo, labels: Mapping[str, int], label: str | None
) -> tuple[bool, list[str]]:
    """Whether the vote can be sent to this change's project; notes saying why not."""
    if not labels or label is None:
        return False, []
    value = labels[label]
    known = info.labels.get(label)
    if known is None:
        return False, [f"No vote: this project has no {label} label."]
    if known.values and value not in known.values:
        return False, [f"No vote: {label} has no value {value:+d} on this project."]
    return True, []


def outdated_vote(current: int | None, patch_set: int) -> str | None:
    """Why a vote is withheld: a newer patch set is current (Zuul's rule: never vote on
    an outdated patch set; its comments are still posted where they belong)."""
    if current is None or current == patch_set:
        return None
    return f"No vote: patch set {current} was uploaded after this one; it is reviewed on its own."
