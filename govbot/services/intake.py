"""Intake: find the changes govbot must review and queue "re-check change N" for each.

Two sources feed one queue (:mod:`govbot.db.queue`): the webhook (``govbot.web.hooks``),
fast but lossy, and this poll, which loses nothing. Per watched project/branch the poll
runs one incremental query::

    status:open -is:wip -is:private project:P branch:B
        (file:"^(<API spec, design spec and API path globs>)" OR message:APIImpact)
        after:"<cursor>"

(the files and flags both review passes look at: the API review's OpenAPI specs, and the
spec review's design specs, API paths and ``APIImpact`` flags), pages through it with ``S=`` while Gerrit says ``_more_changes``, and queues one
``review-change`` item per change (the queue collapses duplicates). The cursor is the
largest ``updated`` seen, in Gerrit's own clock, and moves only after every change of
the pass is queued: a crash in between repeats the pass, it never skips one.

The next query starts a little before the cursor (``overlap``): Gerrit's ``updated``
has one-second resolution in NoteDb and its index may show a change a moment after a
later one, so changes stamped at the cursor's second could otherwise be missed. What
the overlap returns again is recognised (queued at that same ``updated`` already, or
reviewed at its current patch set under this policy) and not queued twice, so a quiet
poll costs one REST call per watch and queues nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from govbot.blueprints import BlueprintConfig
from govbot.db.models import (
    Evaluation,
    EvaluationStatus,
    PollCursor,
    PostedReview,
    Project,
    WorkItem,
    WorkState,
)
from govbot.db.queue import enqueue
from govbot.db.session import insert_ignore, session_scope
from govbot.errors import GerritError
from govbot.gerrit.accounts import AccountInfo
from govbot.gerrit.changes import CURSOR_OVERLAP, ChangeInfo
from govbot.gerrit.client import GerritClient
from govbot.gerrit.errors import GerritAuthError, GerritBadRequest
from govbot.gerrit.events import GerritEvent
from govbot.paths import glob_regex
from govbot.policy import API_REVIEW, Policy
from govbot.services.review_plan import QUIET_PREFIX
from govbot.settings import Settings

LOG = logging.getLogger(__name__)

REVIEW_KIND = "review-change"
REVIEW_PURPOSE = API_REVIEW  # PostedReview.purpose when the policy names none
ALL_BRANCHES = "*"  # PollCursor.branch when a whole project is watched
PAGE_SIZE = 500  # Gerrit's default per-user query limit


def work_key(number: int, project: str | None = None) -> str:
    """The queue key of "review change ``number``" of ``project``: ``change:PROJECT~N``.

    Keyed by project and number because a bare number can name two changes on a server
    that imported changes from another (rest-api-changes.txt §change-id); the key without
    a project is the older form, still understood.
    """
    return f"change:{project}~{number}" if project else f"change:{number}"


def change_ref(key: str) -> int | str:
    """What the worker asks Gerrit for: ``project~number`` (or a bare number) of a key."""
    prefix, _, ref = key.partition(":")
    project, tilde, number = ref.rpartition("~")
    if prefix != "change" or not number.isdigit() or (tilde and not project):
        raise ValueError(f"not a change key: {key!r}")
    return f"{project}~{number}" if tilde else int(number)


def change_number(key: str) -> int:
    """The change number of a queue key made by :func:`work_key`."""
    ref = change_ref(key)
    return ref if isinstance(ref, int) else int(ref.rpartition("~")[2])


@dataclass(frozen=True)
class WatchResult:
    """What one project/branch poll did."""

    project: str
    branch: str | None
    queries: int = 0  # REST calls
    seen: int = 0  # changes the query returned
    queued: tuple[int, ...] = ()  # change numbers queued (new items)
    cursor_before: dt.datetime | None = None
    cursor_after: dt.datetime | None = None
    error: str | None = None


@dataclass(frozen=True)
class PollResult:
    """What one poll of every watched project/branch did."""

    watches: tuple[WatchResult, ...] = field(default_factory=tuple)

    @property
    def queries(self) -> int:
        return sum(w.queries for w in self.watches)

    @property
    def seen(self) -> int:
        return sum(w.seen for w in self.watches)

    @property
    def queued(self) -> tuple[int, ...]:
        return tuple(n for w in self.watches for n in w.queued)

    @property
    def errors(self) -> tuple[str, ...]:
        return tuple(f"{w.project}: {w.error}" for w in self.watches if w.error)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- events (webhook, stream-events) ---------------------------------------------------------

# Events that can change the verdict or make a change reviewable: a new patch set, a
# restored change, a change made ready (WIP off) or public (private off), a new topic (a
# ``bp/NAME`` topic is a blueprint reference). Comments, votes, reviewers, merges and
# abandons change nothing govbot checks.
RECHECK_EVENTS = frozenset(
    {
        "patchset-created",
        "change-restored",
        "wip-state-changed",
        "private-state-changed",
        "topic-changed",
    }
)


def ignore_reason(event: GerritEvent, settings: Settings, bot_username: str) -> str | None:
    """Why ``event`` queues nothing (a short word for logs and metrics), or None."""
    change = event.change
    if event.type not in RECHECK_EVENTS:
        return "type"
    if change is None:
        return "no-change"
    if bot_username and AccountInfo(username=bot_username).same_as(event.actor):
        return "own"
    # Nothing watched means nothing is: the poll asks about no project either.
    if not any(p == change.project and b in (None, change.branch) for p, b in settings.watched):
        return "unwatched"
    if event.type == "wip-state-changed" and change.work_in_progress:
        return "now-wip"
    if event.type == "private-state-changed" and change.is_private:
        return "now-private"
    if change.status != "NEW":
        return "closed"
    return None


def event_payload(event: GerritEvent, source: str) -> dict[str, object]:
    """The work item's payload for an event that passed :func:`ignore_reason`."""
    assert event.change is not None
    return {
        "source": source,
        "event": event.type,
        "project": event.change.project,
        "branch": event.change.branch,
        "patch_set": event.patch_set_number,
    }


