"""CON031-CON033, CON039-CON042, CON044: times, headers, microversions, tags, links and version discovery (API-SIG TIM, HDR, MV, TAG, LNK, VD)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from govbot.findings import Severity
from govbot.rules.consistency.index import (
    Field,
    Rank,
    SchemaId,
    SchemaInfo,
    Sink,
    SpecIndex,
    article,
    option,
    prepare,
    schema_kinds,
    snake,
    type_name,
)
from govbot.rules.consistency.times import EVENTS, offset, samples_not_time, says_time, shows_time
from govbot.rules.registry import API_SIG, API_SIG_ONLY, Hit, Kind, SpecContext, rule
from govbot.surface import (
    Node,
    is_mapping,
    join,
    properties,
)


def _header_names(body: Any) -> Iterator[tuple[str, Node]]:
    """(name as written, resolved header node) of a response's headers."""
    raw = body.node.value.get("headers")
    names = {str(k).lower(): str(k) for k in raw} if is_mapping(raw) else {}
    for lower, node in body.headers.items():
        yield names.get(lower, lower), node


TIME_FIELDS = r"(^|_)at$|^(created|updated|deleted)$"


@rule(
    "CON031",
    "datetime-iso8601",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"pattern": TIME_FIELDS},
    guideline="TIM-01",
)
def datetime_iso8601(ctx: SpecContext) -> Iterable[Hit]:
    """Timestamps are ISO 8601 strings: ``type: string, format: date-time``.

    What it checks:
        A field whose snake_case name matches the ``pattern`` option (default: ends in
        ``_at``, or is ``created``/``updated``/``deleted``) and whose schema is not a
        ``date-time`` string (a ``oneOf``/``anyOf`` with a ``date-time`` string branch
        passes). Fields without any declared type are not checked, nor booleans (nova's
        ``deleted`` flag), nor a number whose description does not speak of time (Jira's
        ``startAt`` is "the index of the first item to return", not an epoch). A bare
        participle (``created``, ``updated``, ``deleted``) names an event, which may be
        a flag or a count as well as a time: it is checked only when the spec shows a
        time (a date or time format, a description that speaks of time, a sample that
        is a date, a time of day or a Unix time).

    Why it matters:
        Epoch integers and free-form strings lose the time zone and force every client
        to guess the unit; ISO 8601 (preferably UTC) is the cross-service format.

    Example:
        ``created_at: {type: integer}``, ``updated_at: {type: string}``.

    Fix:
        Declare ``{type: string, format: date-time}`` and return values such as
        ``2024-05-13T10:00:00Z``.

    References:
        API-SIG time guideline (TIM-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/time.html
    """
    pattern = re.compile(option(ctx, "pattern", TIME_FIELDS))
    index, attr = prepare(ctx)
    spec = ctx.spec

    def untimed(info: SchemaInfo) -> list[tuple[Field, str]]:
        out = []
        for f in info.fields:
            if not pattern.search(snake(f.name)):
                continue
            kinds = schema_kinds(spec, f.schema, f.target[0] if f.target else f.file)
            if not kinds or ("string", "date-time") in kinds:
                continue
            if any(t == "boolean" for t, _ in kinds):
                continue  # a flag such as nova's `deleted`, not a timestamp
            if not any(t == "string" for t, _ in kinds) and not says_time(f.schema):
                continue  # `startAt: integer`, "the index of the first item": not a time
            if samples_not_time(f.schema) or offset(f.schema):
                continue  # `issuedAt: "New Delhi"`; `announcement_at` "in seconds": no time
            if snake(f.name) in EVENTS and not shows_time(f.schema):
                continue  # `deleted: string` in a delete's result: a flag or count
            out.append((f, _message(f.name, kinds)))
        return out

    sink = Sink(ctx)
    key = f"CON031 {pattern.pattern}"
    for sid, info in index.schemas.items():
        found = info.derived.get(key)
        if found is None:
            found = info.derived[key] = untimed(info)
        for f, message in found:
            sink.at(f, message, attr.schema(sid))
    return sink


