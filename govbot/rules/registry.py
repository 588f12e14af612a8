"""Rules: small decorated functions with a stable code, a name and a docstring.

A rule body only finds things (it yields :class:`Hit`); :mod:`govbot.evaluate` alone
decides whether a rule runs, at which severity, and what is waived. ``@rule`` turns a
function into a :class:`Rule` value and registers nothing anywhere: the catalogue
(:mod:`govbot.rules.catalog`) collects the rules of the families it imports, so that
importing this module, or a family, has no side effect.

Each :class:`Kind` names the context its rules read (:data:`CONTEXTS`), which is how
the evaluator dispatches them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import ModuleType
from typing import Any, ClassVar, Protocol

from govbot.audience import Classification
from govbot.diff import OperationDiff, SpecDiff
from govbot.findings import Audience, OperationRef, Scope, Severity, Side
from govbot.surface import Node, Operation, Spec

CODE_RE = re.compile(r"^[A-Z]{3}\d{3}$")
# Rule profiles: which community's conventions a rule enforces. ``api-sig`` is
# OpenStack's API-SIG guidelines; ``generic`` is what the wider field agrees on (HTTP
# semantics, OpenAPI's own requirements, ISO 8601, one vocabulary). A policy picks one
# per project (policy/model.py ProfileConfig); ``auto`` picks by the spec itself.
API_SIG = "api-sig"
GENERIC = "generic"
PROFILES: tuple[str, ...] = (API_SIG, GENERIC)
AUTO = "auto"
API_SIG_ONLY: frozenset[str] = frozenset({API_SIG})  # OpenStack's convention, not the field's
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class Kind(StrEnum):
    """What a rule judges; each kind reads one context type (:data:`CONTEXTS`)."""

    LOAD = "load"  # the problems a reader met in one spec: LoadContext
    SPEC = "spec"  # one spec: SpecContext
    DIFF = "diff"  # a base -> head pair of one spec: DiffContext
    CROSS = "cross"  # every spec of a check together: CrossContext
    # Documents other than API specs, judged by govbot.evaluate.evaluate_documents: a
    # design spec (blueprint) and a change's commit message and files.
    BLUEPRINT = "blueprint"
    CHANGE = "change"


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule found: where, and a message a contributor can act on."""

    message: str
    pointer: str
    file: str | None = None  # default: the spec's root file on that side
    side: Side = Side.HEAD
    audience: Audience | None = Audience.EXTERNAL  # None: about the file, not its surface
    scope: Scope = Scope.NEW
    # Known without a line map (a syntax error, a design spec, a commit message);
    # otherwise the evaluator finds the pointer's line.
    line: int | None = None
    # Why the hit is reported but not held against the change (surface declared draft
    # or alpha): the evaluator rates it info, whatever the policy, and shows the reason.
    advisory: str = ""
    # What makes two hits one finding (one cause reached through several ``$ref``
    # copies or inlined duplicates): hits of one rule with the same cause are reported
    # once, the other places listed. None: the message is the cause.
    cause: str | None = None
    # The operation the hit is about, when its node alone does not say (a parameter
    # entry shared by several operations); otherwise the evaluator finds it.
    operation: OperationRef | None = None

    @classmethod
    def at(
        cls,
        node: Node,
        message: str,
        *,
        side: Side = Side.HEAD,
        audience: Audience | None = Audience.EXTERNAL,
        scope: Scope = Scope.NEW,
        advisory: str = "",
    ) -> Hit:
        """A hit at ``node`` (its file and pointer)."""
        return cls(message, node.pointer, node.file, side, audience, scope, advisory=advisory)