def queue_event(
    engine: Engine,
    event: GerritEvent,
    settings: Settings,
    *,
    bot_username: str,
    now: dt.datetime,
    settle: dt.timedelta = dt.timedelta(0),
    source: str,
) -> str:
    """Queue the re-check ``event`` asks for, due after ``settle`` (Gerrit's index and
    replicas catch up with the event meanwhile). "queued", "already-queued", or the
    reason it was ignored."""
    reason = ignore_reason(event, settings, bot_username)
    if reason:
        return reason
    assert event.change is not None
    key = work_key(event.change.number, event.change.project)
    with session_scope(engine) as session:
        added = enqueue(
            session,
            REVIEW_KIND,
            key,
            event_payload(event, source),
            not_before=now + settle,
            now=now,
        )
    return "queued" if added else "already-queued"


# --- the query -------------------------------------------------------------------------------


def watched_globs(policy: Policy) -> tuple[str, ...]:
    """The globs of files govbot reviews: API specs, design specs (``blueprints.specs``),
    the files whose change is an API change (``blueprints.api_paths``), and OpenStack's
    api-ref sources, policy defaults, ledgers and release notes (``api_ref.watch``)."""
    config = BlueprintConfig.from_policy(policy)
    globs = [*policy.spec_globs, *config.specs, *config.api_paths, *policy.api_ref_watch]
    return tuple(dict.fromkeys(globs))


def change_filter(policy: Policy) -> str | None:
    """The poll's selection: the watched files, or a commit message with an API flag."""
    files = file_filter(watched_globs(policy))
    flags = [
        f"message:{flag}"
        for flag in BlueprintConfig.from_policy(policy).api_flags
        if re.fullmatch(r"[A-Za-z0-9_-]+", flag)
    ]
    if not flags:
        return files
    terms = ([files] if files else []) + flags
    return "(" + " OR ".join(terms) + ")"


def review_purposes(policy: Policy) -> tuple[str, ...]:
    """The purposes of the reviews every change gets: the API review, the spec review."""
    return (review_purpose(policy), BlueprintConfig.from_policy(policy).purpose)


def file_filter(globs: Sequence[str]) -> str | None:
    """A ``file:"^(...)"`` term matching any of ``globs``; None when there are none."""
    usable = [g for g in globs if '"' not in g]
    if not usable:
        return None
    return 'file:"^(' + "|".join(glob_regex(g) for g in usable) + ')"'


def review_option(policy: Policy, name: str) -> bool:
    """Whether the policy has govbot review ``wip`` or ``private`` changes (default: no)."""
    review = getattr(policy, "review", None)
    skip = getattr(review, f"skip_{name}", True)
    return not skip


def review_purpose(policy: Policy) -> str:
    """The ``purpose`` of the API review (``PostedReview.purpose``, the tag's last part)."""
    return str(getattr(getattr(policy, "review", None), "purpose", None) or REVIEW_PURPOSE)


def gerrit_time(when: dt.datetime) -> str:
    """``when`` in the form ``after:`` takes (UTC, whole seconds, rounded down)."""
    return when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def build_query(
    project: str,
    branch: str | None,
    *,
    after: dt.datetime | None = None,
    files: str | None = None,
    include_wip: bool = False,
    include_private: bool = False,
) -> str:
    """The poll's query for one project/branch."""
    terms = ["status:open"]
    if not include_wip:
        terms.append("-is:wip")
    if not include_private:
        terms.append("-is:private")
    terms.append(f'project:"{project}"' if " " in project else f"project:{project}")
    if branch is not None:
        terms.append(f"branch:{branch}")
    if files:
        terms.append(files)
    if after is not None:
        terms.append(f'after:"{gerrit_time(after)}"')
    return " ".join(terms)