def _message(name: str, kinds: list[tuple[str, Any]]) -> str:
    t, fmt = kinds[0]
    if t == "string" and not fmt and len(kinds) == 1:
        return (
            f"Timestamp field `{name}` is a string without a format: add "
            "`format: date-time` (ISO 8601, for example `2024-05-13T10:00:00Z`)."
        )
    if len(kinds) > 1:
        what = " or ".join(sorted({k for k, _ in kinds}))
    else:
        what = article(t) + (f" ({fmt})" if isinstance(fmt, str) and fmt else "")
    return (
        f"Timestamp field `{name}` is {what}: declare it as an ISO 8601 string "
        "(`type: string, format: date-time`)."
    )


ALLOWED_X_HEADERS = ["X-Auth-Token", "X-Subject-Token", "X-Service-Token", "X-OpenStack-Request-Id"]


def _headers(ctx: SpecContext) -> Iterator[tuple[str, Node, Rank, str]]:
    """(name, node, rank, where) of every header parameter and response header."""
    index, attr = prepare(ctx)
    for i, op in enumerate(index.ops):
        rank = attr.ops[i]
        for p in op.parameters:
            if p.location == "header":
                yield p.name, p.node, rank, "request header"
        for body in op.responses.values():
            for name, node in _header_names(body):
                yield name, node, rank, "response header"


@rule(
    "CON032",
    "header-no-x-prefix",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"allow": ALLOWED_X_HEADERS},
    guideline="HDR-01",
)
def header_no_x_prefix(ctx: SpecContext) -> Iterable[Hit]:
    """New headers do not use the ``X-`` prefix.

    What it checks:
        Request and response header names starting with ``X-``, except the
        community-wide ones in the ``allow`` option (default ``X-Auth-Token``,
        ``X-Subject-Token``, ``X-Service-Token``, ``X-OpenStack-Request-Id``), compared
        without case. Existing headers may stay (the finding is mild on existing surface);
        under the ``generic`` profile only a change is judged (with ``--base``), since RFC
        6648 asks nothing of headers already in use.

    Why it matters:
        RFC 6648 deprecates ``X-``: experimental headers become standard and then carry
        a misleading prefix forever.

    Example:
        ``X-Compute-Request-Id``.

    Fix:
        Name it ``OpenStack-<Service-Type>-<Name>`` (or reuse a generic header).

    References:
        API-SIG headers guideline (HDR-01), RFC 6648:
        https://specs.openstack.org/openstack/api-sig/guidelines/headers.html
    """
    allow = {a.lower() for a in option(ctx, "allow", ALLOWED_X_HEADERS)}
    sink = Sink(ctx)
    if ctx.profile != API_SIG and ctx.base is None:
        # RFC 6648 is about new headers and leaves existing ones alone: without a
        # change there is nothing new to judge.
        return sink
    example = (
        "for example `OpenStack-<Service-Type>-<Name>`"
        if ctx.profile == API_SIG
        else "for example `<Vendor>-<Name>` (RFC 6648)"
    )
    for name, node, rank, where in _headers(ctx):
        if name.lower().startswith("x-") and name.lower() not in allow:
            sink.at(
                node,
                f"The {where} `{name}` uses the `X-` prefix: name new headers without it, "
                f"{example}.",
                rank,
                name_only=True,
            )
    return sink


# fmt: off
PROJECT_NAMES = [
    "nova", "cinder", "glance", "keystone", "neutron", "swift", "heat", "ironic", "manila",
    "octavia", "designate", "barbican", "trove", "zaqar", "magnum", "senlin", "mistral",
    "aodh", "gnocchi", "masakari", "watcher", "cyborg", "zun", "blazar", "freezer", "sahara",
    "tacker", "vitrage", "ceilometer", "cloudkitty",
]