@dataclass(frozen=True)
class LoadContext:
    """One spec of a check, for the problems its reader met (rules of kind ``load``).

    ``base`` is the version before the change, when there is one: a problem the base
    had already is existing surface, and a base that does not load explains why there
    is no compatibility verdict. ``deleted``: the change removed the spec.
    """

    kind: ClassVar[Kind] = Kind.LOAD

    head: Spec
    base: Spec | None = None
    deleted: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SpecContext:
    """One spec (the head of a change, or a spec checked on its own)."""

    kind: ClassVar[Kind] = Kind.SPEC

    spec: Spec
    audience: Classification
    options: Mapping[str, Any] = field(default_factory=dict)
    # Operation keys ("GET /servers/{}") added or changed by the change; None = no base,
    # so everything is new surface.
    touched: frozenset[str] | None = None
    base: Spec | None = None
    today: dt.date = field(default_factory=dt.date.today)
    profile: str = API_SIG  # the profile this spec is judged under (PROFILES)

    def scope_of(self, op_key: str | None) -> Scope:
        if self.touched is None:
            return Scope.NEW
        if op_key is None:
            return Scope.EXISTING
        return Scope.CHANGED if op_key in self.touched else Scope.EXISTING


@dataclass(frozen=True)
class DiffContext:
    """A base -> head pair of one spec."""

    kind: ClassVar[Kind] = Kind.DIFF

    base: Spec
    head: Spec
    diff: SpecDiff
    base_audience: Classification
    head_audience: Classification
    options: Mapping[str, Any] = field(default_factory=dict)
    today: dt.date = field(default_factory=dt.date.today)

    def on_base(self, node: Node, message: str, op: OperationDiff) -> Hit:
        """A hit at ``node`` of the base spec (something removed or changed) of ``op``."""
        audience = self.base_audience.of(op.key)
        hit = Hit.at(
            node,
            message,
            side=Side.BASE,
            audience=audience,
            scope=Scope.CHANGED,
            advisory=unstable_note(op.unstable),
        )
        return _about(hit, op.base)

    def on_head(self, node: Node, message: str, op: OperationDiff) -> Hit:
        """A hit at ``node`` of the head spec, about what the change did to ``op``."""
        audiences = self.head_audience if op.head is not None else self.base_audience
        audience = audiences.of(op.key)
        hit = Hit.at(
            node,
            message,
            side=Side.HEAD,
            audience=audience,
            scope=Scope.CHANGED,
            advisory=unstable_note(op.unstable),
        )
        return _about(hit, op.head or op.base)


def unstable_note(level: str) -> str:
    """The advisory reason of a hit about surface of stability ``level`` ("" if stable)."""
    if not level:
        return ""
    return f"{level} surface (x-stability-level: {level}): reported, not held against the change"


def operation_ref(op: Operation) -> OperationRef:
    """What a finding says of the operation it is about."""
    return OperationRef(op.method.upper(), op.path, op.action)


def _about(hit: Hit, op: Operation | None) -> Hit:
    return hit if op is None else dataclasses.replace(hit, operation=operation_ref(op))


@dataclass(frozen=True)
class CrossContext:
    """Every spec of one check, to compare them with each other."""

    kind: ClassVar[Kind] = Kind.CROSS

    specs: tuple[Spec, ...]
    audiences: Mapping[str, Classification]  # spec file -> classification
    options: Mapping[str, Any] = field(default_factory=dict)
    touched: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    # spec file -> its base (the version before the change), when there is one: the
    # element a finding is about is new, changed or existing by comparing the two.
    bases: Mapping[str, Spec] = field(default_factory=dict)
    profile: str = API_SIG


class DocumentContext(Protocol):
    """What the evaluator needs of a document context (kinds ``blueprint`` and ``change``).

    The contexts themselves live with their rules (:mod:`govbot.rules.blueprints`).
    """

    @property
    def kind(self) -> Kind: ...

    @property
    def file(self) -> str: ...

    @property
    def options(self) -> Mapping[str, Any]: ...


