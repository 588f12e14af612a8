"""CON026-CON030: pagination, sorting and counts (API-SIG PAG, SRT and CNT)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from govbot.findings import Severity
from govbot.rules.consistency.index import (
    Rank,
    Sink,
    article,
    json_schemas,
    option,
    prepare,
    squash,
    success_statuses,
    type_name,
    types_of,
)
from govbot.rules.registry import API_SIG_ONLY, Hit, Kind, SpecContext, rule
from govbot.surface import (
    Node,
    Operation,
    join,
    properties,
)

# fmt: off
PAGE_PARAMETERS = [
    "page", "per_page", "page_size", "page_number", "offset", "cursor", "page_token",
    "start_index", "skip",
]


def _query_params(ctx: SpecContext) -> Iterator[tuple[int, Operation, Any]]:
    index, _ = prepare(ctx)
    for i, op in enumerate(index.ops):
        for p in op.parameters:
            if p.location == "query":
                yield i, op, p


@rule(
    "CON026",
    "pagination-limit-marker",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"discouraged": PAGE_PARAMETERS},
    guideline="PAG-01",
    profiles=API_SIG_ONLY,
)
def pagination_limit_marker(ctx: SpecContext) -> Iterable[Hit]:
    """Lists are paginated with ``limit`` and ``marker``.

    What it checks:
        A query parameter named like another paging scheme (the ``discouraged`` option:
        ``page``, ``per_page``, ``page_size``, ``page_number``, ``offset``, ``cursor``,
        ``page_token``, ``start_index``, ``skip``; compared without case or separators).

    Why it matters:
        One paging scheme across services means one client helper. Markers (the id of
        the last item seen) stay correct while items are added or removed; offsets and
        page numbers skip or repeat items.

    Example:
        ``GET /volumes?page=2&per_page=50``.

    Fix:
        Use ``limit`` (maximum number of items) and ``marker`` (id of the last item
        seen), and give ``next`` links.

    References:
        API-SIG pagination guideline (PAG-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/pagination_filter_sort.html
    """
    discouraged = {squash(n) for n in option(ctx, "discouraged", PAGE_PARAMETERS)}
    _, attr = prepare(ctx)
    sink = Sink(ctx)
    for i, _op, p in _query_params(ctx):
        if squash(p.name) in discouraged:
            sink.at(p.node,
                f"Query parameter `{p.name}` pages differently from the other services: use "
                "`limit` and `marker` (the id of the last item seen).",
                attr.ops[i],
                name_only=True,
            )
    return sink


def _declares(op: Operation, status: str) -> bool:
    return status in op.responses or f"{status[0]}XX" in op.responses or "default" in op.responses


@rule("CON027", "marker-declares-400", kind=Kind.SPEC, severity=Severity.WARNING, guideline="PAG-02", profiles=API_SIG_ONLY)
def marker_declares_400(ctx: SpecContext) -> Iterable[Hit]:
    """An operation that takes ``marker`` documents the 400 for an unknown marker.

    What it checks:
        An operation with a ``marker`` query parameter and no ``400`` (nor ``4XX`` or
        ``default``) response.

    Why it matters:
        A marker that no longer exists must fail clearly with 400, not silently restart
        from the first page; clients need to know to expect it.

    Example:
        ``GET /servers?marker=...`` documenting only ``200``.

    Fix:
        Declare the ``400`` response with an error body.

    References:
        API-SIG pagination guideline (PAG-02):
        https://specs.openstack.org/openstack/api-sig/guidelines/pagination_filter_sort.html
    """
    _, attr = prepare(ctx)
    sink = Sink(ctx)
    for i, op, p in _query_params(ctx):
        if p.name == "marker" and not _declares(op, "400"):
            sink.at(op.node,
                f"{op.label} takes `marker` but documents no 400: declare the 400 returned for "
                "an unknown marker.",
                attr.ops[i],
            )
    return sink


LEGACY_SORT = ["sort_key", "sort_dir"]


@rule(
    "CON028",
    "sort-parameter",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"legacy": LEGACY_SORT},
    guideline="SRT-01",
    profiles=API_SIG_ONLY,
)
def sort_parameter(ctx: SpecContext) -> Iterable[Hit]:
    """Sorting uses one ``sort=key1:asc,key2:desc`` parameter, not ``sort_key``/``sort_dir``.

    What it checks:
        A query parameter named in the ``legacy`` option (default ``sort_key``,
        ``sort_dir``) that is not marked ``deprecated: true``.

    Why it matters:
        Separate key and direction lists pair up by position, which is error-prone; the
        single ``sort`` parameter is the cross-service form. Keeping the legacy pair as
        deprecated is fine (SRT-02); adding it to new operations is not.

    Example:
        ``GET /volumes?sort_key=size&sort_dir=desc``.

    Fix:
        Accept ``sort=size:desc``; keep the old parameters only as ``deprecated: true``.

    References:
        API-SIG sorting guideline (SRT-01, SRT-02):
        https://specs.openstack.org/openstack/api-sig/guidelines/pagination_filter_sort.html
    """
    legacy = {squash(n) for n in option(ctx, "legacy", LEGACY_SORT)}
    _, attr = prepare(ctx)
    sink = Sink(ctx)
    for i, _op, p in _query_params(ctx):
        if squash(p.name) in legacy and not p.deprecated:
            sink.at(p.node,
                f"Query parameter `{p.name}` is the legacy sort form: accept "
                "`sort=key1:asc,key2:desc` and mark this one `deprecated: true`.",
                attr.ops[i],
                keys=("deprecated",),
            )
    return sink


COUNT_FIELDS = ["total", "total_count", "num_results", "total_results", "total_items"]
COUNT_PARAMETERS = ["include_count", "with_total", "total_count", "show_count", "include_total"]


def _list_objects(ctx: SpecContext) -> Iterator[tuple[Operation, Node, Rank]]:
    index, attr = prepare(ctx)
    for i, op in enumerate(index.ops):
        if op.method != "get":
            continue
        for status in success_statuses(op):
            for node in json_schemas(ctx.spec, op.responses[status]):
                if not types_of(node.value) - {"object"}:
                    yield op, node, attr.ops[i]


@rule(
    "CON029",
    "count-with-count",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"fields": COUNT_FIELDS, "parameters": COUNT_PARAMETERS},
    guideline="CNT-01",
    profiles=API_SIG_ONLY,
)
def count_with_count(ctx: SpecContext) -> Iterable[Hit]:
    """Totals are asked for with ``with_count`` and returned as ``count``.

    What it checks:
        A top-level field of a ``GET`` 2xx response named in the ``fields`` option
        (``total``, ``total_count``, ``num_results``, ...), and a query parameter named in
        the ``parameters`` option (``include_count``, ``with_total``, ...); names are
        compared without case or separators.

    Why it matters:
        Counting is expensive; one opt-in parameter and one field name let clients ask
        for it the same way everywhere.

    Example:
        ``GET /volumes?include_count=true`` -> ``{"volumes": [...], "total": 42}``.

    Fix:
        Accept ``with_count`` and return the integer ``count`` next to the collection.

    References:
        API-SIG counting guideline (CNT-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/counting.html
    """
    fields = {squash(n) for n in option(ctx, "fields", COUNT_FIELDS)}
    params = {squash(n) for n in option(ctx, "parameters", COUNT_PARAMETERS)}
    _, attr = prepare(ctx)
    sink = Sink(ctx)
    for _op, node, rank in _list_objects(ctx):
        for name, prop in properties(ctx.spec, node).items():
            if squash(name) in fields:
                sink.add(
                    prop.owner.file,
                    join(prop.owner.pointer, "properties", name),
                    f"Field `{name}` of a list response carries a total: name it "
                    "`count` (an integer, returned when `with_count` is true).",
                    rank,
                    name_only=True,
                )
    for i, _op, p in _query_params(ctx):
        if squash(p.name) in params:
            sink.at(p.node,
                f"Query parameter `{p.name}` asks for a total: name it `with_count`.",
                attr.ops[i],
                name_only=True,
            )
    return sink


@rule("CON030", "count-integer", kind=Kind.SPEC, severity=Severity.WARNING, guideline="CNT-01", profiles=API_SIG_ONLY)
def count_integer(ctx: SpecContext) -> Iterable[Hit]:
    """The top-level ``count`` of a list response is an integer.

    What it checks:
        A top-level ``count`` field of a ``GET`` 2xx JSON response whose declared type
        is not ``integer``.

    Why it matters:
        Clients compare and add counts; a string or number type forces conversions and
        hides rounding.

    Example:
        ``count: {type: string}``.

    Fix:
        Declare ``count: {type: integer, minimum: 0}``.

    References:
        API-SIG counting guideline (CNT-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/counting.html
    """
    sink = Sink(ctx)
    for _op, node, rank in _list_objects(ctx):
        prop = properties(ctx.spec, node).get("count")
        if prop is None:
            continue
        t = type_name(prop.node.value)
        if t is not None and t != "integer":
            sink.add(
                prop.owner.file,
                join(prop.owner.pointer, "properties", "count"),
                f"Field `count` of a list response is {article(t)}: declare it as an integer.",
                rank,
                keys=("type",),
            )
    return sink