@rule(
    "CON033",
    "header-no-project-name",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"projects": PROJECT_NAMES},
    guideline="HDR-02",
    profiles=API_SIG_ONLY,
)
def header_no_project_name(ctx: SpecContext) -> Iterable[Hit]:
    """Header names do not contain a project name; one generic header per purpose.

    What it checks:
        Request and response header names containing, as a hyphen-separated word, a
        project code name from the ``projects`` option (nova, cinder, keystone, ...).

    Why it matters:
        Per-project headers multiply the vocabulary (``OpenStack-Nova-API-Version``,
        ``OpenStack-Cinder-API-Version``, ...); one header with the service *type* in its
        value works for every service, and service types outlive project names.

    Example:
        ``X-OpenStack-Nova-API-Version: 2.1``.

    Fix:
        Use the generic header with the service type in the value:
        ``OpenStack-API-Version: compute 2.1``.

    References:
        API-SIG headers guideline (HDR-02):
        https://specs.openstack.org/openstack/api-sig/guidelines/headers.html
    """
    projects = {p.lower() for p in option(ctx, "projects", PROJECT_NAMES)}
    sink = Sink(ctx)
    for name, node, rank, where in _headers(ctx):
        hit = next((w for w in name.lower().split("-") if w in projects), None)
        if hit:
            sink.at(node,
                f"The {where} `{name}` names the project `{hit}`: use one generic header with "
                "the service type in its value (for example `OpenStack-API-Version: compute 2.1`).",
                rank,
                name_only=True,
            )
    return sink


_MICROVERSION_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")


# Where an x-openstack mapping with a version window sits: (mapping, file, pointer of the
# mapping, operation index or None, schema id or None).
_Window = tuple[Mapping[str, Any], str, str, "int | None", "SchemaId | None"]


def _windows(index: SpecIndex) -> list[_Window]:
    cached = index.memo.get("windows")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    out: list[_Window] = []

    def visit(node: Node, op: int | None, sid: SchemaId | None) -> None:
        ext = node.value.get("x-openstack") if isinstance(node.value, Mapping) else None
        if isinstance(ext, Mapping) and ("min-ver" in ext or "max-ver" in ext):
            out.append((ext, node.file, join(node.pointer, "x-openstack"), op, sid))

    for i, op in enumerate(index.ops):
        visit(op.node, i, None)
        for p in op.parameters:
            visit(p.node, i, None)
        for body in op.responses.values():
            for _, header in _header_names(body):
                visit(header, i, None)
    for sid, info in index.schemas.items():
        visit(info.node, None, sid)
    index.memo["windows"] = out
    return out


def _microversions(ctx: SpecContext) -> Iterator[tuple[Mapping[str, Any], str, str, Rank]]:
    """(x-openstack mapping, file, pointer of the mapping, rank) everywhere it is used."""
    index, attr = prepare(ctx)
    for ext, file, pointer, op, sid in _windows(index):
        rank = attr.ops[op] if op is not None else attr.schema(sid)  # type: ignore[arg-type]
        yield ext, file, pointer, rank


def _version_ok(value: Any) -> bool:
    return isinstance(value, str) and bool(_MICROVERSION_RE.match(value))


def _version_tuple(value: str) -> tuple[int, int]:
    major, minor = value.split(".")
    return int(major), int(minor)


