"""The sandbox's REST JSON: Gerrit's entities, shaped by the ``o=`` options.

Serialisation rules copied from Gerrit (Gerrit's rest-api-changes.html, ChangeInfo and
RevisionInfo): null fields and false
booleans are omitted, numbers are numbers, vote values inside ``values``/``approvals`` maps
are strings (``"+1"``, ``" 0"``), timestamps are ``"yyyy-mm-dd hh:mm:ss.fffffffff"`` UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from govbot.gerrit.scalars import format_timestamp
from govbot.paths import COMMIT_MSG
from govbot.sandbox.entities import (
    Approval,
    AttentionEntry,
    Change,
    Comment,
    Group,
    Message,
    PatchSet,
)
from govbot.sandbox.state import GerritState

LIST_OPTIONS = frozenset(
    {
        "LABELS",
        "DETAILED_LABELS",
        "CURRENT_REVISION",
        "ALL_REVISIONS",
        "CURRENT_COMMIT",
        "ALL_COMMITS",
        "CURRENT_FILES",
        "ALL_FILES",
        "DETAILED_ACCOUNTS",
        "MESSAGES",
        "CURRENT_ACTIONS",
        "REVIEWED",
        "DOWNLOAD_COMMANDS",
        "WEB_LINKS",
        "CHECK",
        "CHANGE_ACTIONS",
        "COMMIT_FOOTERS",
        "PUSH_CERTIFICATES",
        "REVIEWER_UPDATES",
        "SUBMITTABLE",
        "TRACKING_IDS",
        "SKIP_MERGEABLE",
        "SKIP_DIFFSTAT",
        "SUBMIT_REQUIREMENTS",
        "STAR",
        "PARENTS",
        "CUSTOM_KEYED_VALUES",
    }
)
DETAIL_OPTIONS = frozenset(
    {"LABELS", "DETAILED_LABELS", "DETAILED_ACCOUNTS", "REVIEWER_UPDATES", "MESSAGES"}
)


def ts(when: Any) -> str:
    return format_timestamp(when)


def vote_text(value: int) -> str:
    """Gerrit's label value keys: ``"-1"``, ``" 0"``, ``"+1"``."""
    return f"{value:+d}" if value else " 0"


def account(state: GerritState, account_id: int | None, detailed: bool) -> dict[str, Any]:
    if account_id is None:
        return {}
    data: dict[str, Any] = {"_account_id": account_id}
    if detailed:
        acc = state.accounts[account_id]
        data["name"] = acc.name
        data["email"] = acc.email
        data["username"] = acc.username
        if state.is_service_user(account_id):
            data["tags"] = ["SERVICE_USER"]
        if not acc.active:
            data["inactive"] = True
    return data


def account_detail(state: GerritState, account_id: int) -> dict[str, Any]:
    data = account(state, account_id, detailed=True)
    acc = state.accounts[account_id]
    if acc.registered_on is not None:
        data["registered_on"] = ts(acc.registered_on)
    return data


def group_info(state: GerritState, group: Group, members: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": group.uuid,
        "name": group.name,
        "url": f"#/admin/groups/uuid-{group.uuid}",
        "options": {"visible_to_all": True} if group.visible_to_all else {},
        "group_id": group.id,
        "owner": group.name,
        "owner_id": group.owner_uuid,
    }
    if group.description:
        data["description"] = group.description
    if group.created_on is not None:
        data["created_on"] = ts(group.created_on)
    if members:
        data["members"] = [account(state, a.id, True) for a in state.group_members(group, False)]
        data["includes"] = [group_info(state, state.groups[u]) for u in group.includes]
    return data


def message(state: GerritState, msg: Message, detailed: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"id": msg.id}
    if msg.author is not None:
        data["author"] = account(state, msg.author, detailed)
    if msg.real_author is not None:
        data["real_author"] = account(state, msg.real_author, detailed)
    data["date"] = ts(msg.date)
    data["message"] = msg.message
    if msg.tag:
        data["tag"] = msg.tag
    if msg.revision_number is not None:
        data["_revision_number"] = msg.revision_number
    return data


