"""Findings as a Gerrit review (ReviewInput): inline comments, the summary, the vote."""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from govbot.audience import Classification
from govbot.findings import Finding, Scope, Severity, Side
from govbot.paths import COMMIT_MSG
from govbot.policy import Policy, ReviewConfig
from govbot.render.links import more_places, plural, rule_url

# Gerrit refuses a comment or change message over ``change.commentSizeLimit`` (default
# 16 KiB, counted in UTF-8 bytes) with a 400 that rejects the whole review. Stay ~2 %
# under it, as Zuul does: what Gerrit counts is not exactly the text we send.
REVIEW_TEXT_LIMIT = 16_000
TRUNCATED = "\n… (truncated)"
# Every inline comment ends with its finding's marker, so the comments govbot posted on
# earlier patch sets can be recognised on Gerrit alone (after a lost database, too).
FINDING_MARKER_RE = re.compile(r"\[govbot:([A-Z]{3}[0-9]{3}):([0-9a-f]{8,64})\]")
# Gerrit's side of a comment on the parent (base) version of a file.
PARENT_SIDE = "PARENT"


def finding_marker(f: Finding) -> str:
    """``[govbot:DEP001:1a2b3c4d5e6f7a8b]``: the rule and fingerprint, last in a comment."""
    return f"[govbot:{f.rule}:{f.identity()}]"


def finding_fingerprints(text: str) -> set[str]:
    """The fingerprints of the finding markers in a comment's text."""
    return {m.group(2) for m in FINDING_MARKER_RE.finditer(text)}


def policy_marker(digest: str) -> str:
    """The last line of every review summary: which policy version produced it.

    With the tag and the patch set of the message it identifies a posted review on
    Gerrit, which is how a review posted just before a crash is found again.
    """
    return f"govbot policy {digest[:12]}"


def has_policy_marker(message: str, digest: str) -> bool:
    """Whether a change message (Gerrit prefixes ``Patch Set N: ...``) carries the marker."""
    marker = policy_marker(digest)
    return any(line.strip() == marker for line in message.splitlines())