@rule("CON039", "microversion-format", kind=Kind.SPEC, severity=Severity.ERROR, guideline="MV-01", profiles=API_SIG_ONLY)
def microversion_format(ctx: SpecContext) -> Iterable[Hit]:
    """Microversions are ``X.Y`` strings: ``x-openstack`` ``min-ver``/``max-ver`` and info.version.

    What it checks:
        Every ``x-openstack`` ``min-ver``/``max-ver`` (on operations, parameters,
        response headers and schemas) is a string matching ``^([1-9]\\d*)\\.([1-9]\\d*|0)$``;
        in a microversioned spec, ``info.version`` too.

    Why it matters:
        A microversion is one monotonic counter, not semver. YAML reads an unquoted
        ``2.10`` as the number 2.1, silently changing the version.

    Example:
        ``x-openstack: {min-ver: 2.10}`` (a float), ``max-ver: '2.1.0'``.

    Fix:
        Quote the value and use ``X.Y``: ``min-ver: '2.10'``.

    References:
        API-SIG microversion specification (MV-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/microversion_specification.html
    """
    sink = Sink(ctx)
    microversioned = False
    for ext, file, pointer, rank in _microversions(ctx):
        microversioned = True
        for key in ("min-ver", "max-ver"):
            if key in ext and not _version_ok(ext[key]):
                value = ext[key]
                hint = (
                    " (quote it: YAML reads an unquoted version as a number)"
                    if isinstance(value, (int, float))
                    else ""
                )
                sink.add(
                    file,
                    join(pointer, key),
                    f"Microversion {key} `{value}` is not an `X.Y` string{hint}: write it as "
                    "`'2.10'`.",
                    rank,
                )
    data = ctx.spec.data or {}
    info = data.get("info")
    version = info.get("version") if isinstance(info, Mapping) else None
    if microversioned and version is not None and not _version_ok(version):
        _, attr = prepare(ctx)
        rank = attr.spec
        if ctx.touched is not None:
            base_info = (ctx.base.data or {}).get("info") if ctx.base is not None else None
            old = base_info.get("version") if isinstance(base_info, Mapping) else None
            rank = (1 if old != version else 0, rank[1])
        sink.add(
            ctx.spec.file,
            "/info/version",
            f"info.version `{version}` of this microversioned API is not `X.Y`: use the "
            "maximum microversion, for example `'2.96'`.",
            rank,
        )
    return sink


@rule("CON040", "microversion-range", kind=Kind.SPEC, severity=Severity.ERROR, guideline="MV-01", profiles=API_SIG_ONLY)
def microversion_range(ctx: SpecContext) -> Iterable[Hit]:
    """A microversion window is not empty: ``min-ver`` <= ``max-ver``.

    What it checks:
        An ``x-openstack`` mapping whose ``min-ver`` is greater than its ``max-ver``
        (compared as numbers: ``2.9`` < ``2.10``).

    Why it matters:
        An empty window means the element exists in no version; usually the two values
        were swapped or ``2.10`` was compared as text.

    Example:
        ``x-openstack: {min-ver: '2.35', max-ver: '2.3'}``.

    Fix:
        Set ``min-ver`` to the version that introduced the element and ``max-ver`` to
        the last version that has it.

    References:
        API-SIG microversion specification (MV-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/microversion_specification.html
    """
    sink = Sink(ctx)
    for ext, file, pointer, rank in _microversions(ctx):
        low, high = ext.get("min-ver"), ext.get("max-ver")
        if _version_ok(low) and _version_ok(high) and _version_tuple(low) > _version_tuple(high):
            sink.add(
                file,
                pointer,
                f"Microversion window {low}..{high} is empty: min-ver must not be greater "
                "than max-ver.",
                rank,
            )
    return sink


def _named_fields(ctx: SpecContext, name: str) -> Iterator[tuple[Field, Rank]]:
    index, attr = prepare(ctx)
    for sid, info in index.schemas.items():
        for f in info.fields:
            if f.name == name:
                yield f, attr.schema(sid)


