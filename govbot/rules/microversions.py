"""MVR rules: a change to a microversioned API brings its whole microversion.

OpenStack projects that keep a microversion ledger (nova, cinder, manila, placement)
add one microversion per API change: the maximum goes up by one in the ledger, the
version history gets an entry, the new elements are documented from that version on
(``min_version``), and a release note announces it. Each rule asks for one piece, at the
line where it belongs. The ledger is read with the API (:mod:`govbot.apiref.ledger`); a
project without one (neutron, glance) is not asked anything.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from govbot.apiref.facts import Where
from govbot.apiref.ledger import Ledger, LedgerEntry
from govbot.apiref.operations import version_key
from govbot.apiref.project import facts_of
from govbot.diff import FieldDiff, OperationDiff
from govbot.findings import Audience, Scope, Severity, Side
from govbot.rules.registry import DiffContext, Hit, Kind, operation_ref, rule
from govbot.surface import Node, get_pointer, split

# Attributes whose change is documentation, or the version annotation itself.
_NOT_API = frozenset({"deprecated", "x-sunset", "x-openstack", "description", "summary", "example"})


@dataclass(frozen=True)
class _Versions:
    """The ledgers of both sides and the microversion the change should add."""

    base: Ledger
    head: Ledger
    old: tuple[int, int]
    new: tuple[int, int]

    @property
    def raised(self) -> bool:
        return self.new > self.old

    @property
    def target(self) -> str:
        """The microversion new surface belongs to: the new maximum, or the next one."""
        major, minor = self.new if self.raised else (self.old[0], self.old[1] + 1)
        return f"{major}.{minor}"

    def introduced(self, version: str) -> bool:
        """Whether the change introduces ``version`` (the new maximum, for one change)."""
        key = version_key(version)
        if key is None:
            return False
        return self.old < key <= self.new if self.raised else key == version_key(self.target)

    @property
    def next(self) -> str:
        return f"{self.old[0]}.{self.old[1] + 1}"

    def max_line(self) -> Where | None:
        return self.head.max_where or self.base.max_where


def _versions(ctx: DiffContext) -> _Versions | None:
    """Both ledgers with a maximum, or None: a project without a ledger is not asked."""
    base, head = facts_of(ctx.base), facts_of(ctx.head)
    if base is None or head is None or base.ledger is None or head.ledger is None:
        return None
    old = version_key(base.ledger.max_version or "")
    new = version_key(head.ledger.max_version or "")
    if old is None or new is None:
        return None
    return _Versions(base.ledger, head.ledger, old, new)


def _external(ctx: DiffContext, d: OperationDiff) -> bool:
    audiences = ctx.head_audience if d.head is not None else ctx.base_audience
    return audiences.of(d.key).is_external


def _field_change(f: FieldDiff) -> bool:
    if f.kind != "changed" or f.enum_added or f.enum_removed:
        return True
    return any(c.attr not in _NOT_API for c in f.changes)


def _released(window: object, released: tuple[int, int]) -> bool:
    """Whether an added element says it exists since a released microversion: the
    change documents existing surface (an api-ref catching up), it does not add any."""
    key = version_key(str(_min(window) or ""))
    return key is not None and key <= released


def api_change(d: OperationDiff, released: tuple[int, int]) -> str | None:
    """What the change did to ``d`` that needs a microversion, in words (None: nothing).

    ``released`` is the base's maximum microversion."""
    if d.kind == "added":
        return None if _released(d.op.x_openstack, released) else f"{d.label} is a new operation"
    if d.kind == "removed":
        return None  # removals are judged by the deprecation rules
    c = d.change("x-openstack")
    if c is not None and (c.new or {}).get("max-ver") != (c.old or {}).get("max-ver"):
        return f"{d.label} is capped at a microversion"
    for p in d.parameters:
        if (
            p.kind == "added"
            and p.head
            and _released(p.head.node.value.get("x-openstack"), released)
        ):
            continue
        if p.kind != "changed" or any(c.attr not in _NOT_API for c in p.changes):
            return f"{d.label} {p.kind} its {p.location} parameter `{p.name}`"
    for direction, body, _schema, f in d.fields():
        if f.kind == "added" and f.head and _released(f.head.value.get("x-openstack"), released):
            continue
        if f.path and _field_change(f):
            where = "request" if direction == "request" else f"{body.status} response"
            return f"{d.label} {f.kind} the {where} field `{f.path}`"
    for body in ([d.request_body] if d.request_body else []) + list(d.responses):
        if body.kind != "changed":
            what = "the request body" if body.status is None else f"the status code {body.status}"
            return f"{d.label} {body.kind} {what}"
    return None


def _changes(ctx: DiffContext, versions: _Versions) -> list[tuple[OperationDiff, str]]:
    out = []
    for d in ctx.diff.added + ctx.diff.changed:
        what = api_change(d, versions.old)
        if what is not None and _external(ctx, d):
            out.append((d, what))
    return out


def _summary(changes: list[tuple[OperationDiff, str]]) -> str:
    first = changes[0][1]
    more = len(changes) - 1
    return first + (
        f" (and {more} other operation{'s' if more > 1 else ''} changed)" if more else ""
    )