# --- the poll --------------------------------------------------------------------------------


def poll_once(
    client: GerritClient,
    engine: Engine,
    settings: Settings,
    policy: Policy,
    now: dt.datetime,
    *,
    overlap: dt.timedelta = CURSOR_OVERLAP,
    page_size: int = PAGE_SIZE,
) -> PollResult:
    """Poll every watched project/branch once; queue what needs review.

    A failing watch (Gerrit down, a bad query) is logged and reported in the result;
    the others still run, and its cursor stays where it was.
    """
    results = []
    for project, branch in settings.watched:
        try:
            results.append(
                _poll_watch(
                    client,
                    engine,
                    policy,
                    now,
                    project,
                    branch,
                    overlap=overlap,
                    size=page_size,
                    filter_files=settings.gerrit_file_filter,
                )
            )
        except GerritAuthError as exc:
            LOG.error("poll of %s failed: %s", _label(project, branch), exc)
            results.append(WatchResult(project, branch, error=str(exc)))
        except GerritError as exc:
            LOG.warning("poll of %s failed, will retry: %s", _label(project, branch), exc)
            results.append(WatchResult(project, branch, error=str(exc)))
    result = PollResult(tuple(results))
    if result.queued:
        LOG.info("poll queued %d change(s): %s", len(result.queued), list(result.queued))
    return result


def _label(project: str, branch: str | None) -> str:
    return f"{project}:{branch}" if branch else project


def _poll_watch(
    client: GerritClient,
    engine: Engine,
    policy: Policy,
    now: dt.datetime,
    project: str,
    branch: str | None,
    *,
    overlap: dt.timedelta,
    size: int,
    filter_files: bool,
) -> WatchResult:
    """Queue the changes of one watch (a project, or one branch of it) updated since its
    cursor, page by page, and move the cursor to the newest update seen."""
    branch_key = branch or ALL_BRANCHES
    project_id, boundary = _cursor(engine, project, branch_key, now)
    files = change_filter(policy) if filter_files else None
    options = {
        "after": boundary - overlap if boundary is not None else None,
        "include_wip": review_option(policy, "wip"),
        "include_private": review_option(policy, "private"),
    }
    queries = seen = 0
    queued: list[int] = []
    newest = boundary
    start = 0
    query = build_query(project, branch, files=files, **options)  # type: ignore[arg-type]
    while True:
        try:
            # CURRENT_REVISION: before 3.10 ChangeInfo has no current_revision_number, and
            # the "reviewed at this patch set" skip needs it (gerrit-fidelity #7).
            changes, more = client.query(
                query, options=("CURRENT_REVISION",), limit=size, start=start
            )
        except GerritBadRequest:
            if files is None or start:
                raise
            # Some hosts disable regex path search; the review itself filters by file.
            LOG.warning(
                "Gerrit refused the file filter; polling %s without it "
                "(set GOVBOT_GERRIT_FILE_FILTER=false to skip the attempt)",
                project,
            )
            files = None
            query = build_query(project, branch, **options)  # type: ignore[arg-type]
            queries += 1
            continue
        queries += 1
        seen += len(changes)
        with session_scope(engine) as session:
            queued.extend(_queue_page(session, changes, boundary, policy, now))
        newest = _newest(newest, changes)
        start += len(changes)
        if not more or not changes:
            break
    if newest is not None and newest != boundary:
        with session_scope(engine) as session:
            _advance_cursor(session, project_id, branch_key, newest, now)
    return WatchResult(project, branch, queries, seen, tuple(queued), boundary, newest)


def _cursor(
    engine: Engine, project: str, branch_key: str, now: dt.datetime
) -> tuple[int, dt.datetime | None]:
    """The project's id (recorded if new) and the newest update the watch has seen."""
    with session_scope(engine) as session:
        project_id = _project_id(session, project, now)
        cursor = session.get(PollCursor, (project_id, branch_key))
        return project_id, cursor.last_updated if cursor is not None else None


def _newest(newest: dt.datetime | None, changes: Sequence[ChangeInfo]) -> dt.datetime | None:
    """The latest update among ``newest`` and the changes'."""
    for change in changes:
        if change.updated is not None and (newest is None or change.updated > newest):
            newest = change.updated
    return newest


def _project_id(session: Session, name: str, now: dt.datetime) -> int:
    insert_ignore(session, Project, {"name": name, "created_at": now}, conflict=("name",))
    return session.scalars(select(Project.id).where(Project.name == name)).one()