def comment(
    state: GerritState, item: Comment, *, include_path: bool = False, include_ps: bool = True
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if include_ps:
        data["patch_set"] = item.patch_set
    data["id"] = item.id
    if include_path:
        data["path"] = item.path
    if item.side != "REVISION":
        data["side"] = item.side
    if item.parent is not None:
        data["parent"] = item.parent
    if item.line:
        data["line"] = item.line
    if item.range:
        data["range"] = dict(item.range)
    if item.in_reply_to:
        data["in_reply_to"] = item.in_reply_to
    data["message"] = item.message
    data["updated"] = ts(item.updated)
    data["author"] = account(state, item.author, True)
    if item.tag:
        data["tag"] = item.tag
    if item.unresolved:
        data["unresolved"] = True
    if item.change_message_id:
        data["change_message_id"] = item.change_message_id
    data["commit_id"] = item.commit_id
    return data


def comments_by_path(
    state: GerritState, comments: Iterable[Comment], include_ps: bool = True
) -> dict[str, list[dict[str, Any]]]:
    """Map path -> comments, sorted by path, then patch set, line and time (as Gerrit does)."""
    ordered = sorted(comments, key=lambda c: (c.path, c.patch_set, c.line or 0, c.updated, c.id))
    result: dict[str, list[dict[str, Any]]] = {}
    for item in ordered:
        result.setdefault(item.path, []).append(comment(state, item, include_ps=include_ps))
    return result


def attention(state: GerritState, entry: AttentionEntry) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account": account(state, entry.account, True),
        "last_update": ts(entry.last_update),
        "reason": entry.reason,
    }
    if entry.reason_account is not None:
        data["reason_account"] = account(state, entry.reason_account, True)
    return data


def person(who: Any) -> dict[str, Any]:
    return {"name": who.name, "email": who.email, "date": ts(who.when), "tz": who.tz_minutes}


