"""oslo.policy check strings: parsed and evaluated for a few personas, three-valued.

The grammar is oslo.policy's: checks ``kind:match`` (``role:``, ``rule:``, and the
generic form comparing a credential with a literal or a ``%(target)s`` value), ``@``
(anyone) and ``!`` (no one), joined by ``and`` / ``or`` / ``not`` with parentheses,
``and`` binding tighter than ``or``. A string that does not parse denies everyone, as
oslo.policy does. What depends on facts no persona carries (``http:`` checks, neutron's
``field:`` checks, a ``rule:`` not defined in the trees read, a target attribute other
than the owner's project, user or domain) evaluates to *unknown*, never to a guess.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Truth = bool | None  # None: unknown
MAX_TOKENS = 2000
MAX_NESTING = 100


@dataclass(frozen=True, slots=True)
class Check:
    kind: str  # "@", "!", "and", "or", "not", or a check kind ("role", "rule", ...)
    match: str = ""
    children: tuple[Check, ...] = ()


class _Bad(Exception):
    pass


def parse(text: str) -> Check:
    """The check tree of a check string; an empty one allows anyone, a bad one no one."""
    if not text.strip():
        return Check("@")
    tokens = _tokens(text)
    if len(tokens) > MAX_TOKENS:
        return Check("!")
    try:
        check, pos = _or(tokens, 0, 0)
        if pos != len(tokens):
            raise _Bad
        return check
    except (_Bad, IndexError):
        return Check("!")


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    for tok in text.split():
        clean = tok.lstrip("(")
        out.extend("(" * (len(tok) - len(clean)))
        if not clean:
            continue
        stripped = clean.rstrip(")")
        if stripped:
            out.append(stripped)
        out.extend(")" * (len(clean) - len(stripped)))
    return out


def _or(tokens: list[str], pos: int, depth: int) -> tuple[Check, int]:
    left, pos = _and(tokens, pos, depth)
    parts = [left]
    while pos < len(tokens) and tokens[pos].lower() == "or":
        right, pos = _and(tokens, pos + 1, depth)
        parts.append(right)
    return (parts[0] if len(parts) == 1 else Check("or", children=tuple(parts))), pos


def _and(tokens: list[str], pos: int, depth: int) -> tuple[Check, int]:
    left, pos = _not(tokens, pos, depth)
    parts = [left]
    while pos < len(tokens) and tokens[pos].lower() == "and":
        right, pos = _not(tokens, pos + 1, depth)
        parts.append(right)
    return (parts[0] if len(parts) == 1 else Check("and", children=tuple(parts))), pos


def _not(tokens: list[str], pos: int, depth: int) -> tuple[Check, int]:
    if depth > MAX_NESTING:
        raise _Bad
    tok = tokens[pos]
    if tok.lower() == "not":
        inner, pos = _not(tokens, pos + 1, depth + 1)
        return Check("not", children=(inner,)), pos
    if tok == "(":
        inner, pos = _or(tokens, pos + 1, depth + 1)
        if pos >= len(tokens) or tokens[pos] != ")":
            raise _Bad
        return inner, pos + 1
    if tok in (")", "and", "or") or tok.lower() in ("and", "or"):
        raise _Bad
    if tok in ("@", "!"):
        return Check(tok), pos + 1
    kind, sep, match = tok.partition(":")
    if not sep:
        return Check("!"), pos + 1  # oslo.policy: a check without a kind fails closed
    return Check(kind, match), pos + 1


# --- personas ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Persona:
    """Credentials of one kind of caller acting on a resource of ``target``.

    Every persona acts on a project user's resource: the user on their own, an admin
    and a service (nova calling cinder for a user's volume) on someone else's.
    """

    name: str
    creds: Mapping[str, Any]
    target: Mapping[str, str]


_TARGET = {
    "project_id": "p-owner",
    "tenant_id": "p-owner",
    "user_id": "u-owner",
    "domain_id": "d-owner",
}


def _project(name: str, roles: tuple[str, ...]) -> Persona:
    creds = {
        "roles": roles,
        "user_id": "u-owner",
        "project_id": "p-owner",
        "tenant_id": "p-owner",
        "domain_id": "d-owner",
        "user_domain_id": "d-owner",
        "project_domain_id": "d-owner",
        "is_admin": False,
        "is_admin_project": False,
        "system_scope": None,
    }
    return Persona(name, creds, _TARGET)


ADMIN_ROLES = ("admin", "manager", "member", "reader")
READER = _project("project reader", ("reader",))
MEMBER = _project("project member", ("member", "reader"))
MANAGER = _project("project manager", ("manager", "member", "reader"))
PROJECT_ADMIN = Persona(
    "cloud admin (project-scoped)",
    {
        **_project("", ADMIN_ROLES).creds,
        "project_id": "p-admin",
        "tenant_id": "p-admin",
        "user_id": "u-admin",
        "is_admin": True,
        "is_admin_project": True,
    },
    _TARGET,
)
SYSTEM_ADMIN = Persona(
    "cloud admin (system-scoped)",
    {
        **_project("", ADMIN_ROLES).creds,
        "project_id": None,
        "tenant_id": None,
        "user_id": "u-admin",
        "is_admin": True,
        "is_admin_project": True,
        "system_scope": "all",
    },
    _TARGET,
)
SERVICE = Persona(
    "service user",
    {
        **_project("", ("service",)).creds,
        "project_id": "p-service",
        "tenant_id": "p-service",
        "user_id": "u-service",
        "domain_id": "d-service",
    },
    _TARGET,
)

_TARGET_SUFFIXES = (
    ("project_id", "project_id"),
    ("tenant_id", "project_id"),
    ("project.id", "project_id"),
    ("user_id", "user_id"),
    ("user.id", "user_id"),
    ("domain_id", "domain_id"),
    ("domain.id", "domain_id"),
)
_TARGET_FIELD = re.compile(r"%\(([^)]*)\)s")


def _substitute(match: str, target: Mapping[str, str]) -> str | None:
    """``match`` with its ``%(key)s`` fields from the target; None if one is unknown."""
    missing = False

    def value(m: re.Match[str]) -> str:
        nonlocal missing
        key = m.group(1)
        for suffix, attr in _TARGET_SUFFIXES:
            if key == suffix or key.endswith("." + suffix) or key.endswith(suffix):
                return target[attr]
        missing = True
        return ""

    out = _TARGET_FIELD.sub(value, match)
    return None if missing else out


def _literal(kind: str) -> tuple[bool, str]:
    try:
        return True, str(ast.literal_eval(kind))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return False, ""


RuleLookup = Callable[[str], "Check | None"]


def evaluate(
    check: Check, persona: Persona, rules: RuleLookup, notes: list[str], depth: int = 0
) -> Truth:
    """True / False / None (unknown) for ``persona``; ``notes`` gathers why it is unknown."""
    kind = check.kind
    if depth > MAX_NESTING:
        notes.append("rule references nest too deep")
        return None
    if kind == "@":
        return True
    if kind == "!":
        return False
    if kind in ("and", "or"):
        results = [evaluate(c, persona, rules, notes, depth + 1) for c in check.children]
        if kind == "and":
            return False if False in results else (None if None in results else True)
        return True if True in results else (None if None in results else False)
    if kind == "not":
        inner = evaluate(check.children[0], persona, rules, notes, depth + 1)
        return None if inner is None else not inner
    if kind == "rule":
        target = rules(check.match)
        if target is None:
            notes.append(f"rule:{check.match} is not defined in the trees read")
            return None
        return evaluate(target, persona, rules, notes, depth + 1)
    match = _substitute(check.match, persona.target)
    if match is None:
        notes.append(f"{kind}:{check.match} depends on the target's attributes")
        return None
    if kind == "role":
        return match.lower() in {r.lower() for r in persona.creds.get("roles", ())}
    if kind in ("http", "https", "field"):
        notes.append(f"{kind}: checks depend on the deployment or the resource")
        return None
    is_literal, literal = _literal(kind)
    if is_literal:
        return literal == match
    value: Any = persona.creds
    for segment in kind.split("."):
        if not isinstance(value, Mapping) or segment not in value:
            notes.append(f"{kind}: is not a credential govbot's personas carry")
            return None
        value = value[segment]
    if isinstance(value, list | tuple):
        return match in {str(v) for v in value}
    return value is not None and str(value) == match
