"""CON015-CON023, CON043: response status codes (API-SIG HTTP guideline, RC-xx)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from govbot.findings import Severity
from govbot.rules.consistency.index import (
    Sink,
    SpecIndex,
    is_collection,
    json_schemas,
    option,
    prepare,
    squash,
    success_statuses,
    types_of,
    value_cause,
    words,
)
from govbot.rules.registry import API_SIG_ONLY, Hit, Kind, SpecContext, rule
from govbot.surface import (
    Operation,
)

# Verbs by which an operation says it reads: a POST that carries a query in its body
# (RFC 9110, section 9.3.3, lets POST hand data to any processing; URI-03 allows it for
# filters too long for a URI) answers with results and creates nothing.
READ_VERBS = frozenset(
    {"get", "gets", "list", "lists", "search", "searches", "query", "queries", "find",
     "finds", "filter", "filters", "retrieve", "retrieves", "fetch", "fetches", "lookup",
     "count", "counts", "browse", "read", "reads"}
)  # fmt: skip


_QUERY_SEGMENTS = (["search"], ["query"], ["find"], ["lookup"])


def _reads(op: Operation) -> bool:
    """Whether the operation says it reads: its last path segment is a query word
    (``/things/search``; not ``/filters``, a noun too), or its summary or operationId
    (read after a tag prefix) starts with a read verb (``Get channel catalog product list``)."""
    if words(op.path.rstrip("/").rsplit("/", 1)[-1]) in _QUERY_SEGMENTS:
        return True
    summary = op.value.get("summary")
    first = words(summary)[:1] if isinstance(summary, str) else []
    # The verb of an operationId follows its tag prefix: `CatalogsUser_GetProducts`.
    first += words((op.operation_id or "").rsplit("_", 1)[-1])[:1]
    return bool(set(first) & READ_VERBS)


def _creates(index: SpecIndex, op: Operation) -> bool:
    # A create sends the new resource's representation; a bodiless POST on a collection
    # path (`POST /reviews/{id}/publish`, "publish all drafts") is an action, and a POST
    # that says it searches or lists is a query by POST.
    return (
        op.method == "post"
        and op.request_body is not None
        and is_collection(index, op)
        and not _reads(op)
    )


@rule("CON015", "create-returns-201", kind=Kind.SPEC, severity=Severity.ERROR, guideline="RC-01")
def create_returns_201(ctx: SpecContext) -> Iterable[Hit]:
    """A synchronous create answers 201 Created (202 Accepted when asynchronous).

    What it checks:
        A ``POST`` on a collection path (one with a member path ``<path>/{id}`` that
        takes more than POST: a POST-only ``<path>/{x}`` is an action with an argument) that
        sends a request body (the new resource; a bodiless ``POST`` is an action) and
        whose success codes include neither 201 nor 202 (typically a 200). A ``POST``
        that says it reads is a query sent by ``POST`` (RFC 9110 9.3.3; URI-03), not a
        create, and is left alone: its last segment is a query word (``/things/search``)
        or its summary or operationId starts with a read verb (get, list, search, query,
        find, filter, retrieve, fetch, lookup, count, browse, read).

    Why it matters:
        201 tells clients and caches that a resource now exists and where; a 200 is
        indistinguishable from an action or a search.

    Example:
        ``POST /flavors`` answering ``200``.

    Fix:
        Answer ``201 Created`` with a ``Location`` header and the representation
        (``202 Accepted`` with ``Location`` when the creation completes later).

    References:
        API-SIG response codes guideline (RC-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    index, attr = prepare(ctx)
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        if not _creates(index, op):
            continue
        success = success_statuses(op)
        if not success or "201" in success or "202" in success or "2XX" in success:
            continue
        status = success[0]
        sink.response(
            op,
            status,
            f"{op.label} creates a resource but answers {status}: answer 201 Created with a "
            "Location header (202 Accepted if the creation is asynchronous).",
            attr.ops[i],
        )
    return sink


@rule(
    "CON016",
    "created-has-location",
    kind=Kind.SPEC,
    severity=Severity.ERROR,
    guideline="RC-01",
    profiles=API_SIG_ONLY,
)
def created_has_location(ctx: SpecContext) -> Iterable[Hit]:
    """A 201 Created response carries a Location header.

    What it checks:
        Every ``201`` response declares a ``Location`` header.

    Why it matters:
        The client needs the URI of what it just created; without ``Location`` it has to
        build it from conventions or search for it.

    Example:
        ``POST /servers`` -> ``201`` with no ``headers``.

    Fix:
        Declare ``headers: {Location: {description: ..., schema: {type: string, format: uri}}}``.

    References:
        API-SIG response codes guideline (RC-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    index, attr = prepare(ctx)
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        body = op.responses.get("201")
        if body is not None and "location" not in body.headers:
            sink.response(
                op,
                "201",
                f"The 201 response of {op.label} has no Location header: declare `Location` "
                "with the URI of the new resource.",
                attr.ops[i],
            )
    return sink


@rule(
    "CON017",
    "accepted-has-location",
    kind=Kind.SPEC,
    severity=Severity.ERROR,
    guideline="RC-02",
    profiles=API_SIG_ONLY,
)
def accepted_has_location(ctx: SpecContext) -> Iterable[Hit]:
    """An asynchronous create (202 Accepted) carries a Location header.

    What it checks:
        A ``POST`` on a collection path (one with a member path ``<path>/{id}`` that
        takes more than POST) whose
        ``202`` response declares no ``Location`` header. Actions that answer 202 are
        not creates and are not checked.

    Why it matters:
        The client must be able to follow the new resource (or a status resource) while
        it is being built.

    Example:
        ``POST /servers`` -> ``202`` with no ``Location``.

    Fix:
        Declare a ``Location`` header pointing to the future resource or to a status
        resource.

    References:
        API-SIG response codes guideline (RC-02):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    index, attr = prepare(ctx)
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        body = op.responses.get("202")
        if body is None or not _creates(index, op) or "location" in body.headers:
            continue
        sink.response(
            op,
            "202",
            f"The 202 response of {op.label} has no Location header: point `Location` to the "
            "resource being created or to a status resource.",
            attr.ops[i],
        )
    return sink


@rule(
    "CON018",
    "delete-returns-204",
    kind=Kind.SPEC,
    severity=Severity.ERROR,
    guideline="RC-03",
    profiles=API_SIG_ONLY,
)
def delete_returns_204(ctx: SpecContext) -> Iterable[Hit]:
    """A synchronous DELETE answers 204 No Content (202 when asynchronous).

    What it checks:
        A ``DELETE`` that declares success codes but neither 204 nor 202.

    Why it matters:
        204 says "done, nothing to read"; clients should not have to parse a body to
        learn that a deletion succeeded.

    Example:
        ``DELETE /volumes/{id}`` answering ``200`` with the deleted volume.

    Fix:
        Answer ``204 No Content`` (or ``202 Accepted`` if the deletion completes later).

    References:
        API-SIG response codes guideline (RC-03):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    index, attr = prepare(ctx)
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        if op.method != "delete":
            continue
        success = success_statuses(op)
        if not success or {"204", "202", "2XX"} & set(success):
            continue
        sink.response(
            op,
            success[0],
            f"{op.label} answers {success[0]}: a synchronous delete answers 204 No Content "
            "(202 Accepted if asynchronous).",
            attr.ops[i],
        )
    return sink


USUAL_SUCCESS = ["200", "201", "202", "204"]


@rule(
    "CON019",
    "success-status-usual",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"allow": USUAL_SUCCESS},
    guideline="RC-04",
    profiles=API_SIG_ONLY,
)
def success_status_usual(ctx: SpecContext) -> Iterable[Hit]:
    """Success codes are 200, 201, 202 or 204.

    What it checks:
        A 2xx response code outside the ``allow`` option (default 200, 201, 202, 204;
        the range ``2XX`` is accepted). ``206 Partial Content`` is the HTTP answer to a
        range request (RFC 9110, 15.3.7), so it is accepted on an operation that takes a
        ``Range`` header or whose 206 response declares ``Content-Range``.

    Why it matters:
        Clients handle the common codes; 203, 205, 206 or 207 each need special handling
        that few clients have.

    Example:
        ``POST /servers/{id}/action`` answering ``207``.

    Fix:
        Use ``200`` for other successful requests, or add the code to the option when
        the semantics really need it (``206`` for range requests).

    References:
        API-SIG response codes guideline (RC-04):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    allow = {str(a) for a in option(ctx, "allow", USUAL_SUCCESS)} | {"2XX"}
    index, attr = prepare(ctx)
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        for status in success_statuses(op):
            if status == "206" and _ranged(op):
                continue
            if status.upper() not in allow:
                sink.response(
                    op,
                    status,
                    f"{op.label} answers the unusual success code {status}: use 200 (or "
                    "201/202/204 where they apply).",
                    attr.ops[i],
                )
    return sink


def _ranged(op: Operation) -> bool:
    """Whether ``op`` serves ranges: a ``Range`` request header, or ``Content-Range`` on 206."""
    if any(p.location == "header" and p.name.lower() == "range" for p in op.parameters):
        return True
    partial = op.responses.get("206")
    return partial is not None and "content-range" in partial.headers


@rule(
    "CON020",
    "over-quota-is-403",
    kind=Kind.SPEC,
    severity=Severity.ERROR,
    options={"keywords": ["quota"]},
    guideline="RC-06",
)
def over_quota_is_403(ctx: SpecContext) -> Iterable[Hit]:
    """Going over quota is 403 Forbidden, never 413.

    What it checks:
        A ``413`` response whose description mentions a word of the ``keywords`` option
        (default ``quota``).

    Why it matters:
        413 means "this request body is too large"; a client that retries with a smaller
        body will never succeed against a quota.

    Example:
        ``413: description: Quota exceeded for instances``.

    Fix:
        Answer ``403 Forbidden`` with an error that names the quota.

    References:
        API-SIG response codes guideline (RC-06):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    keywords = [k.lower() for k in option(ctx, "keywords", ["quota"])]
    index, attr = prepare(ctx)
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        body = op.responses.get("413")
        if body is None:
            continue
        text = " ".join(
            str(body.node.value.get(k) or "") for k in ("description", "summary")
        ).lower()
        if any(k in text for k in keywords):
            sink.response(
                op,
                "413",
                f"{op.label} answers 413 for going over quota: answer 403 Forbidden instead.",
                attr.ops[i],
            )
    return sink


def _status_rule(ctx: SpecContext, status: str, message: str) -> Iterable[Hit]:
    index, attr = prepare(ctx)
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        if status in op.responses:
            sink.response(
                op,
                status,
                message.format(op=op.label),
                attr.ops[i],
            )
    return sink


@rule(
    "CON021",
    "no-422",
    kind=Kind.SPEC,
    severity=Severity.ERROR,
    guideline="RC-07",
    profiles=API_SIG_ONLY,
)
def no_422(ctx: SpecContext) -> Iterable[Hit]:
    """Malformed or invalid requests answer 400, never 422.

    What it checks:
        Any operation that declares a ``422`` response.

    Why it matters:
        422 comes from WebDAV; OpenStack clients treat 400 as "fix your request", and
        one code for one meaning keeps error handling uniform across services.

    Example:
        ``POST /servers`` -> ``422: Unprocessable Entity``.

    Fix:
        Answer ``400 Bad Request`` with an error body that says what is wrong.

    References:
        API-SIG response codes guideline (RC-07):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    return _status_rule(
        ctx, "422", "{op} declares 422: answer 400 Bad Request for malformed or invalid requests."
    )


@rule(
    "CON022",
    "no-501",
    kind=Kind.SPEC,
    severity=Severity.ERROR,
    guideline="RC-16",
    profiles=API_SIG_ONLY,
)
def no_501(ctx: SpecContext) -> Iterable[Hit]:
    """An unsupported feature answers 400 (or 404), never 501 Not Implemented.

    What it checks:
        Any operation that declares a ``501`` response.

    Why it matters:
        501 says the server does not support the HTTP *method* at all; the guideline
        calls its use for a missing feature "completely incorrect". Clients cannot tell
        a deployment choice from a server bug.

    Example:
        ``POST /servers/{id}/action`` -> ``501: not implemented by this driver``.

    Fix:
        Answer ``400`` with a clear message (``404`` if the URI will never exist).

    References:
        API-SIG response codes guideline (RC-16):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    return _status_rule(
        ctx,
        "501",
        "{op} declares 501: answer 400 with a clear message for an unsupported feature "
        "(404 if the URI will never exist).",
    )


TRACE_FIELDS = ["traceback", "stack_trace", "stacktrace", "backtrace", "stack"]


@rule(
    "CON023",
    "no-stack-trace-in-errors",
    kind=Kind.SPEC,
    severity=Severity.ERROR,
    options={"names": TRACE_FIELDS},
    guideline="RC-15",
)
def no_stack_trace(ctx: SpecContext) -> Iterable[Hit]:
    """Error bodies never carry stack traces.

    What it checks:
        A field, at any depth of a 4xx/5xx response schema, named like a stack trace
        (the ``names`` option: ``traceback``, ``stack_trace``, ``stacktrace``,
        ``backtrace``, ``stack``; compared without case or separators).

    Why it matters:
        Tracebacks leak internals (paths, versions, sometimes secrets) and are useless to
        API users.

    Example:
        ``{"errors": [{"code": "...", "traceback": "..."}]}``.

    Fix:
        Remove the field; log the trace on the server with the request id.

    References:
        API-SIG response codes guideline (RC-15):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    names = {squash(n) for n in option(ctx, "names", TRACE_FIELDS)}
    index, attr = prepare(ctx)
    sink = Sink(ctx)
    for sid in index.error_schemas:
        info = index.schemas.get(sid)
        if info is None:
            continue
        for f in info.fields:
            if squash(f.name) in names:
                sink.at(
                    f,
                    f"Error field `{f.name}` exposes a stack trace: remove it and log the "
                    "trace on the server instead.",
                    attr.schema(sid),
                    name_only=True,
                )
    return sink


@rule(
    "CON043",
    "request-rejects-unknown-fields",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    guideline="RC-10",
    profiles=API_SIG_ONLY,
)
def request_rejects_unknown_fields(ctx: SpecContext) -> Iterable[Hit]:
    """Request body objects reject unknown fields: ``additionalProperties: false``.

    What it checks:
        The top-level JSON request body schema (and each branch of a top-level
        ``oneOf``/``anyOf``) that is an object with ``properties`` but does not set
        ``additionalProperties: false``. Schemas built with ``allOf`` are not checked.

    Why it matters:
        An unexpected attribute must be a 400, not silently ignored: a typo such as
        ``"flavour_ref"`` would otherwise create something the user did not ask for. The
        nova-specs template asks for schemas "as restrictive as possible".

    Example:
        ``{type: object, properties: {name: {type: string}}}``.

    Fix:
        Add ``additionalProperties: false``.

    References:
        API-SIG response codes guideline (RC-10):
        https://specs.openstack.org/openstack/api-sig/guidelines/http/response-codes.html
    """
    index, attr = prepare(ctx)
    spec = ctx.spec
    sink = Sink(ctx)
    for i, op in enumerate(index.ops):
        if op.request_body is None:
            continue
        for root in json_schemas(spec, op.request_body):
            candidates = [root]
            for keyword in ("oneOf", "anyOf"):
                parts = root.get(keyword)
                if parts is not None and isinstance(parts.value, list):
                    candidates.extend(
                        n
                        for n in (spec.resolve(parts.child(j)) for j in range(len(parts.value)))
                        if n is not None and isinstance(n.value, Mapping)
                    )
            for node in candidates:
                value = node.value
                if "properties" not in value or "allOf" in value:
                    continue
                if types_of(value) - {"object"}:
                    continue
                if value.get("additionalProperties") is False:
                    continue
                message = (
                    "This request body schema accepts unknown fields: add "
                    "`additionalProperties: false` so that typos are rejected with 400."
                )
                sink.at(
                    node,
                    message,
                    attr.ops[i],
                    # What the rule read: a new field elsewhere in the schema is not it.
                    keys=("additionalProperties", "type"),
                    cause=value_cause(message, value),
                )
    return sink
