"""Rules: small decorated functions with a stable code, a name and a docstring.

A rule body only finds things (it yields :class:`Hit`); :mod:`govbot.evaluate` alone
decides whether a rule runs, at which severity, and what is waived.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from govbot.findings import Audience, Scope, Severity, Side

if TYPE_CHECKING:
    from govbot.openapi.audience import Classification
    from govbot.openapi.diff import SpecDiff
    from govbot.openapi.model import Spec

# "blueprint" rules judge one design spec, "change" rules one change's commit message
# and files; both run through govbot.evaluate.evaluate_documents.
Kind = Literal["load", "spec", "diff", "cross", "blueprint", "change"]
CODE_RE = re.compile(r"^[A-Z]{3}\d{3}$")
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
DOCS_BASE = "https://govbot.readthedocs.io/rules/"  # replaced by the deployment's web URL


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule found: where, and a message a contributor can act on."""

    message: str
    pointer: str
    file: str | None = None  # default: the spec's root file on that side
    side: Side = "head"
    audience: Audience = Audience.EXTERNAL
    scope: Scope = "new"
    line: int | None = None  # for documents without JSON pointers (design specs, commit messages)


@dataclass(frozen=True)
class SpecContext:
    """One spec (the head of a change, or a spec checked on its own)."""

    spec: Spec
    audience: Classification
    options: Mapping[str, Any]
    # Operation keys ("GET /servers/{}") added or changed by the change; None = no base,
    # so everything is new surface.
    touched: frozenset[str] | None = None
    base: Spec | None = None
    today: dt.date = field(default_factory=dt.date.today)

    def scope_of(self, op_key: str | None) -> Scope:
        if self.touched is None:
            return "new"
        if op_key is None:
            return "existing"
        return "changed" if op_key in self.touched else "existing"


@dataclass(frozen=True)
class DiffContext:
    """A base -> head pair of one spec."""

    base: Spec
    head: Spec
    diff: SpecDiff
    base_audience: Classification
    head_audience: Classification
    options: Mapping[str, Any]
    today: dt.date = field(default_factory=dt.date.today)


@dataclass(frozen=True)
class CrossContext:
    """Every spec of one check, to compare them with each other."""

    specs: tuple[Spec, ...]
    audiences: Mapping[str, Classification]  # spec file -> classification
    options: Mapping[str, Any]
    touched: Mapping[str, frozenset[str] | None] = field(default_factory=dict)


Check = Callable[[Any], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    kind: Kind
    check: Check
    severity: Mapping[Audience, Severity]
    doc: str
    summary: str
    options: Mapping[str, Any]
    guideline: str = ""

    def default_severity(self, audience: Audience | None) -> Severity:
        return self.severity[audience or Audience.EXTERNAL]

    @property
    def family(self) -> str:
        return self.code[:3]

    def run(self, ctx: Any) -> Iterator[Hit]:
        yield from self.check(ctx)


_REGISTRY: dict[str, Rule] = {}


def rule(
    code: str,
    name: str,
    *,
    kind: Kind,
    severity: Severity,
    internal: Severity | None = None,
    admin: Severity | None = None,
    options: Mapping[str, Any] | None = None,
    guideline: str = "",
) -> Callable[[Check], Check]:
    """Register a rule. ``internal`` defaults to one step milder than ``severity``."""

    def register(func: Check) -> Check:
        if not CODE_RE.match(code):
            raise ValueError(f"rule code {code!r} must look like ABC123")
        if not NAME_RE.match(name):
            raise ValueError(f"rule name {name!r} must be kebab-case")
        if code in _REGISTRY and _REGISTRY[code].check is not func:
            raise ValueError(f"rule code {code} registered twice")
        doc = inspect.cleandoc(func.__doc__ or "")
        if not doc:
            raise ValueError(f"rule {code} has no docstring")
        _REGISTRY[code] = Rule(
            code=code,
            name=name,
            kind=kind,
            check=func,
            severity={
                Audience.EXTERNAL: severity,
                Audience.EXTERNAL_ADMIN: admin or severity,
                Audience.INTERNAL: internal or severity.lowered(),
            },
            doc=doc,
            summary=doc.splitlines()[0],
            options=dict(options or {}),
            guideline=guideline,
        )
        return func

    return register


def all_rules() -> tuple[Rule, ...]:
    _load_catalog()
    return tuple(sorted(_REGISTRY.values(), key=lambda r: r.code))


def get_rule(code: str) -> Rule | None:
    _load_catalog()
    return _REGISTRY.get(code.upper())


def _load_catalog() -> None:
    # Imported on first use, not at import time, so that importing the registry has no
    # side effects and the rule modules can import it freely.
    from govbot.rules import catalog  # noqa: F401
