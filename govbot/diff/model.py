"""The values of a structural diff: operations, parameters, bodies, headers and fields.

Every change keeps the nodes of both sides, so that a rule can point into the head
spec, or into the base spec for something removed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from govbot.diff.keywords import UNSTABLE, stability
from govbot.surface import Body, Node, Operation, Parameter

Kind = Literal["added", "removed", "changed"]


@dataclass(frozen=True, slots=True)
class Change:
    """One attribute whose value differs between the sides; ``None`` stands for absent."""

    attr: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class FieldDiff:
    """A schema, or a field inside one, that was added, removed or changed.

    ``path`` is the dotted field path from the schema root ("" = the root itself,
    ``servers[].id``, ``metadata{}`` for ``additionalProperties``). ``base`` / ``head``
    are the field's resolved schema on each side (None on the side it is missing from);
    ``*_required`` say whether the enclosing object lists it as required.
    """

    path: str
    kind: Kind
    base: Node | None
    head: Node | None
    base_required: bool = False
    head_required: bool = False
    changes: tuple[Change, ...] = ()
    enum_added: tuple[Any, ...] = ()
    enum_removed: tuple[Any, ...] = ()

    def change(self, attr: str) -> Change | None:
        return next((c for c in self.changes if c.attr == attr), None)

    @property
    def node(self) -> Node:
        """The head node when the field still exists, else the base node."""
        node = self.head or self.base
        assert node is not None
        return node


@dataclass(frozen=True, slots=True)
class SchemaDiff:
    """The schema of one media type of a request body or response."""

    media_type: str
    base: Node | None
    head: Node | None
    fields: tuple[FieldDiff, ...]


@dataclass(frozen=True, slots=True)
class ParameterDiff:
    name: str
    location: str  # the head's location, else the base's (a move shows as Change("in", ...))
    kind: Kind
    base: Parameter | None
    head: Parameter | None
    changes: tuple[Change, ...] = ()  # required, deprecated, x-sunset, in, style, ...
    fields: tuple[FieldDiff, ...] = ()  # its schema; path "" is the schema itself

    def change(self, attr: str) -> Change | None:
        return next((c for c in self.changes if c.attr == attr), None)

    @property
    def node(self) -> Node:
        param = self.head or self.base
        assert param is not None
        return param.node

    @property
    def root(self) -> FieldDiff | None:
        return next((f for f in self.fields if f.path == ""), None)


@dataclass(frozen=True, slots=True)
class HeaderDiff:
    """A response header (names compared case-insensitively)."""

    name: str
    kind: Kind
    base: Node | None
    head: Node | None
    changes: tuple[Change, ...] = ()
    fields: tuple[FieldDiff, ...] = ()

    @property
    def node(self) -> Node:
        node = self.head or self.base
        assert node is not None
        return node


@dataclass(frozen=True, slots=True)
class BodyDiff:
    """The request body (``status`` None) or one response (``status`` "200", "default")."""

    status: str | None
    kind: Kind
    base: Body | None
    head: Body | None
    changes: tuple[Change, ...] = ()  # "required" (request bodies)
    media_added: tuple[str, ...] = ()
    media_removed: tuple[str, ...] = ()
    schemas: tuple[SchemaDiff, ...] = ()
    headers: tuple[HeaderDiff, ...] = ()

    def change(self, attr: str) -> Change | None:
        return next((c for c in self.changes if c.attr == attr), None)

    @property
    def node(self) -> Node:
        body = self.head or self.base
        assert body is not None
        return body.node


@dataclass(frozen=True, slots=True)
class OperationDiff:
    """One operation added, removed, or changed (a path rename alone counts as changed).

    ``changes`` holds operation-level attributes: ``deprecated``, ``x-sunset``,
    ``x-openstack`` (its ``{min-ver, max-ver}``), ``operationId``, ``security``
    (normalised, see :func:`security_alternatives`) and ``path`` for a rename.
    """

    key: str
    kind: Kind
    base: Operation | None
    head: Operation | None
    changes: tuple[Change, ...] = ()
    parameters: tuple[ParameterDiff, ...] = ()
    request_body: BodyDiff | None = None
    responses: tuple[BodyDiff, ...] = ()

    def change(self, attr: str) -> Change | None:
        return next((c for c in self.changes if c.attr == attr), None)

    @property
    def op(self) -> Operation:
        """The head operation, or the base one for a removal."""
        op = self.head or self.base
        assert op is not None
        return op

    @property
    def label(self) -> str:
        return self.op.label

    @property
    def unstable(self) -> str:
        """The base's stability level when it is draft or alpha (changes to it are not held
        against the change), else "": ``x-stability-level`` of the operation or its path
        item (:func:`govbot.diff.keywords.stability`)."""
        op = self.base or self.head
        if op is None:
            return ""
        level = stability(op.value) or stability(op.path_node.value)
        return level if level in UNSTABLE else ""

    @property
    def renamed(self) -> bool:
        return self.base is not None and self.head is not None and self.base.path != self.head.path

    def fields(
        self,
    ) -> Iterator[tuple[Literal["request", "response"], BodyDiff, SchemaDiff, FieldDiff]]:
        """Every schema field change of the operation's request body and responses."""
        bodies = ([self.request_body] if self.request_body else []) + list(self.responses)
        for body in bodies:
            direction: Literal["request", "response"] = (
                "request" if body.status is None else "response"
            )
            for schema in body.schemas:
                for f in schema.fields:
                    yield direction, body, schema, f


@dataclass(frozen=True, slots=True)
class SpecDiff:
    base_file: str
    head_file: str
    added: tuple[OperationDiff, ...] = ()
    removed: tuple[OperationDiff, ...] = ()
    changed: tuple[OperationDiff, ...] = ()
    renamed_paths: tuple[tuple[str, str], ...] = ()  # (base path, head path), one per path
    info_version: Change | None = None
    unchanged: int = 0  # operations present on both sides with no structural change
    # OpenAPI 3.1 webhooks (added, removed, changed), keyed "POST <name>": the API calls
    # the subscriber, so their request bodies are what a client reads.
    webhooks: tuple[OperationDiff, ...] = ()

    @property
    def operations(self) -> tuple[OperationDiff, ...]:
        return self.added + self.removed + self.changed

    @property
    def touched(self) -> frozenset[str]:
        """Operation keys added or changed: the surface a change is judged strictly on."""
        return frozenset(d.key for d in self.added + self.changed)

    @property
    def empty(self) -> bool:
        return not (
            self.added or self.removed or self.changed or self.info_version or self.webhooks
        )


SecurityAlternative = tuple[tuple[str, tuple[str, ...]], ...]


def security_alternatives(security: Any) -> tuple[SecurityAlternative, ...]:
    """Effective security as sorted alternatives of (scheme, scopes); ``()`` = anonymous.

    No ``security`` at all, or an empty list, means anonymous access.
    """
    if not isinstance(security, list) or not security:
        return ((),)
    out = set()
    for requirement in security:
        if not isinstance(requirement, Mapping):
            continue
        out.add(
            tuple(
                sorted(
                    (
                        str(scheme),
                        tuple(sorted(str(s) for s in scopes)) if isinstance(scopes, list) else (),
                    )
                    for scheme, scopes in requirement.items()
                )
            )
        )
    return tuple(sorted(out)) or ((),)