def commit(state: GerritState, ps: PatchSet, *, include_sha: bool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if include_sha:
        data["commit"] = ps.sha
    data["parents"] = [{"commit": ps.parent_sha, "subject": ps.parent_subject}]
    data["author"] = person(ps.author)
    data["committer"] = person(ps.committer)
    data["subject"] = ps.subject
    data["message"] = ps.message
    return data


def commit_msg_text(state: GerritState, ps: PatchSet) -> str:
    """The synthetic ``/COMMIT_MSG`` file Gerrit shows and accepts comments on."""
    short = ps.parent_sha[:8]
    author = f"{ps.author.name} <{ps.author.email}>"
    committer = f"{ps.committer.name} <{ps.committer.email}>"
    when = ps.author.when.strftime("%Y-%m-%d %H:%M:%S +0000")
    committed = ps.committer.when.strftime("%Y-%m-%d %H:%M:%S +0000")
    return (
        f"Parent:     {short} ({ps.parent_subject})\n"
        f"Author:     {author}\n"
        f"AuthorDate: {when}\n"
        f"Commit:     {committer}\n"
        f"CommitDate: {committed}\n\n"
        f"{ps.message}"
    )


def files(
    state: GerritState, change: Change, ps: PatchSet, base: PatchSet | None = None
) -> dict[str, dict[str, Any]]:
    """``GET .../files``: the commit message entry first, then the tree's changes by path."""
    text = commit_msg_text(state, ps)
    result: dict[str, dict[str, Any]] = {
        COMMIT_MSG: {
            "status": "A",
            "lines_inserted": text.count("\n"),
            "size_delta": len(text.encode()),
            "size": len(text.encode()),
        }
    }
    if base is None:
        diff = ps.diff(ps.parent_files, "parent")
    else:
        diff = ps.diff(base.files, f"ps{base.number}")
    result.update({path: dict(info) for path, info in diff.items()})
    return result


def revision(
    state: GerritState,
    change: Change,
    ps: PatchSet,
    options: frozenset[str],
    current: bool,
) -> dict[str, Any]:
    detailed = "DETAILED_ACCOUNTS" in options
    data: dict[str, Any] = {
        "kind": ps.kind,
        "_number": ps.number,
        "created": ts(ps.created),
        "uploader": account(state, ps.uploader, detailed),
        "ref": ps.ref,
        # The download-commands plugin would list http/ssh URLs; the sandbox serves git
        # over file:// only, under a scheme named "file".
        "fetch": {"file": {"url": state.git_url(change.project), "ref": ps.ref}},
    }
    if "ALL_COMMITS" in options or ("CURRENT_COMMIT" in options and current):
        data["commit"] = commit(state, ps, include_sha=False)
    if "ALL_FILES" in options or ("CURRENT_FILES" in options and current):
        data["files"] = {
            path: dict(info) for path, info in ps.diff(ps.parent_files, "parent").items()
        }
    return data


def unresolved_count(change: Change) -> int:
    latest: dict[str, Comment] = {}
    root: dict[str, str] = {}
    for item in change.comments:
        root[item.id] = (
            root.get(item.in_reply_to, item.in_reply_to) if item.in_reply_to else item.id
        )
        thread = root[item.id]
        if thread not in latest or item.updated >= latest[thread].updated:
            latest[thread] = item
    return sum(1 for item in latest.values() if item.unresolved)


def labels(
    state: GerritState, change: Change, detailed: bool, accounts_detailed: bool
) -> dict[str, Any]:
    project = state.projects[change.project]
    votes = change.current_votes()
    result: dict[str, Any] = {}
    for name, label_type in project.labels.items():
        data: dict[str, Any] = {}
        mine = [a for (label, _), a in votes.items() if label == name]
        if mine:
            highest = max(mine, key=lambda a: a.value)
            lowest = min(mine, key=lambda a: a.value)
            if lowest.value == label_type.min:
                data["rejected"] = account(state, lowest.account, accounts_detailed)
                data["blocking"] = True  # MaxWithBlock: the minimum vote blocks submit
            elif highest.value == label_type.max:
                data["approved"] = account(state, highest.account, accounts_detailed)
            elif lowest.value < 0:
                data["disliked"] = account(state, lowest.account, accounts_detailed)
            elif highest.value > 0:
                data["recommended"] = account(state, highest.account, accounts_detailed)
            data["value"] = lowest.value if lowest.value < 0 else highest.value
        if detailed:
            entries = []
            for account_id, state_name in change.reviewers.items():
                if state_name != "REVIEWER":
                    continue
                approval: Approval | None = votes.get((name, account_id))
                entry = account(state, account_id, accounts_detailed)
                entry["value"] = approval.value if approval else 0
                if approval is not None:
                    entry["date"] = ts(approval.date)
                    if approval.tag:
                        entry["tag"] = approval.tag
                    if approval.post_submit:
                        entry["post_submit"] = True
                if change.is_open:
                    is_core = account_id in project.cores or state.is_admin(account_id)
                    low, high = label_type.permitted(is_core)
                    entry["permitted_voting_range"] = {"min": low, "max": high}
                entries.append(entry)
            if entries:
                data["all"] = entries
            data["values"] = {vote_text(v): text for v, text in sorted(label_type.values.items())}
            data["default_value"] = label_type.default_value
        result[name] = data
    return result


def reviewer_info(state: GerritState, change: Change, account_id: int) -> dict[str, Any]:
    """ReviewerInfo: detailed AccountInfo plus ``approvals`` (label -> ``"+1"``/``" 0"``)."""
    data = account(state, account_id, True)
    votes = change.current_votes()
    data["approvals"] = {
        name: vote_text(votes[(name, account_id)].value if (name, account_id) in votes else 0)
        for name in state.projects[change.project].labels
    }
    return data


def reviewer_result(state: GerritState, change: Change, result: dict[str, Any]) -> dict[str, Any]:
    """A ReviewerResult: what ``people.post_reviewer`` (or set-review's ``reviewers``) did."""
    out: dict[str, Any] = {"input": result["input"]}
    if "reviewers" in result:
        out["reviewers"] = [reviewer_info(state, change, a) for a in result["reviewers"]]
    if "ccs" in result:
        out["ccs"] = [account(state, a, True) for a in result["ccs"]]
    if "removed" in result:
        out["removed"] = [account(state, a, True) for a in result["removed"]]
    return out


def change_info(
    state: GerritState,
    change: Change,
    options: frozenset[str],
    viewer: int | None,
) -> dict[str, Any]:
    """A ChangeInfo with what ``options`` (the ``o=`` list) ask for, in Gerrit's key order."""
    detailed = "DETAILED_ACCOUNTS" in options
    data = _change_head(state, change, options, detailed)
    data["owner"] = account(state, change.owner, detailed)
    if "LABELS" in options or "DETAILED_LABELS" in options:
        data.update(_change_labels(state, change, options, viewer, detailed))
    if "REVIEWER_UPDATES" in options:
        data["reviewer_updates"] = [
            {
                "updated": ts(u.updated),
                "updated_by": account(state, u.updated_by, detailed),
                "reviewer": account(state, u.reviewer, detailed),
                "state": u.state,
            }
            for u in change.reviewer_updates
        ]
    if "MESSAGES" in options:
        data["messages"] = [message(state, m, detailed) for m in change.messages]
    data.update(_change_revisions(state, change, options))
    data["requirements"] = []
    return data


def _change_head(
    state: GerritState, change: Change, options: frozenset[str], detailed: bool
) -> dict[str, Any]:
    """ChangeInfo up to the owner: ids, attention set, status, times, sizes, counts."""
    data: dict[str, Any] = {
        "id": change.url_id,
        "triplet_id": change.triplet_id,
        "project": change.project,
        "branch": change.branch,
    }
    if change.topic:
        data["topic"] = change.topic
    if change.attention:
        data["attention_set"] = {
            str(a): attention(state, e) for a, e in sorted(change.attention.items())
        }
    data["hashtags"] = list(change.hashtags)
    data["change_id"] = change.change_id
    data["subject"] = change.subject
    data["status"] = change.status
    data["created"] = ts(change.created)
    data["updated"] = ts(change.updated)
    if change.submitted is not None:
        data["submitted"] = ts(change.submitted)
        data["submitter"] = account(state, change.submitter, detailed)
    if "SKIP_DIFFSTAT" not in options:
        ps = change.current
        diff = ps.diff(ps.parent_files, "parent").values()
        data["insertions"] = sum(f.get("lines_inserted", 0) for f in diff)
        data["deletions"] = sum(f.get("lines_deleted", 0) for f in diff)
    data["total_comment_count"] = len(change.comments)
    data["unresolved_comment_count"] = unresolved_count(change)
    if change.has_review_started:
        data["has_review_started"] = True
    if change.wip:
        data["work_in_progress"] = True
    if change.private:
        data["is_private"] = True
    data["_number"] = change.number
    data["virtual_id_number"] = change.number
    return data


def _change_labels(
    state: GerritState,
    change: Change,
    options: frozenset[str],
    viewer: int | None,
    detailed: bool,
) -> dict[str, Any]:
    """``labels``, ``permitted_labels`` (DETAILED_LABELS, an open change, a caller) and
    ``reviewers`` by state."""
    data: dict[str, Any] = {"labels": labels(state, change, "DETAILED_LABELS" in options, detailed)}
    if "DETAILED_LABELS" in options and viewer is not None and change.is_open:
        project = state.projects[change.project]
        is_core = viewer in project.cores or state.is_admin(viewer)
        data["permitted_labels"] = {
            name: [
                vote_text(v)
                for v in sorted(lt.values)
                if lt.permitted(is_core)[0] <= v <= lt.permitted(is_core)[1]
            ]
            for name, lt in project.labels.items()
        }
    reviewers: dict[str, list[dict[str, Any]]] = {}
    for account_id, state_name in change.reviewers.items():
        reviewers.setdefault(state_name, []).append(account(state, account_id, detailed))
    data["reviewers"] = reviewers
    return data


def _change_revisions(
    state: GerritState, change: Change, options: frozenset[str]
) -> dict[str, Any]:
    """``current_revision_number`` (Gerrit 3.10 on) and, when asked for, the revisions."""
    ps = change.current
    data: dict[str, Any] = {}
    if _version(state.version) >= (3, 10):  # the field came with Gerrit 3.10
        data["current_revision_number"] = ps.number
    if "ALL_REVISIONS" in options or "CURRENT_REVISION" in options:
        data["current_revision"] = ps.sha
        chosen = change.patch_sets if "ALL_REVISIONS" in options else [ps]
        data["revisions"] = {
            p.sha: revision(state, change, p, options, current=p is ps) for p in chosen
        }
    return data


def _version(text: str) -> tuple[int, ...]:
    """``3.9.5`` -> (3, 9, 5); a version that is not numbers counts as the newest."""
    parts = text.split("-")[0].split(".")
    return tuple(int(p) for p in parts) if all(p.isdigit() for p in parts) else (99,)