def _advance_cursor(
    session: Session, project_id: int, branch: str, newest: dt.datetime, now: dt.datetime
) -> None:
    """Move the cursor forward to ``newest`` (never back: a concurrent poll may be ahead)."""
    inserted = insert_ignore(
        session,
        PollCursor,
        {"project_id": project_id, "branch": branch, "last_updated": newest, "updated_at": now},
        conflict=("project_id", "branch"),
    )
    if not inserted:
        cursor = session.get(PollCursor, (project_id, branch), with_for_update=True)
        if cursor is not None and cursor.last_updated < newest:
            cursor.last_updated = newest
            cursor.updated_at = now


def _queue_page(
    session: Session,
    changes: Sequence[ChangeInfo],
    boundary: dt.datetime | None,
    policy: Policy,
    now: dt.datetime,
) -> list[int]:
    if not changes:
        return []
    reviewed = _reviewed(session, changes, policy)
    # Only the overlap can repeat a change the last poll already queued.
    repeated = [c for c in changes if boundary is not None and _at_or_before(c, boundary)]
    already = _queued_at(session, repeated) if repeated else {}
    queued = []
    for change in changes:
        ps = change.current_revision_number
        if ps is not None and (change.number, ps) in reviewed:
            continue
        stamp = _stamp(change.updated)
        if stamp is not None and already.get(change.number, "") >= stamp:
            continue
        payload = {
            "source": "poll",
            "project": change.project,
            "branch": change.branch,
            "updated": stamp,
            "patch_set": ps,
        }
        if enqueue(session, REVIEW_KIND, work_key(change.number, change.project), payload, now=now):
            queued.append(change.number)
    return queued


def _at_or_before(change: ChangeInfo, boundary: dt.datetime) -> bool:
    return change.updated is None or change.updated <= boundary


def _stamp(when: dt.datetime | None) -> str | None:
    """A fixed-width UTC text form of ``when`` (text order is time order)."""
    if when is None:
        return None
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _reviewed(
    session: Session, changes: Iterable[ChangeInfo], policy: Policy
) -> set[tuple[int, int]]:
    """(change, patch set) pairs that every review pass settled under this policy: its
    review posted, or nothing to review, or nothing worth posting (a quiet pass)."""
    numbers = [c.number for c in changes if c.current_revision_number is not None]
    if not numbers:
        return set()
    purposes = review_purposes(policy)
    settled: dict[tuple[int, int], set[str]] = {}
    posted = session.execute(
        select(
            PostedReview.change_number, PostedReview.patch_set_number, PostedReview.purpose
        ).where(
            PostedReview.change_number.in_(numbers),
            PostedReview.policy_digest == policy.digest,
            PostedReview.purpose.in_(purposes),
            PostedReview.posted_at.is_not(None),
        )
    )
    memos = session.execute(
        select(Evaluation.change_number, Evaluation.patch_set_number, Evaluation.purpose).where(
            Evaluation.change_number.in_(numbers),
            Evaluation.policy_digest == policy.digest,
            Evaluation.purpose.in_(purposes),
            (Evaluation.status == EvaluationStatus.SKIPPED)
            | Evaluation.detail.startswith(QUIET_PREFIX),
        )
    )
    for number, ps, purpose in [*posted, *memos]:
        settled.setdefault((number, ps), set()).add(purpose)
    return {pair for pair, done in settled.items() if done >= set(purposes)}


def _queued_at(session: Session, changes: Iterable[ChangeInfo]) -> dict[int, str]:
    """The latest ``updated`` each change was queued at by a poll (failed items excluded)."""
    keys = {work_key(c.number, c.project): c.number for c in changes}
    rows = session.execute(
        select(WorkItem.key, WorkItem.payload).where(
            WorkItem.kind == REVIEW_KIND,
            WorkItem.key.in_(list(keys)),
            WorkItem.state != WorkState.FAILED,
        )
    )
    latest: dict[int, str] = {}
    for key, payload in rows:
        stamp = (payload or {}).get("updated")
        if isinstance(stamp, str) and stamp > latest.get(keys[key], ""):
            latest[keys[key]] = stamp
    return latest


__all__ = [
    "ALL_BRANCHES",
    "CURSOR_OVERLAP",
    "RECHECK_EVENTS",
    "REVIEW_KIND",
    "PollResult",
    "WatchResult",
    "build_query",
    "change_filter",
    "change_number",
    "change_ref",
    "event_payload",
    "file_filter",
    "ignore_reason",
    "poll_once",
    "queue_event",
    "review_option",
    "review_purpose",
    "review_purposes",
    "watched_globs",
    "work_key",
]