Context = LoadContext | SpecContext | DiffContext | CrossContext | DocumentContext
# The context class each kind of rule reads (the document kinds' contexts are their
# rules' own: govbot.rules.blueprints.DOCUMENT_CONTEXTS).
CONTEXTS: Mapping[Kind, type] = {
    Kind.LOAD: LoadContext,
    Kind.SPEC: SpecContext,
    Kind.DIFF: DiffContext,
    Kind.CROSS: CrossContext,
}
# A rule's check reads the context of its kind (typed in each rule's signature).
Check = Callable[[Any], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    """A rule's code, name, severities and documentation, and its check.

    A rule without a check is raised by the evaluator itself (``engine``): it has a
    code, a severity the policy can change and documentation like every rule, but no
    body, since only the evaluator sees what it reports (an expired waiver, a crash).
    """

    code: str
    name: str
    kind: Kind
    check: Check | None
    severity: Mapping[Audience, Severity]
    doc: str
    summary: str
    options: Mapping[str, Any]
    guideline: str = ""
    profiles: frozenset[str] = frozenset(PROFILES)  # the profiles that run it

    def default_severity(self, audience: Audience | None) -> Severity:
        return self.severity[audience or Audience.EXTERNAL]

    @property
    def family(self) -> str:
        return self.code[:3]

    @property
    def engine(self) -> bool:
        """Raised by the evaluator, never run."""
        return self.check is None

    def run(self, ctx: Context) -> Iterator[Hit]:
        if self.check is None:
            raise TypeError(f"rule {self.code} is raised by the evaluator and has no check")
        yield from self.check(ctx)


def make_rule(
    code: str,
    name: str,
    *,
    kind: Kind | str,
    severity: Severity,
    doc: str,
    check: Check | None = None,
    internal: Severity | None = None,
    admin: Severity | None = None,
    options: Mapping[str, Any] | None = None,
    guideline: str = "",
    profiles: Iterable[str] = PROFILES,
) -> Rule:
    """A :class:`Rule`, its code, name and documentation checked.

    ``internal`` defaults to one step milder than ``severity``, ``admin`` to
    ``severity``.
    """
    if not CODE_RE.match(code):
        raise ValueError(f"rule code {code!r} must look like ABC123")
    if not NAME_RE.match(name):
        raise ValueError(f"rule name {name!r} must be kebab-case")
    doc = inspect.cleandoc(doc or "")
    if not doc:
        raise ValueError(f"rule {code} has no docstring")
    profile_set = frozenset(profiles)
    if not profile_set or not profile_set <= set(PROFILES):
        raise ValueError(f"rule {code}: profiles must be some of {', '.join(PROFILES)}")
    return Rule(
        code=code,
        name=name,
        kind=Kind(kind),
        check=check,
        severity={
            Audience.EXTERNAL: severity,
            Audience.EXTERNAL_ADMIN: admin or severity,
            Audience.INTERNAL: internal or severity.lowered(),
        },
        doc=doc,
        summary=doc.splitlines()[0],
        options=dict(options or {}),
        guideline=guideline,
        profiles=profile_set,
    )


def rule(
    code: str,
    name: str,
    *,
    kind: Kind | str,
    severity: Severity,
    internal: Severity | None = None,
    admin: Severity | None = None,
    options: Mapping[str, Any] | None = None,
    guideline: str = "",
    profiles: Iterable[str] = PROFILES,
) -> Callable[[Check], Rule]:
    """Make the decorated function the check of a rule; its docstring is the rule's doc."""

    def make(func: Check) -> Rule:
        return make_rule(
            code,
            name,
            kind=kind,
            severity=severity,
            doc=func.__doc__ or "",
            check=func,
            internal=internal,
            admin=admin,
            options=options,
            guideline=guideline,
            profiles=profiles,
        )

    return make


@dataclass(frozen=True)
class Catalog:
    """A set of rules by code, in code order."""

    rules: tuple[Rule, ...]
    by_code: Mapping[str, Rule] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_code: dict[str, Rule] = {}
        for r in self.rules:
            if r.code in by_code and by_code[r.code] is not r:
                raise ValueError(f"rule code {r.code} defined twice")
            by_code[r.code] = r
        object.__setattr__(self, "rules", tuple(sorted(by_code.values(), key=lambda r: r.code)))
        object.__setattr__(self, "by_code", by_code)

    @classmethod
    def of_modules(cls, *modules: ModuleType) -> Catalog:
        """Every :class:`Rule` defined at the top level of ``modules``."""
        return cls(tuple(v for m in modules for v in vars(m).values() if isinstance(v, Rule)))

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def __contains__(self, code: object) -> bool:
        return code in self.by_code

    def get(self, code: str) -> Rule | None:
        """The rule of ``code`` (case-insensitive), or None."""
        return self.by_code.get(code.upper())

    def with_rules(self, *extra: Rule) -> Catalog:
        """This catalogue and ``extra`` rules (a deployment's or a test's own)."""
        return Catalog((*self.rules, *extra))