def _at(where: Where, message: str, ctx: DiffContext, d: OperationDiff | None = None) -> Hit:
    return Hit(
        message,
        "",
        where.file,
        Side.HEAD,
        Audience.EXTERNAL,
        Scope.CHANGED,
        line=where.line,
        operation=operation_ref(d.op) if d is not None else None,
    )


@rule(
    "MVR001",
    "microversion-not-raised",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="MV-02",
)
def microversion_not_raised(ctx: DiffContext) -> Iterator[Hit]:
    """An API change does not raise the maximum microversion.

    What it checks:
        In a project with a microversion ledger, a change that adds an operation, adds,
        removes or changes a parameter, a body field or a status code of an external
        operation, or caps an operation at a microversion, must raise the maximum
        microversion of the ledger (``_MAX_API_VERSION`` in ``api_version_request.py``,
        placement's ``VERSIONS``), by one for one change (each version it adds needs its
        history entry: MVR002). Reported at the line of the maximum.

    Why it matters:
        Clients discover what a cloud supports by its maximum microversion and ask for
        a version to get a fixed API; a change without a new one alters the API behind
        a version clients already rely on.

    Example:
        ``servers.inc`` gains a request parameter ``hostname`` while
        ``_MAX_API_VERSION`` stays ``"2.93"``.

    Fix:
        Raise the maximum to the next microversion and gate the change with it.

    References:
        API-SIG microversion specification (MV-02); nova's "API Microversions"
        contributor guide.
    """
    versions = _versions(ctx)
    if versions is None:
        return
    changes = _changes(ctx, versions)
    where = versions.max_line()
    if not changes or where is None:
        return
    head_max = versions.head.max_version
    if not versions.raised:
        yield _at(
            where,
            f"{_summary(changes)}, but the maximum microversion stays {head_max}; raise it to "
            f"{versions.next} and gate the change with that microversion",
            ctx,
            changes[0][0],
        )


@rule(
    "MVR002",
    "microversion-history-missing",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="MV-02",
)
def microversion_history_missing(ctx: DiffContext) -> Iterator[Hit]:
    """A new microversion has no entry in the project's version history.

    What it checks:
        For each microversion a change adds, every history the project keeps must have
        an entry: the ``REST_API_VERSION_HISTORY`` text of ``api_version_request.py``
        (``* 2.94 - ...``) and ``rest_api_version_history.rst`` (a section titled with
        the version), when the project kept that history before the change. Reported
        after the last entry of the history that lacks it.

    Why it matters:
        The history is how users and SDK authors learn what each microversion changed;
        a version without an entry is an undocumented API change.

    Example:
        ``_MAX_API_VERSION`` goes to ``"2.94"`` and ``rest_api_version_history.rst``
        ends at ``2.93``.

    Fix:
        Add an entry for the new microversion describing what changed.

    References:
        API-SIG microversion specification (MV-02, "document each microversion");
        nova's ``rest_api_version_history.rst``.
    """
    versions = _versions(ctx)
    if versions is None or not versions.raised or versions.new[0] != versions.old[0]:
        return
    wanted = [f"{versions.new[0]}.{m}" for m in range(versions.old[1] + 1, versions.new[1] + 1)]
    histories = (
        (versions.base.history_entries, versions.head.history_entries),
        (versions.base.code_entries, versions.head.code_entries),
    )
    for before, after in histories:
        if not before or not after:
            continue
        have = {e.version for e in after}
        last = _last(after)
        for version in wanted:
            if version not in have:
                yield _at(
                    last.where,
                    f"the maximum microversion is now {versions.head.max_version}, but "
                    f"{last.where.file} has no entry for {version}; add one after "
                    f"{last.version} saying what {version} changes",
                    ctx,
                )


def _last(entries: tuple[LedgerEntry, ...]) -> LedgerEntry:
    return max(entries, key=lambda e: version_key(e.version) or (0, 0))


