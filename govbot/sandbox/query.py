"""The subset of Gerrit's change query language the sandbox understands.

Grammar (as Gerrit's, minus what govbot never sends): terms ``op:value`` with values bare,
``"quoted"`` or ``{braced}``; implicit or explicit ``AND``; ``OR``; negation with ``-`` or
``NOT``; parentheses. A bare number is a change number, a bare ``I...`` a Change-Id.
Operators: status/is/has, project/projects/branch (with ``^regex``), topic, hashtag,
change, owner/reviewer/cc/uploader/attention/commentby/reviewedby (account forms incl.
``self``), file/path/ext/directory (``^regex``), after/since/before/until, age, label,
message/subject, limit. An unknown operator is a 400, as in Gerrit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from govbot.gerrit.errors import GerritDataError
from govbot.gerrit.scalars import parse_timestamp
from govbot.sandbox.entities import Change, RestError
from govbot.sandbox.render import unresolved_count
from govbot.sandbox.state import GerritState

Predicate = Callable[[Change], bool]

_AGE_UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
    "mon": 2592000,
    "month": 2592000,
    "months": 2592000,
    "y": 31536000,
    "year": 31536000,
    "years": 31536000,
}
_ACCOUNT_OPERATORS = {
    "owner",
    "reviewer",
    "cc",
    "uploader",
    "attention",
    "commentby",
    "reviewedby",
    "o",
    "r",
}


@dataclass(frozen=True)
class Query:
    predicate: Predicate
    limit: int | None


def _bad(message: str) -> RestError:
    return RestError(400, message)


# --- lexer ---------------------------------------------------------------------------------


def tokenize(text: str) -> list[str]:
    """Split a query into terms, parentheses, ``-`` and the words AND/OR/NOT."""
    tokens: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "()":
            tokens.append(ch)
            i += 1
            continue
        if ch == "-" and i + 1 < n and not text[i + 1].isspace():
            tokens.append("-")
            i += 1
            continue
        start = i
        while i < n and not text[i].isspace() and text[i] != ")":
            if text[i] == '"':
                end = text.find('"', i + 1)
                if end < 0:
                    raise _bad(f"line 1:{i} unterminated quoted value")
                i = end + 1
            elif text[i] == "{":
                end = text.find("}", i + 1)
                if end < 0:
                    raise _bad(f"line 1:{i} unterminated braced value")
                i = end + 1
            else:
                i += 1
        tokens.append(text[start:i])
    return tokens


def _unquote(value: str) -> str:
    if len(value) >= 2 and (value[0], value[-1]) in (('"', '"'), ("{", "}")):
        return value[1:-1]
    return value


# --- parser --------------------------------------------------------------------------------


class _Parser:
    def __init__(self, state: GerritState, viewer: int | None, tokens: list[str]) -> None:
        self.state = state
        self.viewer = viewer
        self.tokens = tokens
        self.pos = 0
        self.limit: int | None = None

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def parse(self) -> Predicate:
        if not self.tokens:
            return self.status("open")
        predicate = self.or_expr()
        if self.peek() is not None:
            raise _bad(f"line 1:0 extraneous input '{self.peek()}' expecting EOF")
        return predicate

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.and_expr())
        if len(parts) == 1:
            return parts[0]
        return lambda c: any(p(c) for p in parts)

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while self.peek() not in (None, ")", "OR"):
            if self.peek() == "AND":
                self.take()
            parts.append(self.unary())
        if len(parts) == 1:
            return parts[0]
        return lambda c: all(p(c) for p in parts)

    def unary(self) -> Predicate:
        token = self.peek()
        if token is None:
            raise _bad("line 1:0 no viable alternative at input '<EOF>'")
        if token in ("-", "NOT"):
            self.take()
            inner = self.unary()
            return lambda c: not inner(c)
        if token == "(":
            self.take()
            inner = self.or_expr()
            if self.peek() != ")":
                raise _bad("line 1:0 missing ')'")
            self.take()
            return inner
        if token in (")", "AND", "OR"):
            raise _bad(f"line 1:0 no viable alternative at input '{token}'")
        return self.term(self.take())

    # -- terms ----------------------------------------------------------------------------

    def term(self, token: str) -> Predicate:
        if ":" not in token or token.startswith(('"', "{")):
            return self.default_field(_unquote(token))
        op, _, raw = token.partition(":")
        value = _unquote(raw)
        op = op.lower()
        if op in _ACCOUNT_OPERATORS:
            return self.account_term(op, value)
        handler = getattr(self, f"op_{op.replace('-', '_')}", None)
        if handler is None:
            raise _bad(f"Unsupported operator {op}:{value}")
        return handler(value)

    def default_field(self, value: str) -> Predicate:
        if value.isdigit():
            number = int(value)
            return lambda c: c.number == number
        if re.fullmatch(r"I[0-9a-f]{4,40}", value):
            return lambda c: c.change_id.startswith(value)
        lowered = value.lower()
        return lambda c: lowered in c.current.message.lower()

    def op_change(self, value: str) -> Predicate:
        return self.default_field(value)

    def status(self, value: str) -> Predicate:
        wanted = {
            "open": {"NEW"},
            "new": {"NEW"},
            "pending": {"NEW"},
            "merged": {"MERGED"},
            "abandoned": {"ABANDONED"},
            "closed": {"MERGED", "ABANDONED"},
        }.get(value.lower())
        if wanted is None:
            if value.lower() == "reviewed":
                return self._reviewed_by(None)
            raise _bad(f"Unrecognized value: {value}")
        return lambda c: c.status in wanted

    def op_status(self, value: str) -> Predicate:
        return self.status(value)

    def op_is(self, value: str) -> Predicate:
        value = value.lower()
        if value in ("open", "new", "pending", "merged", "abandoned", "closed", "reviewed"):
            return self.status(value)
        if value == "wip":
            return lambda c: c.wip
        if value == "private":
            return lambda c: c.private
        if value == "owner":
            viewer = self._self()
            return lambda c: c.owner == viewer
        if value in ("reviewer", "cc"):
            viewer = self._self()
            state_name = value.upper()
            return lambda c: c.reviewers.get(viewer) == state_name
        if value == "attention":
            viewer = self._self()
            return lambda c: viewer in c.attention
        raise _bad(f"Unrecognized value: {value}")

    def op_has(self, value: str) -> Predicate:
        value = value.lower()
        if value == "unresolved":
            return lambda c: unresolved_count(c) > 0
        if value == "attention":
            return lambda c: bool(c.attention)
        raise _bad(f"'{value}' is not a valid value for has:")

    def _match(self, value: str) -> Callable[[str], bool]:
        if value.startswith("^"):
            try:
                pattern = re.compile(value)
            except re.error as exc:
                raise _bad(f"Invalid regular expression {value}: {exc}") from None
            return lambda text: pattern.fullmatch(text) is not None
        return lambda text: text == value

    def op_project(self, value: str) -> Predicate:
        match = self._match(value)
        return lambda c: match(c.project)

    op_p = op_project

    def op_projects(self, value: str) -> Predicate:
        return lambda c: c.project.startswith(value)

    def op_branch(self, value: str) -> Predicate:
        match = self._match(value.removeprefix("refs/heads/"))
        return lambda c: match(c.branch)

    op_b = op_branch

    def op_topic(self, value: str) -> Predicate:
        match = self._match(value)
        return lambda c: c.topic is not None and match(c.topic)

    def op_hashtag(self, value: str) -> Predicate:
        lowered = value.lower().lstrip("#")
        return lambda c: lowered in (h.lower() for h in c.hashtags)

    def op_message(self, value: str) -> Predicate:
        lowered = value.lower()
        return lambda c: lowered in c.current.message.lower()

    def op_subject(self, value: str) -> Predicate:
        lowered = value.lower()
        return lambda c: lowered in c.subject.lower()

    # files of the current patch set, as Gerrit's index holds them

    def op_file(self, value: str) -> Predicate:
        if value.startswith("^"):
            return self.op_path(value)

        def matches(path: str) -> bool:
            if path == value:
                return True
            parts = path.split("/")
            wanted = value.strip("/").split("/")
            return any(parts[i : i + len(wanted)] == wanted for i in range(len(parts)))

        return lambda c: any(matches(p) for p in c.current.changed_paths())

    op_f = op_file

    def op_path(self, value: str) -> Predicate:
        match = self._match(value)
        return lambda c: any(match(p) for p in c.current.changed_paths())

    def op_ext(self, value: str) -> Predicate:
        suffix = "." + value.lower().lstrip(".")
        return lambda c: any(p.lower().endswith(suffix) for p in c.current.changed_paths())

    op_extension = op_ext

    def op_directory(self, value: str) -> Predicate:
        if value.startswith("^"):
            pattern = re.compile(value, re.IGNORECASE)
            return lambda c: any(
                pattern.fullmatch(p.rsplit("/", 1)[0])
                for p in c.current.changed_paths()
                if "/" in p
            )
        prefix = value.strip("/").lower() + "/"
        return lambda c: any(
            ("/" + p.lower()).find("/" + prefix) >= 0 for p in c.current.changed_paths()
        )

    op_dir = op_directory

    # time

    def _time(self, value: str) -> datetime:
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            text += " 00:00:00"
        try:
            when = parse_timestamp(text)
        except GerritDataError:
            when = None
        if when is None:
            raise _bad(f"Invalid timestamp {value}")
        return when

    def op_after(self, value: str) -> Predicate:
        when = self._time(value)
        return lambda c: c.updated >= when

    op_since = op_after

    def op_before(self, value: str) -> Predicate:
        when = self._time(value)
        return lambda c: c.updated <= when

    op_until = op_before

    def op_age(self, value: str) -> Predicate:
        seconds = 0
        parts = re.findall(r"(\d+)\s*([a-z]+)", value.lower())
        if not parts or "".join(n + u for n, u in parts) != re.sub(r"\s", "", value.lower()):
            raise _bad(f"Invalid age: {value}")
        for number, unit in parts:
            if unit not in _AGE_UNITS:
                raise _bad(f"Invalid age: {value}")
            seconds += int(number) * _AGE_UNITS[unit]
        cutoff = self.state.now() - timedelta(seconds=seconds)
        return lambda c: c.updated <= cutoff

    def op_limit(self, value: str) -> Predicate:
        if not value.isdigit():
            raise _bad(f"Invalid limit: {value}")
        self.limit = int(value) if self.limit is None else min(self.limit, int(value))
        return lambda c: True

    # people

    def _self(self) -> int:
        if self.viewer is None:
            raise RestError(403, "Must be signed-in to use this operator")
        return self.viewer

    def _account_ids(self, value: str) -> set[int]:
        if value in ("self", "me"):
            return {self._self()}
        account = self.state.find_account(value)
        if account is not None:
            return {account.id}
        group = self.state.find_group(value)
        if group is not None:
            return {a.id for a in self.state.group_members(group)}
        raise _bad(f"Account '{value}' not found")

    def account_term(self, op: str, value: str) -> Predicate:
        ids = self._account_ids(value)
        if op in ("owner", "o"):
            return lambda c: c.owner in ids
        if op in ("reviewer", "r"):
            return lambda c: any(c.reviewers.get(i) == "REVIEWER" for i in ids)
        if op == "cc":
            return lambda c: any(c.reviewers.get(i) == "CC" for i in ids)
        if op == "uploader":
            return lambda c: c.current.uploader in ids
        if op == "attention":
            return lambda c: any(i in c.attention for i in ids)
        if op == "commentby":
            return lambda c: (
                any(m.author in ids for m in c.messages if m.message.startswith("Patch Set"))
                or any(cm.author in ids for cm in c.comments)
            )
        return self._reviewed_by(ids)

    def _reviewed_by(self, ids: set[int] | None) -> Predicate:
        """Someone (in ``ids``, or anyone but the owner) spoke after the owner's last update."""

        def predicate(change: Change) -> bool:
            owner_times = [ps.created for ps in change.patch_sets if ps.uploader == change.owner]
            owner_times += [m.date for m in change.messages if m.author == change.owner]
            last_owner = max(owner_times) if owner_times else change.created
            return any(
                m.author is not None
                and m.author != change.owner
                and (ids is None or m.author in ids)
                and m.date > last_owner
                for m in change.messages
            )

        return predicate

    def op_ownerin(self, value: str) -> Predicate:
        ids = self._group_ids(value)
        return lambda c: c.owner in ids

    def op_reviewerin(self, value: str) -> Predicate:
        ids = self._group_ids(value)
        return lambda c: any(c.reviewers.get(i) == "REVIEWER" for i in ids)

    def _group_ids(self, value: str) -> set[int]:
        group = self.state.find_group(value)
        if group is None:
            raise _bad(f"Group {value} not found")
        return {a.id for a in self.state.group_members(group)}

    # labels

    def op_label(self, value: str) -> Predicate:
        match = re.fullmatch(
            r"([A-Za-z0-9-]+)(?:(<=|>=|=|<|>)([+-]?\d+|MAX|MIN|ANY|max|min|any))?(?:[,&](.*))?",
            value,
        )
        if match is None:
            raise _bad(f"Invalid label: {value}")
        name, operator, raw, extra = match.groups()
        users: set[int] | None = None
        if extra:
            for clause in extra.split("&" if "&" in extra else ","):
                key, _, who = clause.partition("=")
                if key in ("user", "owner") and who:
                    users = self._account_ids(who)
                elif key == "group" and who:
                    users = self._group_ids(who)
                elif key not in ("count",):
                    raise _bad(f"Invalid label: {value}")
        state = self.state

        def test(change: Change) -> bool:
            label_type = state.projects[change.project].labels.get(name)
            if label_type is None:
                return False
            values = [
                a.value
                for (label, account_id), a in change.current_votes().items()
                if label == name and (users is None or account_id in users)
            ]
            if operator is None or raw.upper() == "ANY":
                return bool(values)
            if raw.upper() == "MAX":
                target = label_type.max
            elif raw.upper() == "MIN":
                target = label_type.min
            else:
                target = int(raw)
            if not values and target == 0 and operator == "=":
                return True
            compare = {
                "=": lambda v: v == target,
                ">=": lambda v: v >= target,
                "<=": lambda v: v <= target,
                ">": lambda v: v > target,
                "<": lambda v: v < target,
            }[operator]
            return any(compare(v) for v in values)

        return test


def compile_query(state: GerritState, text: str, viewer: int | None) -> Query:
    """Parse ``text``; raises ``RestError`` 400 (syntax, unknown operator) or 403."""
    parser = _Parser(state, viewer, tokenize(text))
    predicate = parser.parse()
    return Query(predicate, parser.limit)


def run_query(state: GerritState, text: str, viewer: int | None) -> tuple[list[Change], int | None]:
    """Visible changes matching ``text``, most recently updated first; plus ``limit:``."""
    query = compile_query(state, text, viewer)
    matches = [c for c in state.changes.values() if state.can_see(c, viewer) and query.predicate(c)]
    matches.sort(key=lambda c: (c.updated, c.number), reverse=True)
    return matches, query.limit