def fit_utf8(text: str, limit: int = REVIEW_TEXT_LIMIT, suffix: str = TRUNCATED) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes (``suffix`` included when cut).

    Cuts on a character boundary, never inside a multi-byte sequence.
    """
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    room = max(limit - len(suffix.encode("utf-8")), 0)
    return data[:room].decode("utf-8", errors="ignore").rstrip() + suffix


def _files_index(files: Mapping[str, Any] | Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """path -> (status, old_path), from FileInfo-like values or bare paths (status M)."""
    if isinstance(files, Mapping):
        out = {}
        for path, info in files.items():
            status = getattr(info, "status", None) or "M"
            out[str(path)] = (status, getattr(info, "old_path", None))
        return out
    return {str(path): ("M", None) for path in files}


def comment_place(
    f: Finding,
    files: Mapping[str, tuple[str, str | None]],
    *,
    commit_msg_offset: int | None = None,
) -> tuple[str, str | None] | None:
    """Where an inline comment about ``f`` goes: (path in the revision, side), or None.

    Gerrit accepts comments only on files of the revision (anything else fails the whole
    review with a 400). A finding about the head goes on the file as it is in this patch
    set; one about the base (a removed operation, a deleted spec) on the parent side of
    that file: under its own path when modified or deleted, under its new path when
    renamed or copied. A finding about the commit message goes on ``/COMMIT_MSG`` only
    when the caller gives ``commit_msg_offset`` (the lines of Gerrit's header above the
    message) and the finding has a line.
    """
    if f.file == COMMIT_MSG and commit_msg_offset is not None:
        return (COMMIT_MSG, None) if f.line is not None and f.line >= 1 else None
    if f.file.startswith("/"):
        return None  # /COMMIT_MSG and friends: not a spec
    entry = files.get(f.file)
    if f.side == Side.BASE:
        for path, (status, old_path) in files.items():
            if old_path == f.file and status in ("R", "C"):
                return path, PARENT_SIDE
        if entry is not None and entry[0] != "A":
            return f.file, PARENT_SIDE
        return None
    if entry is not None and entry[0] != "D":
        return f.file, None
    return None


def review_comment(f: Finding, *, docs_base: str) -> str:
    """One inline comment: severity, rule code and name, the message, the help link, the marker."""
    head = f"{f.severity.value} {f.rule} {f.name}".rstrip()
    where = []
    if f.audience is not None:
        where.append(f"audience: {f.audience.value}")
    if f.pointer:
        where.append(f"at {f.pointer}")
    body = f.message + (f"\n\n{'; '.join(where)}" if where else "")
    if f.locations:
        # One comment per cause: the other copies are listed, not commented again.
        more = more_places(f, limit=10)
        body += f"\n\n{more[:1].upper()}{more[1:]}."
    tail = f"Rule documentation: {rule_url(f.rule, docs_base)}\n\n{finding_marker(f)}"
    # The head and the tail (with the marker) always survive; the body is what gets cut.
    fixed = len(f"{head}\n\n\n\n{tail}".encode())
    body = fit_utf8(body, max(REVIEW_TEXT_LIMIT - fixed, 0))
    return f"{head}\n\n{body}\n\n{tail}"


def review_vote(findings: Sequence[Finding], policy: Policy) -> dict[str, int]:
    """The label vote the policy asks for on these findings ({} when it asks for none).

    Only what the change added or changed decides it: findings on existing surface are
    the spec's old debt, never held against the change, whatever their severity.
    """
    vote = policy.review.vote
    if vote is None:
        return {}
    worst = max(
        (f.severity for f in findings if f.scope != Scope.EXISTING),
        key=lambda s: s.rank,
        default=None,
    )
    return {vote.label: vote.value_for(worst)}


def _counts(findings: Sequence[Finding]) -> str:
    counts = Counter(f.severity for f in findings)
    return ", ".join(
        [
            plural(counts[Severity.ERROR], "error"),
            plural(counts[Severity.WARNING], "warning"),
            f"{counts[Severity.INFO]} info",
        ]
    )


def _rule_lines(findings: Sequence[Finding], docs_base: str) -> list[str]:
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        by_rule.setdefault(f.rule, []).append(f)

    def order(code: str) -> tuple[int, str]:
        return (-max(f.severity.rank for f in by_rule[code]), code)

    lines = []
    for code in sorted(by_rule, key=order):
        group = by_rule[code]
        counts = Counter(f.severity for f in group)
        parts = [
            plural(counts[s], s.value) if s is not Severity.INFO else f"{counts[s]} info"
            for s in Severity
            if counts[s]
        ]
        name = group[0].name
        lines.append(f"* {code} {name}: {', '.join(parts)} ({rule_url(code, docs_base)})")
    return lines


def _audience_lines(
    findings: Sequence[Finding], audiences: Mapping[str, Classification] | None
) -> list[str]:
    if audiences:
        lines = []
        for file, c in sorted(audiences.items()):
            counts = c.counts()
            total = sum(counts.values())
            detail = ", ".join(f"{n} {a}" for a, n in counts.items() if n)
            ops = plural(total, "operation") + (f": {detail}" if detail else "")
            lines.append(f"* {file}: {c.spec_audience.value} ({ops})")
        return ["Audience:", *lines]
    counts = Counter(f.audience.value for f in findings if f.audience is not None)
    if not counts:
        return []
    return ["Findings by audience: " + ", ".join(f"{n} {a}" for a, n in sorted(counts.items()))]


def _listed(f: Finding) -> str:
    where = f"{f.file}:{f.line}" if f.line else f.file
    side = " (base)" if f.side == "base" else ""
    more = f" (and {plural(len(f.locations), 'more place')})" if f.locations else ""
    return f"* {f.severity.value} {f.rule} {where}{side}: {f.message}{more}"


def review_input(
    findings: Sequence[Finding],
    *,
    files_in_revision: Mapping[str, Any] | Iterable[str],
    policy: Policy,
    docs_base: str,
    patch_set: int,
    digest: str | None = None,
    carried: Collection[str] = frozenset(),
    vote: bool = True,
    audiences: Mapping[str, Classification] | None = None,
    notes: Sequence[str] = (),
    title: str = "API review",
    commit_msg_offset: int | None = None,
) -> dict[str, Any]:
    """The Gerrit ReviewInput for ``findings`` on ``patch_set``.

    * ``comments``: one per finding at or above the policy's ``min_severity_inline`` (and,
      unless ``inline_existing``, about surface the change added or touched), only
      on files of the revision (``files_in_revision``: the revision's file list, path ->
      FileInfo, or bare paths), at the finding's line (a file comment when unknown), on
      the parent side for findings about the base, ``unresolved`` for errors, at most
      ``max_comments`` of them, each within Gerrit's size limit.
    * findings in ``carried`` (fingerprints already posted as inline comments, on this
      change's earlier patch sets) are not posted again: the summary counts them.
    * ``message``: the summary: counts by severity, per-rule counts with links to the
      rule documentation, the audiences, what is not inline and why, ``notes``, and
      the policy marker as its last line.
    * ``labels``: the policy's vote, only when ``vote`` is true (the caller says false
      on an outdated patch set or when the project has no such label).
    * ``notify``: the owner when there are errors (something to fix), else nobody:
      routine bot output should not mail every reviewer and watcher.
    * ``title`` names the review in the summary's first line ("govbot API review of
      patch set 2: ..."); ``commit_msg_offset`` lets findings about the commit message
      (file ``/COMMIT_MSG``, line of the message) be posted on Gerrit's ``/COMMIT_MSG``
      at ``line + commit_msg_offset``.
    """
    review = policy.review
    files = _files_index(files_in_revision)
    placed = _Placed(review.max_comments)
    for f in findings:
        placed.place(f, review, files, carried, commit_msg_offset, docs_base)
    head = _summary_head(findings, title, patch_set, audiences)
    tail = _summary_tail(
        placed, notes, policy_marker(digest if digest is not None else policy.digest)
    )
    sections = _summary_sections(findings, audiences, placed, docs_base)
    message = fit_utf8("\n".join([*head, *_fitted(sections, head, tail), *tail]))
    errors = any(f.severity is Severity.ERROR for f in findings)
    out: dict[str, Any] = {
        "tag": review.tag,
        "message": message,
        "notify": "OWNER" if errors else "NONE",
        "omit_duplicate_comments": True,
    }
    labels = review_vote(findings, policy) if vote else {}
    if labels:
        out["labels"] = labels
    if placed.comments:
        out["comments"] = placed.comments
    return out


@dataclass
class _Placed:
    """Where each finding of a review went: an inline comment, or only the summary."""

    max_comments: int
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    inline: int = 0
    carried: list[Finding] = field(default_factory=list)  # commented on earlier patch sets
    quiet: list[Finding] = field(default_factory=list)  # below min_severity_inline
    untouched: list[Finding] = field(default_factory=list)  # surface the change left alone
    elsewhere: list[Finding] = field(default_factory=list)  # not on a file of the revision
    over_cap: list[Finding] = field(default_factory=list)

    def place(
        self,
        f: Finding,
        review: ReviewConfig,
        files: Mapping[str, tuple[str, str | None]],
        carried: Collection[str],
        commit_msg_offset: int | None,
        docs_base: str,
    ) -> None:
        if f.severity.rank < review.min_severity_inline.rank:
            self.quiet.append(f)
            return
        if f.scope == Scope.EXISTING and not review.inline_existing:
            self.untouched.append(f)
            return
        if f.identity() in carried:
            self.carried.append(f)
            return
        place = comment_place(f, files, commit_msg_offset=commit_msg_offset)
        if place is None:
            self.elsewhere.append(f)
            return
        if self.inline >= self.max_comments:
            self.over_cap.append(f)
            return
        path, side = place
        comment: dict[str, Any] = {
            "message": review_comment(f, docs_base=docs_base),
            "unresolved": f.severity is Severity.ERROR,
        }
        if f.line is not None and f.line >= 1:
            shift = commit_msg_offset if path == COMMIT_MSG and commit_msg_offset else 0
            comment["line"] = f.line + shift
        if side is not None:
            # Parent 1 named: on a merge, a PARENT comment without it lands on the
            # auto-merge, not the base the finding is about (gerrit-fidelity #2).
            comment["side"] = side
            comment["parent"] = 1
        self.comments.setdefault(path, []).append(comment)
        self.inline += 1


def _summary_head(
    findings: Sequence[Finding],
    title: str,
    patch_set: int,
    audiences: Mapping[str, Classification] | None,
) -> list[str]:
    specs = f" in {plural(len(audiences), 'spec')}" if audiences else ""
    # What the change brought is the verdict; what the spec already had is context, said
    # once, so that a one-line change to a long-lived API is not buried under its past.
    fresh = [f for f in findings if f.scope != Scope.EXISTING]
    before = [f for f in findings if f.scope == Scope.EXISTING]
    verdict = _counts(fresh) if fresh else "no findings"
    head = [f"govbot {title} of patch set {patch_set}: {verdict}{specs}."]
    if before:
        head.append(
            f"The surface this change did not touch already has {_counts(before)}; "
            "they are not held against this change."
        )
    return head


def _summary_tail(placed: _Placed, notes: Sequence[str], marker: str) -> list[str]:
    status = []
    if placed.inline:
        status.append(f"{plural(placed.inline, 'inline comment')}.")
    if placed.carried:
        n = len(placed.carried)
        verb = "applies" if n == 1 else "apply"
        status.append(
            f"{plural(n, 'finding')} already commented on earlier patch sets still {verb}."
        )
    if placed.quiet:
        n = len(placed.quiet)
        verb = "is" if n == 1 else "are"
        status.append(f"{plural(n, 'finding')} below the inline threshold {verb} counted only.")
    tail = ["", " ".join(status)] if status else []
    tail += ["", *notes] if notes else []
    return [*tail, "", marker]


# (title, lines, what the lines are): a part of the summary that grows with the findings.
_Section = tuple[str | None, list[str], str]


def _summary_sections(
    findings: Sequence[Finding],
    audiences: Mapping[str, Classification] | None,
    placed: _Placed,
    docs_base: str,
) -> list[_Section]:
    fresh = [f for f in findings if f.scope != Scope.EXISTING]
    sections: list[_Section] = [(None, _rule_lines(fresh, docs_base), "rules")]
    audience = _audience_lines(findings, audiences)
    if audience:
        sections.append((audience[0], audience[1:], "specs"))
    if placed.elsewhere:
        title = "Not on a file of this patch set (no inline comment possible):"
        sections.append((title, [_listed(f) for f in placed.elsewhere], "findings"))
    if placed.over_cap:
        title = f"Over the limit of {placed.max_comments} inline comments:"
        sections.append((title, [_listed(f) for f in placed.over_cap], "findings"))
    return sections


def _fitted(sections: Sequence[_Section], head: Sequence[str], tail: Sequence[str]) -> list[str]:
    """The sections' lines, added one by one while the message stays within Gerrit's limit."""
    reserve = 60 * len(sections)  # room for the "... and N more" lines
    budget = REVIEW_TEXT_LIMIT - len("\n".join([*head, *tail]).encode()) - reserve
    body: list[str] = []
    for title, lines, what in sections:
        if not lines and title is None:
            continue
        block = [""] + ([title] if title else [])
        cost = len("\n".join(block).encode()) + 1
        if cost > budget:
            body += ["", f"… and {len(lines)} more {what}."]
            budget -= 40
            continue
        body += block
        budget -= cost
        for n, line in enumerate(lines):
            line = fit_utf8(line, 500, " …")
            size = len(line.encode()) + 1
            if size > budget:
                body.append(f"… and {len(lines) - n} more {what}.")
                budget -= 40
                break
            body.append(line)
            budget -= size
    return body


def review_text(review: Mapping[str, Any]) -> str:
    """A ReviewInput as readable text: what ``govbot review --dry-run`` prints."""
    out = [
        f"tag: {review.get('tag', '')}",
        f"notify: {review.get('notify', 'ALL')}",
    ]
    labels = review.get("labels") or {}
    votes = ", ".join(f"{label} {value:+d}" for label, value in labels.items())
    out.append(f"vote: {votes or 'none'}")
    out += ["", "message:", textwrap.indent(review.get("message", ""), "  ")]
    comments: Mapping[str, Sequence[Mapping[str, Any]]] = review.get("comments") or {}
    total = sum(len(items) for items in comments.values())
    out += ["", f"inline comments: {total}"]
    for path, items in comments.items():
        for c in items:
            where = f"{path}:{c['line']}" if c.get("line") else f"{path} (file)"
            flags = []
            if c.get("side") == PARENT_SIDE:
                flags.append("base")
            flags.append("unresolved" if c.get("unresolved") else "resolved")
            out += ["", f"{where} [{', '.join(flags)}]", textwrap.indent(c["message"], "  ")]
    return "\n".join(out).rstrip() + "\n"