@rule(
    "MVR003",
    "new-surface-not-at-new-microversion",
    kind=Kind.DIFF,
    severity=Severity.ERROR,
    guideline="MV-02",
)
def new_surface_not_at_new_microversion(ctx: DiffContext) -> Iterator[Hit]:
    """A new operation, parameter or field is not documented from the new microversion on.

    What it checks:
        In a project with a microversion ledger, every operation, request parameter and
        request or response body field a change adds to an external operation must say
        it appears at the microversion the change introduces: ``min_version`` equal to
        the new maximum (one of the new ones, when two releases are compared; the next
        microversion when the change does not raise the maximum). An element a change
        that raises nothing documents at an already released microversion is the
        api-ref catching up with the code: it is not asked (nor by MVR001).
        Reported at the element's ``min_version`` line in ``parameters.yaml`` (its entry
        when it has none), or at the new operation's ``rest_method`` line. The fields of
        a new operation are covered by the operation's own version; an entry the
        parameters file documented before, now listed for one more operation, documents
        surface that exists since the version it names, and is not asked again.

    Why it matters:
        Clients asking for an older microversion must keep getting the API they were
        written for; the reference must tell them from which version on a field exists.

    Example:
        A new ``hostname`` entry in ``parameters.yaml`` without ``min_version: 2.94``
        while the change raises the maximum to ``2.94``.

    Fix:
        Add ``min_version: <the new microversion>`` to the entry (a new entry, such as
        ``hostname_2_94``, when the name is documented for older versions too).

    References:
        API-SIG microversion specification (MV-02); os-api-ref ``min_version``.
    """
    versions = _versions(ctx)
    if versions is None:
        return
    for d in ctx.diff.added + ctx.diff.changed:
        if d.head is None or not _external(ctx, d):
            continue
        if d.kind == "added":
            node = _key(d.head.node, "x-openstack")
            yield from _gate(ctx, d, node, d.head.x_openstack.get("min-ver"), versions, d.label)
            continue
        for p in d.parameters:
            if p.kind == "added" and p.head is not None and p.location != "path":
                if _documented_before(ctx, p.head.node):
                    continue
                what = f"{p.location} parameter `{p.name}` of {d.label}"
                window = p.head.node.value.get("x-openstack")
                node = _key(p.head.node, "x-openstack")
                yield from _gate(ctx, d, node, _min(window), versions, what)
        for direction, body, _schema, f in d.fields():
            if f.kind != "added" or not f.path or f.head is None or "." in f.path:
                continue
            node = _entry(ctx, f.head)
            if _documented_before(ctx, node):
                continue
            where = "request" if direction == "request" else f"{body.status} response"
            what = f"{where} field `{f.path}` of {d.label}"
            window = f.head.value.get("x-openstack")
            yield from _gate(ctx, d, node, _min(window), versions, what)


def _documented_before(ctx: DiffContext, node: Node) -> bool:
    """Whether the element's entry (its key in the parameters file) was documented in the
    base already: listing an existing entry for one more operation documents surface
    that exists (the entry says since when), it does not add any."""
    tokens = split(node.pointer)
    base = ctx.base.documents.get(node.file)
    return bool(tokens) and isinstance(base, Mapping) and tokens[0] in base


def _min(window: object) -> object:
    return window.get("min-ver") if isinstance(window, dict) else None


def _key(node: Node, key: str) -> Node:
    child = node.get(key)
    return child if child is not None else node


def _entry(ctx: DiffContext, schema: Node) -> Node:
    """The parameter entry a field's schema belongs to (its ``min_version`` line)."""
    if not schema.pointer.endswith("/schema"):
        return _key(schema, "x-openstack")
    pointer = schema.pointer[: -len("/schema")]
    try:
        value = get_pointer(ctx.head.documents[schema.file], pointer)
    except (KeyError, IndexError, TypeError, ValueError):
        return schema
    return _key(Node(value, schema.file, pointer), "x-openstack")


def _gate(
    ctx: DiffContext, d: OperationDiff, node: Node, min_ver: object, versions: _Versions, what: str
) -> Iterator[Hit]:
    if isinstance(min_ver, str) and versions.introduced(min_ver):
        return
    known = version_key(min_ver) if isinstance(min_ver, str) else None
    if known is not None and known <= versions.old and not versions.raised:
        return  # documents surface released before: not a change of the API
    target = versions.target
    if isinstance(min_ver, str) and version_key(min_ver) is not None:
        message = (
            f"{what} is new in this change but has `min_version: {min_ver}`; the change "
            f"introduces microversion {target}: set `min_version: {target}`"
        )
    else:
        message = (
            f"{what} is new but has no `min_version`, so clients of older microversions "
            f"would expect it; add `min_version: {target}`"
        )
    yield ctx.on_head(node, message, d)


@rule(
    "MVR004",
    "microversion-release-note-missing",
    kind=Kind.DIFF,
    severity=Severity.WARNING,
    guideline="MV-02",
)
def microversion_release_note_missing(ctx: DiffContext) -> Iterator[Hit]:
    """A change adds a microversion without adding a release note.

    What it checks:
        When a change raises the maximum microversion of a project that keeps release
        notes (``releasenotes/notes/*.yaml``, reno), the change must add a note.
        Reported at the line of the new maximum.

    Why it matters:
        Operators and users read the release notes to learn what a release's API
        offers; a microversion missing from them is found only by reading the code.

    Example:
        ``_MAX_API_VERSION`` goes from ``"2.93"`` to ``"2.94"`` and no file is added
        under ``releasenotes/notes/``.

    Fix:
        ``reno new microversion-2-94`` and describe the new microversion in its
        ``features`` section.

    References:
        OpenStack project team guide, release notes (reno); nova's contributor guide
        on API changes.
    """
    versions = _versions(ctx)
    if versions is None or not versions.raised or not versions.base.notes:
        return
    where = versions.max_line()
    if where is None or versions.head.notes - versions.base.notes:
        return
    yield _at(
        where,
        f"the maximum microversion goes to {versions.head.max_version} but no release note "
        "is added; add one under releasenotes/notes/ (reno new ...) announcing it",
        ctx,
    )
