"""CON001-CON004: field and parameter names (API-SIG naming guideline, NAM-04 to NAM-06)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from govbot.findings import Severity
from govbot.rules.consistency.index import (
    Field,
    Rank,
    Sink,
    option,
    prepare,
    snake,
    words,
)
from govbot.rules.registry import Hit, Kind, SpecContext, rule
from govbot.surface import schema_type

SNAKE_CASE = r"^[a-z][a-z0-9_]*$"


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
)
def field_snake_case(ctx: SpecContext) -> Iterable[Hit]:
    """Request and response body fields are named in snake_case.

    What it checks:
        Every property name of every request and response schema, nested ones included,
        matches the ``pattern`` option (default ``^[a-z][a-z0-9_]*$``). Names listed in
        ``allow`` (exact names or regular expressions) are accepted.

    Why it matters:
        Clients of every OpenStack service read the same JSON; one naming convention
        means one way to write model classes, filters and sort keys.

    Example:
        ``{"imageRef": "..."}`` or ``{"OS-EXT-STS:task_state": "..."}``.

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
    sink = Sink()
    for sid, info in index.schemas.items():
        for f in info.fields:
            if pattern.match(f.name) or any(a.match(f.name) for a in allow):
                continue
            sink.at(f, _rename("Field", f.name, pattern), attr.schema(sid))
    return sink


@rule(
    "CON002",
    "query-parameter-snake-case",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"pattern": SNAKE_CASE, "allow": []},
    guideline="NAM-04",
)
def query_parameter_snake_case(ctx: SpecContext) -> Iterable[Hit]:
    """Query parameters are named in snake_case, like the fields they filter.

    What it checks:
        Every query parameter name matches the ``pattern`` option (default
        ``^[a-z][a-z0-9_]*$``); names in ``allow`` (exact or regular expressions) pass.

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
        https://specs.openstack.org/openstack/api-sig/guidelines/pagination_filter_sort.html
    """
    index, attr = prepare(ctx)
    pattern = re.compile(option(ctx, "pattern", SNAKE_CASE))
    allow = [re.compile(f"^(?:{a})$") for a in option(ctx, "allow", [])]
    sink = Sink()
    for i, op in enumerate(index.ops):
        for p in op.parameters:
            if (
                p.location != "query"
                or pattern.match(p.name)
                or any(a.match(p.name) for a in allow)
            ):
                continue
            sink.at(
                p.node,
                _rename("Query parameter", p.name, pattern),
                attr.ops[i],
            )
    return sink


def _boolean_fields(ctx: SpecContext) -> Iterator[tuple[Field, Rank]]:
    index, attr = prepare(ctx)
    for sid, info in index.schemas.items():
        for f in info.fields:
            if schema_type(f.schema) == "boolean":
                yield f, attr.schema(sid)


@rule(
    "CON003", "boolean-name-prefix", kind=Kind.SPEC, severity=Severity.WARNING, guideline="NAM-05"
)
def boolean_name_prefix(ctx: SpecContext) -> Iterable[Hit]:
    """Boolean fields are adjectives (``enabled``), not ``is_x`` or ``enable_x``.

    What it checks:
        A ``type: boolean`` property whose name starts with ``is_`` or with the verbs
        ``enable_``/``disable_`` (camelCase spellings included).

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
    sink = Sink()
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
        )
    return sink


_NEGATIVE_WORDS = frozenset({"not", "no", "non", "disabled", "disable", "never", "without"})


def _negative(name: str) -> bool:
    return any(w in _NEGATIVE_WORDS for w in words(name))


@rule(
    "CON004", "boolean-name-negative", kind=Kind.SPEC, severity=Severity.WARNING, guideline="NAM-06"
)
def boolean_name_negative(ctx: SpecContext) -> Iterable[Hit]:
    """Boolean fields and boolean query parameters are not named negatively.

    What it checks:
        A boolean property, or a boolean query parameter, whose name contains a negative
        word (``not``, ``no``, ``non``, ``never``, ``without``, ``disabled``, ``disable``).

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
    sink = Sink()
    for f, rank in _boolean_fields(ctx):
        if _negative(f.name):
            sink.at(
                f,
                f"Boolean field `{f.name}` has a negative name: use the positive form "
                "(for example `enabled` rather than `disabled`) and invert the value.",
                rank,
            )
    index, attr = prepare(ctx)
    for i, op in enumerate(index.ops):
        for p in op.parameters:
            if p.location != "query" or p.schema is None or not _negative(p.name):
                continue
            if schema_type(ctx.spec.deref(p.schema)) != "boolean":
                continue
            sink.at(
                p.node,
                f"Boolean query parameter `{p.name}` has a negative name: use the positive "
                "form and invert the value.",
                attr.ops[i],
            )
    return sink