@rule("CON041", "tags-list-of-strings", kind=Kind.SPEC, severity=Severity.WARNING, guideline="TAG-01", profiles=API_SIG_ONLY)
def tags_list_of_strings(ctx: SpecContext) -> Iterable[Hit]:
    """A resource's ``tags`` field is a list of strings.

    What it checks:
        A field named ``tags`` whose schema is not ``type: array`` of ``type: string``
        items (fields without a declared type are not checked).

    Why it matters:
        Tags are the same simple concept in every service, filtered with the same
        ``tags``/``tags-any``/``not-tags`` parameters; objects or maps need per-service
        client code.

    Example:
        ``tags: {type: object, additionalProperties: {type: string}}``.

    Fix:
        Declare ``tags: {type: array, items: {type: string}}``; key/value pairs belong in
        ``metadata``.

    References:
        API-SIG tags guideline (TAG-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/tags.html
    """
    spec = ctx.spec
    sink = Sink(ctx)
    for f, rank in _named_fields(ctx, "tags"):
        t = type_name(f.schema)
        if t is None:
            continue
        item_type = None
        if t == "array":
            items = f.schema.get("items")
            if isinstance(items, Mapping):
                item_type = type_name(
                    spec.deref(Node(items, f.target[0] if f.target else f.file, ""))
                )
            if item_type in ("string", None):
                continue
        what = f"an array of {item_type}" if t == "array" else article(t)
        sink.at(f,
            f"Field `tags` is {what}: declare it as a list of strings "
            "(`type: array, items: {type: string}`); key/value pairs belong in `metadata`.",
            rank,
        )
    return sink


@rule("CON042", "links-rel-href", kind=Kind.SPEC, severity=Severity.WARNING, guideline="LNK-01", profiles=API_SIG_ONLY)
def links_rel_href(ctx: SpecContext) -> Iterable[Hit]:
    """A ``links`` field is an array of ``{rel, href}`` objects.

    What it checks:
        A field named ``links`` that is not an array, or whose item objects declare
        properties but not both ``rel`` and ``href``.

    Why it matters:
        Clients follow pagination (``next``) and ``self``/``bookmark`` links the same way
        in every service only if links have one shape.

    Example:
        ``links: {type: object, properties: {next: {type: string}}}``.

    Fix:
        Declare ``links: {type: array, items: {type: object, required: [rel, href],
        properties: {rel: {type: string}, href: {type: string, format: uri}}}}``.

    References:
        API-SIG links guideline (LNK-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/links.html
    """
    spec = ctx.spec
    sink = Sink(ctx)
    for f, rank in _named_fields(ctx, "links"):
        t = type_name(f.schema)
        if t is None:
            continue
        problem = None
        if t != "array":
            problem = f"is {article(t)}"
        else:
            items = f.schema.get("items")
            if isinstance(items, Mapping):
                props = properties(spec, Node(items, f.target[0] if f.target else f.file, ""))
                if props and not {"rel", "href"} <= set(props):
                    missing = sorted({"rel", "href"} - set(props))
                    problem = "has items without " + " and ".join(f"`{m}`" for m in missing)
        if problem:
            sink.at(f,
                f"Field `links` {problem}: declare it as an array of `{{rel, href}}` objects.",
                rank,
            )
    return sink


_DISCOVERY_RE = re.compile(r"^/(v\d+(\.\d+)?/?)?$")


@rule(
    "CON044",
    "version-discovery-public",
    kind=Kind.SPEC,
    severity=Severity.ERROR,
    guideline="VD-01",
    profiles=API_SIG_ONLY,
)
def version_discovery_public(ctx: SpecContext) -> Iterable[Hit]:
    """Version discovery documents need no authentication.

    What it checks:
        ``GET /`` and ``GET /v<N>[.<M>]/`` whose effective ``security`` requires
        credentials (a non-empty list without an empty ``{}`` alternative).

    Why it matters:
        Clients discover which versions and microversions a cloud supports before they
        authenticate; a protected discovery document breaks every SDK's negotiation.

    Example:
        Global ``security: [{keystone: []}]`` that also applies to ``GET /``.

    Fix:
        Set ``security: []`` on the discovery operations.

    References:
        API-SIG discoverability guideline (VD-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/discoverability.html
    """
    index, attr = prepare(ctx)
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        if op.method != "get" or not _DISCOVERY_RE.match(op.path):
            continue
        sec = op.security
        if isinstance(sec, list) and sec and not any(isinstance(s, Mapping) and not s for s in sec):
            sink.at(op.node,
                f"{op.label} is a version discovery document but requires authentication: "
                "set `security: []` on it.",
                attr.ops[i],
                keys=("security",),
            )
    return sink
