"""CON001-CON004, CON045: field and parameter names (API-SIG naming guideline, NAM-04 to NAM-06)."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Iterator

from govbot.findings import Severity
from govbot.rules.consistency.index import (
    Field,
    Rank,
    SchemaInfo,
    Sink,
    only_type,
    option,
    prepare,
    snake,
    words,
)
from govbot.rules.consistency.language import negative_boolean, standard_name
from govbot.rules.registry import API_SIG_ONLY, GENERIC, Hit, Kind, SpecContext, rule

# Query parameters whose names the guidelines themselves prescribe (tags guideline,
# TAG-04: "tags", "tags-any", "not-tags", "not-tags-any").
GUIDELINE_PARAMETERS = ("tags", "tags-any", "not-tags", "not-tags-any")

SNAKE_CASE = r"^[a-z][a-z0-9_]*$"


def _local(name: str) -> str:
    """The name a field is judged by: without an extension namespace (nova's
    ``OS-EXT-STS:task_state`` is the field ``task_state`` of the ``OS-EXT-STS`` extension)."""
    return name.rsplit(":", 1)[-1] if ":" in name else name


def _dotted_ok(name: str, pattern: re.Pattern[str]) -> bool:
    """A dotted filter names a path of fields (``scope.project.id``): each part is judged."""
    return "." in name and all(part and pattern.match(part) for part in name.split("."))


def _rename(what: str, name: str, pattern: re.Pattern[str]) -> str:
    better = snake(name)
    if better != name and pattern.match(better):
        return f"{what} `{name}` is not snake_case: rename it to `{better}`."
    return f"{what} `{name}` is not snake_case: give it a snake_case name (`^[a-z][a-z0-9_]*$`)."


@rule(
    "CON001",
    "field-snake-case",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"pattern": SNAKE_CASE, "allow": []},
    guideline="NAM-04",
    profiles=API_SIG_ONLY,
)
def field_snake_case(ctx: SpecContext) -> Iterable[Hit]:
    """Request and response body fields are named in snake_case.

    What it checks:
        Every property name of every request and response schema, nested ones included,
        matches the ``pattern`` option (default ``^[a-z][a-z0-9_]*$``). Names listed in
        ``allow`` (exact names or regular expressions) are accepted. Names that are data
        are not field names and are not judged: map keys written out as properties
        (``"1"``, a uuid) and the JSON Schema keywords of an object that carries a schema
        (``maxLength`` in an image metadata definition). An extension-namespaced name
        is judged by its local part (``OS-EXT-STS:task_state`` by ``task_state``; the
        namespace is the extension's, not a field name). A name is reported once,
        however many schemas repeat it (the other places are listed); only a name the
        change adds is new.

    Why it matters:
        Clients of every OpenStack service read the same JSON; one naming convention
        means one way to write model classes, filters and sort keys.

    Example:
        ``{"imageRef": "..."}``, ``{"OS-EXT-STS:taskState": "..."}``.

    Fix:
        Rename the field to snake_case (``image_ref``); on existing surface, add the new
        name in a new microversion and deprecate the old one.

    References:
        API-SIG naming guideline (NAM-04):
        https://specs.openstack.org/openstack/api-sig/guidelines/naming.html
    """
    index, attr = prepare(ctx)
    pattern = re.compile(option(ctx, "pattern", SNAKE_CASE))
    allow = [re.compile(f"^(?:{a})$") for a in option(ctx, "allow", [])]
    sink = Sink(ctx)
    for sid, info in index.schemas.items():
        for f in info.fields:
            if f.data or pattern.match(_local(f.name)) or any(a.match(f.name) for a in allow):
                continue
            sink.at(f, _rename("Field", f.name, pattern), attr.schema(sid), name_only=True)
    return sink


@rule(
    "CON002",
    "query-parameter-snake-case",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"pattern": SNAKE_CASE, "allow": []},
    guideline="NAM-04",
    profiles=API_SIG_ONLY,
)
def query_parameter_snake_case(ctx: SpecContext) -> Iterable[Hit]:
    """Query parameters are named in snake_case, like the fields they filter.

    What it checks:
        Every query parameter name matches the ``pattern`` option (default
        ``^[a-z][a-z0-9_]*$``); names in ``allow`` (exact or regular expressions) pass,
        and so do the names the guidelines themselves prescribe: the tag filters
        ``tags``, ``tags-any``, ``not-tags`` and ``not-tags-any`` (tags guideline, TAG-04).
        A dotted filter names a path of fields and is judged part by part
        (``scope.project.id``).

    Why it matters:
        Filters are named after the body fields they match (FIL-01), and body fields are
        snake_case (NAM-04): ``?min_ram=`` filters ``min_ram``. A camelCase filter is a
        second vocabulary for the same field.

    Example:
        ``GET /flavors?minRam=512``.

    Fix:
        Name the parameter like the field it filters, in snake_case (``min_ram``).

    References:
        API-SIG naming (NAM-04) and filtering (FIL-01) guidelines:
        https://specs.openstack.org/openstack/api-sig/guidelines/pagination_filter_sort.html;
        the tag filters: https://specs.openstack.org/openstack/api-sig/guidelines/tags.html
    """
    index, attr = prepare(ctx)
    pattern = re.compile(option(ctx, "pattern", SNAKE_CASE))
    allow = [re.compile(f"^(?:{a})$") for a in option(ctx, "allow", [])]
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        for p in op.parameters:
            if (
                p.location != "query"
                or p.name in GUIDELINE_PARAMETERS
                or pattern.match(p.name)
                or _dotted_ok(p.name, pattern)
                or any(a.match(p.name) for a in allow)
            ):
                continue
            sink.at(
                p.node, _rename("Query parameter", p.name, pattern), attr.ops[i], name_only=True
            )
    return sink


def _boolean_fields(ctx: SpecContext) -> Iterator[tuple[Field, Rank]]:
    index, attr = prepare(ctx)
    for sid, info in index.schemas.items():
        for f in info.fields:
            if not f.data and only_type(f.schema, "boolean"):
                yield f, attr.schema(sid)


@rule(
    "CON003",
    "boolean-name-prefix",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    guideline="NAM-05",
    profiles=API_SIG_ONLY,
)
def boolean_name_prefix(ctx: SpecContext) -> Iterable[Hit]:
    """Boolean fields are adjectives (``enabled``), not ``is_x`` or ``enable_x``.

    What it checks:
        A boolean property (its only type ``boolean``; ``[boolean, "null"]`` counts, a
        type list such as ``[string, boolean]`` does not) whose name starts with ``is_``
        or with the verbs ``enable_``/``disable_`` (camelCase spellings included).

    Why it matters:
        A boolean field completes "this is ___" or "this has ___": ``enabled``,
        ``dhcp_enabled``. Prefixes and verbs make the same concept appear under several
        names across services.

    Example:
        ``is_public: true``, ``enable_dhcp: false``.

    Fix:
        Rename to the adjective form: ``public``, ``dhcp_enabled``.

    References:
        API-SIG naming guideline, booleans (NAM-05):
        https://specs.openstack.org/openstack/api-sig/guidelines/naming.html
    """
    sink = Sink(ctx)
    for f, rank in _boolean_fields(ctx):
        w = words(f.name)
        if len(w) < 2:
            continue
        if w[0] == "is":
            better = "_".join(w[1:])
        elif w[0] == "enable":
            better = "_".join(w[1:]) + "_enabled"
        elif w[0] == "disable":
            better = "_".join(w[1:]) + "_enabled (with the value inverted)"
        else:
            continue
        sink.at(
            f,
            f"Boolean field `{f.name}` uses a prefix or a verb: name it as an adjective, "
            f"`{better}`.",
            rank,
            name_only=True,
        )
    return sink


def _negative(name: str) -> str | None:
    return negative_boolean(words(name))


@rule(
    "CON004",
    "boolean-name-negative",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    guideline="NAM-06",
    profiles=API_SIG_ONLY,
)
def boolean_name_negative(ctx: SpecContext) -> Iterable[Hit]:
    """Boolean fields and boolean query parameters are not named negatively.

    What it checks:
        A boolean property, or a boolean query parameter, whose name is negative by
        meaning: it negates (``not``, ``no``, ``non``, ``never``, ``without``) or uses a
        negative adjective (``disabled``, ``hidden``, ``unavailable``, ``unset``). A
        capability or permission is positive whatever verb follows
        (``can_disable_second_factor``, ``allow_unset``), and the verb forms
        ``disable_x``/``enable_x`` are CON003's (one report per defect).

    Why it matters:
        ``disabled: false`` is a double negative that users misread; the guideline
        "strongly recommends" positive names, for parameters that change behaviour too
        (NAM-07).

    Example:
        ``disabled: true``, ``GET /servers?not_shared=true``.

    Fix:
        Use the positive name and invert the value: ``enabled``, ``shared``.

    References:
        API-SIG naming guideline, booleans (NAM-06, NAM-07):
        https://specs.openstack.org/openstack/api-sig/guidelines/naming.html
    """
    sink = Sink(ctx)
    for f, rank in _boolean_fields(ctx):
        word = _negative(f.name)
        if word:
            sink.at(
                f,
                f"Boolean field `{f.name}` has a negative name (`{word}`): use the positive "
                "form (for example `enabled` rather than `disabled`) and invert the value.",
                rank,
                name_only=True,
            )
    index, attr = prepare(ctx)
    for i, op in enumerate(index.ops):
        for p in op.parameters:
            word = _negative(p.name) if p.location == "query" else None
            if not word or p.schema is None:
                continue
            if not only_type(ctx.spec.deref(p.schema), "boolean"):
                continue
            sink.at(
                p.node,
                f"Boolean query parameter `{p.name}` has a negative name (`{word}`): use the "
                "positive form and invert the value.",
                attr.ops[i],
                name_only=True,
            )
    return sink


@functools.lru_cache(maxsize=65536)
def _style(name: str) -> str | None:
    """The casing style of a name; None for a name that fits several: one lower-case word,
    or one token without lower case (an acronym or a code: ``CO2``, ``MV93X``), whose
    capitals are its spelling, not a style."""
    if re.fullmatch(r"[a-z][a-z0-9]*|[A-Z][A-Z0-9]*", name):
        return None
    if re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)+", name):
        return "snake_case"
    if re.fullmatch(r"[a-z][a-z0-9]*([A-Z][a-z0-9]*)+", name):
        return "camelCase"
    if re.fullmatch(r"([A-Z][a-z0-9]*)+", name):
        return "PascalCase"
    if re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)+", name):
        return "kebab-case"
    return "other"


def _restyle(name: str, style: str) -> str:
    parts = words(name)
    if style == "snake_case":
        return "_".join(parts)
    if style == "kebab-case":
        return "-".join(parts)
    if style == "camelCase":
        return parts[0] + "".join(p.capitalize() for p in parts[1:])
    return "".join(p.capitalize() for p in parts)


_NAMED = tuple[Field, str, str | None]


def _named(info: SchemaInfo) -> tuple[_NAMED, ...]:
    """Each field of ``info`` that is not data: (field, local part of its name, its
    casing style, None when its name fits several or another standard fixes it, such
    as OAuth's `access_token`, which is then not the API's style). Kept with the
    schema's entry (``derived``), which the next version of the spec may keep too."""
    found: tuple[_NAMED, ...] | None = info.derived.get("CON045")
    if found is None:
        found = info.derived["CON045"] = tuple(
            (
                f,
                _local(f.name),
                None if standard_name(f.name) is not None else _style(_local(f.name)),
            )
            for f in info.fields
            if not f.data
        )
    return found


def _styles(named: Iterable[tuple[_NAMED, ...]]) -> dict[str, str]:
    """The casing style of each distinct styled field name (local part)."""
    styles: dict[str, str] = {}
    for fields in named:
        for _, local, style in fields:
            if style is not None:
                styles.setdefault(local, style)
    return styles


@rule(
    "CON045",
    "field-casing-consistent",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"majority": 0.8},
    guideline="NAM-consistency",
    profiles=(GENERIC,),
)
def field_casing_consistent(ctx: SpecContext) -> Iterable[Hit]:
    """Body fields of one API are named in one casing style.

    What it checks:
        The casing style of every body field name of the spec (snake_case, camelCase,
        PascalCase, kebab-case; a single lower-case word fits any, and so does a single
        token without lower case, an acronym or code such as ``CO2``). When one style
        names at least the ``majority`` share (default 0.8) of the distinct styled
        names, each name in another style is reported, with its respelling. Names that
        are data (map keys, JSON Schema keywords) and extension namespaces are left
        out, as in CON001, and so are names another standard fixes: the protocol
        parameters of OAuth 1.0 (RFC 5849: ``oauth_nonce``), the form fields of 3-D
        Secure 1.0 (``PaReq``, ``PaRes``, ``TermUrl``), the registered
        multi-word names of OAuth 2.0 and its extensions (RFC 6749, 7009, 7517, 7591,
        7636, 8414, 8628, 8693) and OpenID Connect (Core, Discovery), such as
        ``access_token`` or ``jwks_uri`` in a camelCase API, and HTTP field names
        (RFC 9110: ``content-type`` in a link object). The generic profile's counterpart of CON001: which style is
        a community's choice (the API-SIG and Zalando say snake_case, Google and
        Microsoft camelCase); one style per API is what they all agree on.

    Why it matters:
        Clients map JSON onto model classes with one naming strategy; an API that
        mixes ``created_at`` and ``updatedAt`` needs per-field exceptions in every SDK.

    Example:
        ``{"created_at": ..., "owner_id": ..., "updatedAt": ...}``.

    Fix:
        Rename the field to the API's style (``updated_at``); on existing surface, add
        the new name and deprecate the old one.

    References:
        Google AIP-140 (field names), Zalando RESTful API guidelines (JSON property
        names), API-SIG naming guideline (NAM-04):
        https://specs.openstack.org/openstack/api-sig/guidelines/naming.html
    """
    index, attr = prepare(ctx)
    share = float(option(ctx, "majority", 0.8))
    named = {sid: _named(info) for sid, info in index.schemas.items()}
    styles = _styles(named.values())
    sink = Sink(ctx)
    counts = Counter(s for s in styles.values() if s != "other")
    if not counts:
        return sink
    major, n = counts.most_common(1)[0]
    total = sum(counts.values())
    if n == total or n / total < share:
        return sink  # one style already, or no clear house style to ask for
    for sid, fields in named.items():
        for f, local, _ in fields:
            style = styles.get(local)
            if style is None or style in (major, "other"):
                continue
            sink.at(
                f,
                f"Field `{f.name}` is {style}, but this API names its fields in {major} "
                f"({n} of {total} names): rename it to `{_restyle(local, major)}`.",
                attr.schema(sid),
                name_only=True,
            )
    return sink
