"""CON005-CON008: path segments and resource names (API-SIG NAM-01 to NAM-03, URI-01)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping

from govbot.findings import Severity
from govbot.rules.consistency.index import (
    Attribution,
    Rank,
    Sink,
    SpecIndex,
    max_rank,
    option,
    prepare,
    static_segments,
    words,
)
from govbot.rules.consistency.language import is_plural, plural_of, singular_of
from govbot.rules.consistency.resources import evidenced, template
from govbot.rules.registry import API_SIG_ONLY, GENERIC, Hit, Kind, SpecContext, rule
from govbot.surface import join, normalize_path


def _path_pointer(path: str) -> str:
    return join("", "paths", path)


def _only_post(index: SpecIndex, path: str) -> bool:
    return {index.ops[i].method for i in index.paths.get(path, [])} == {"post"}


def _path_rank(index: SpecIndex, attr: Attribution, path: str) -> Rank:
    rank: Rank | None = None
    for i in index.paths.get(path, ()):
        rank = max_rank(rank, attr.ops[i])
    return rank or (0, 0)


_PARAM_RE = re.compile(r"\{[^}]*\}")


def _path_rules(ctx: SpecContext) -> Iterator[tuple[str, list[tuple[int, str]], list[str], Rank]]:
    index, attr = prepare(ctx)
    for path in index.paths:
        # A path key's `?query` or `#fragment` (APIs.guru's way to tell apart operations of
        # one AWS path) is not part of the path template (RFC 3986, section 3): cut it, so
        # that `/a/{id}#x` and `/a/{id}` name the same collection, one finding for both.
        path_template = template(path)
        yield (
            path,
            static_segments(path_template),
            path_template.split("/"),
            _path_rank(index, attr, path),
        )


_DEFAULT_SEGMENT_ALLOW = [".well-known"]


@rule(
    "CON005",
    "path-segment-lowercase",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"allow": _DEFAULT_SEGMENT_ALLOW},
    guideline="NAM-02",
    profiles=API_SIG_ONLY,
)
def path_segment_lowercase(ctx: SpecContext) -> Iterable[Hit]:
    """Resource names in URLs are all lowercase.

    What it checks:
        Every literal segment of every path (parameters ``{x}`` and version segments
        such as ``v2.1`` are skipped) has no upper-case letter. Segments listed in the
        ``allow`` option are accepted.

    Why it matters:
        Paths are case sensitive (URI-04): ``/Servers`` and ``/servers`` are different
        resources, and mixed case invites clients to guess wrong.

    Example:
        ``/v2/OS-Hypervisors``.

    Fix:
        Use the lowercase name: ``/v2/os-hypervisors``.

    References:
        API-SIG naming guideline (NAM-02):
        https://specs.openstack.org/openstack/api-sig/guidelines/naming.html
    """
    allow = set(option(ctx, "allow", _DEFAULT_SEGMENT_ALLOW))
    sink = Sink(ctx)
    for path, segments, _, rank in _path_rules(ctx):
        for _, seg in segments:
            if seg != seg.lower() and seg not in allow:
                sink.add(
                    ctx.spec.file,
                    _path_pointer(path),
                    # One cause per segment, however many paths repeat it.
                    f"Path segment `{seg}` has upper-case letters: use `{seg.lower()}`.",
                    rank,
                    name_only=True,
                )
    return sink


_HYPHENATED = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@rule(
    "CON006",
    "path-segment-hyphenated",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"allow": _DEFAULT_SEGMENT_ALLOW},
    guideline="NAM-03",
    profiles=API_SIG_ONLY,
)
def path_segment_hyphenated(ctx: SpecContext) -> Iterable[Hit]:
    """Resource names in URLs separate words with hyphens, never underscores.

    What it checks:
        Every literal, non-version path segment, lower-cased, is words of letters and
        digits joined by single hyphens: no ``_``, ``.``, ``~``, ``:`` or other
        punctuation. Segments in the ``allow`` option (default ``.well-known``) pass.

    Why it matters:
        One URL style across services; the nova-specs template says the same ("URL
        should not include underscores, and use hyphens instead").

    Example:
        ``/os-volumes_boot``, ``/resource_providers``.

    Fix:
        Use hyphens: ``/os-volumes-boot``, ``/resource-providers``.

    References:
        API-SIG naming guideline (NAM-03):
        https://specs.openstack.org/openstack/api-sig/guidelines/naming.html
    """
    allow = set(option(ctx, "allow", _DEFAULT_SEGMENT_ALLOW))
    sink = Sink(ctx)
    for path, segments, _, rank in _path_rules(ctx):
        for _, seg in segments:
            if seg in allow or _HYPHENATED.match(seg.lower()):
                continue
            better = "-".join(words(seg)) or seg
            sink.add(
                ctx.spec.file,
                _path_pointer(path),
                f"Path segment `{seg}` has underscores or punctuation: "
                f"separate words with hyphens (`{better}`).",
                rank,
                name_only=True,
            )
    return sink


# fmt: off
UNCOUNTABLE = [
    "info", "information", "metadata", "data", "media", "software", "hardware", "equipment",
    "feedback", "news", "series", "species", "people", "children", "men", "women",
    "criteria", "indices", "matrices", "analytics", "traffic", "staff", "usage",
]


def _plural(word: str, uncountable: set[str]) -> bool:
    return word in uncountable or is_plural(word)


# Parameter words that name a member of whatever collection precedes them.
_MEMBER_KEYS = frozenset(
    {"id", "ids", "uuid", "name", "key", "slug", "identifier", "ref", "or", "entity", "object"}
)


def _of_another(segment: list[str], parameter: str) -> bool:
    """Whether the parameter after a segment identifies some other thing than a member of
    it (``/catalog/{country}``, ``/status/{order_id}``, ``/gene-type/{species_type_key}``,
    ``/productdeliverytime/{productId}``, the delivery time of a product): the thing it
    names (its words that are no member key: ``issue type`` of ``issueTypeId``; or the
    first of them, ``cluster`` of ``ClusterArn``) is not the head the segment ends with,
    and it is not a bare member key (``{id}``, ``{name}``)."""
    named = [singular_of(x) for x in words(parameter.strip("{}")) if x not in _MEMBER_KEYS]
    if not named:
        return False
    # Words run together in lower case (`issuetype/{issueTypeId}`) are compared as letters.
    letters = "".join(segment)
    return not (letters.endswith(named[0]) or letters.endswith("".join(named)))


def _collection_word(segment: str | None, uncountable: set[str]) -> bool:
    """Whether a literal segment names a collection: its last word is an English plural
    or an uncountable noun (``words``, ``media``), not an abbreviation (``qos``)."""
    w = words(segment) if segment else []
    return bool(w) and len(w[-1]) > 3 and w[-1].isalpha() and _plural(w[-1], uncountable)


def _noun(parts: list[str], verbs: set[str]) -> bool:
    """Whether a segment's words can name a collection (a noun phrase).

    Not an abbreviation of one or two letters (``/t/{id}``, ``/u/{name}``), not a verb
    (CON008's list: one report per defect), not a participle, gerund or verb by its
    ending (``starred``, ``following``, ``authorize``): the plural is a noun's.
    """
    last = parts[-1]
    if len(last) <= 2 or parts[0] in verbs:
        return False
    participle = len(last) > 4 and last.endswith("ed") and not last.endswith("eed")
    gerund = len(last) > 5 and last.endswith("ing")
    verb = len(last) > 5 and last.endswith(("ize", "ise"))  # authorize, synchronise
    return not participle and not gerund and not verb


def _names_members(
    evidence: frozenset[str],
    parts: list[str],
    at: tuple[int, str],
    allow: set[str],
    statics: Mapping[int, str],
) -> bool:
    """Whether the literal segment ``at`` (index, name) is followed by a parameter that
    names one of its members, and the spec shows it is a collection (resources.py).
    ``statics``: the path's literal segments by index (:func:`static_segments`)."""
    i, seg = at
    if i + 1 >= len(parts) or not parts[i + 1].startswith("{"):
        return False
    before = statics.get(i - 1)
    if normalize_path("/".join(parts[: i + 1])) not in evidence:
        return False  # no list, create or member operations: a lookup or a function
    if _collection_word(before, allow):
        return False  # a lookup or view under a collection: URI-02's matter
    # `/status/{order_id}`: the status of an order, no collection.
    return not _of_another(words(seg), parts[i + 1])


def _pluralise(segment: str, last: str) -> str:
    """``segment`` with its last word in the plural (``amphora`` -> ``amphorae``)."""
    better = plural_of(last)
    index = segment.lower().rfind(last)
    if index < 0:
        return segment + "s"
    if segment[index].isupper():  # issueLinkType -> issueLinkTypes, not issueLinktypes
        better = better[:1].upper() + better[1:]
    return segment[:index] + better + segment[index + len(last) :]


@rule(
    "CON007",
    "collection-name-plural",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"allow": UNCOUNTABLE},
    guideline="NAM-01",
)
def collection_name_plural(ctx: SpecContext) -> Iterable[Hit]:
    """Collections in URLs are named with plural nouns.

    What it checks:
        A literal path segment directly followed by a parameter (``/<name>/{id}``) that
        the spec itself shows to be a collection: ``GET /<name>`` lists (a bare array,
        or a wrapper whose array is named after the collection or holds the schema of
        ``GET /<name>/{id}``), ``POST /<name>`` creates (201, a ``Location`` header, or
        the item's schema), or ``/<name>/{id}`` is read and written (GET with PUT, PATCH
        or DELETE; or PUT/PATCH with DELETE), or the API names it in the plural at the
        same place (``/signins`` beside ``/signin/{id}``). Its last word should then be
        plural. A
        segment without that evidence (``GET /geoip/{ip}`` alone: a lookup or function)
        is left alone, and so is one right after another collection's name
        (``/media/shortcode/{c}``: a lookup or view, URI-02's matter), one whose
        parameter names another thing than its head (``/status/{order_id}``; a bare
        member key such as ``{id}`` names the segment's own members), and one that is no
        noun (a one- or two-letter abbreviation, a verb of CON008's list, a participle
        or gerund). Plurals come from an inflection library (``amphorae``, ``indices``);
        the ``allow`` option's uncountable nouns (``info``) and words with digits pass.

    Why it matters:
        ``/servers/{id}`` reads as "the server with this id in the servers collection";
        mixing ``/server/{id}`` and ``/volumes/{id}`` makes every client special-case URLs.

    Example:
        ``/v2/flavor/{flavor_id}``.

    Fix:
        Use the plural: ``/v2/flavors/{flavor_id}``. Add an uncountable noun to the
        rule's ``allow`` option in the policy.

    References:
        API-SIG naming guideline (NAM-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/naming.html
    """
    allow = {a.lower() for a in option(ctx, "allow", UNCOUNTABLE)}
    verbs = {v.lower() for v in VERBS}
    index, _ = prepare(ctx)
    evidence = evidenced(ctx.spec, index)
    sink = Sink(ctx)
    for path, segments, parts, rank in _path_rules(ctx):
        statics = dict(segments)
        for i, seg in segments:
            if not _names_members(evidence, parts, (i, seg), allow, statics):
                continue
            w = words(seg)
            if not w or seg.lower() in allow or not _noun(w, verbs) or _plural(w[-1], allow):
                continue
            collection = "/".join(parts[: i + 2])
            sink.add(
                ctx.spec.file,
                _path_pointer(path),
                f"Collection `{seg}` in `{collection}` is singular: name collections with plural "
                f"nouns (`{_pluralise(seg, w[-1])}`), or add the word to this rule's `allow` "
                "option if it is uncountable.",
                rank,
                name_only=True,
                # One collection, whatever its parameter is called on each path
                # (`/recipe/{recipeId}`, `/recipe/{id}`), is one defect.
                cause="/".join(_PARAM_RE.sub("{}", x) for x in parts[: i + 2]),
            )
    return sink


# fmt: off
VERBS = [
    "get", "list", "create", "update", "delete", "remove", "add", "set", "edit", "modify",
    "fetch", "retrieve", "destroy", "insert",
]


# Verbs of writes: a safe method (GET, HEAD) cannot be them, so on a read-only path a
# compound they open is a noun phrase (an update group, a delete request).
_WRITE_VERBS = frozenset(
    {"create", "update", "delete", "remove", "add", "set", "edit", "modify", "destroy", "insert"}
)


def _only_read(index: SpecIndex, path: str) -> bool:
    methods = {index.ops[i].method for i in index.paths.get(path, [])}
    return bool(methods) and methods <= {"get", "head"}


def _a_noun(
    index: SpecIndex,
    path: str,
    prefix: list[str],
    w: list[str],
    known: tuple[set[str], frozenset[str]],
) -> bool:
    """Whether a segment (its words ``w``, ``prefix`` the path up to it) that may open
    with a verb is a noun by the spec: a bare word whose plural is one of the API's
    segments (known[0]), a collection by evidence (known[1]), or a compound opened by a
    verb of writing on a path that is only read."""
    nouns, evidence = known
    if len(w) == 1 and plural_of(w[0]) in nouns:
        return True  # the API's own noun (Trello's `/lists/{id}`: a card's `list`)
    if normalize_path("/".join(prefix)) in evidence:
        return True  # a collection by the spec's own evidence: CON007's matter
    # `GET /UpdateGroups`: a GET updates nothing, so "update" is a modifier.
    return len(w) > 1 and w[0] in _WRITE_VERBS and _only_read(index, path)


@rule(
    "CON008",
    "path-no-verb",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"verbs": VERBS},
    guideline="URI-01",
)
def path_no_verb(ctx: SpecContext) -> Iterable[Hit]:
    """Paths name resources, not methods: no ``/delete`` or ``/get-x`` segments.

    What it checks:
        A literal path segment whose first word is one of the ``verbs`` option (default:
        get, list, create, update, delete, remove, add, set, edit, modify, fetch,
        retrieve, destroy, insert). Under the ``generic`` profile a custom action is
        left alone: a last segment of several words (``listKeys``, ``getLogFileUrl``)
        on a path that only takes ``POST``, as Google's AIP-136 (custom methods) and
        Microsoft's REST guidelines (actions) allow; a bare verb (``/delete``,
        ``/list``) duplicates an HTTP method there too and is reported, unless the API
        uses the word as a noun: its plural names one of its segments (Trello's
        ``/lists/{id}``, so ``/cards/{id}/list`` is the card's list), or the spec shows
        the segment is a collection (the evidence CON007 reads), whose name is
        CON007's matter. A compound
        opened by a verb of writing (``UpdateGroups``, ``DeleteRequests``) on a path
        that is only read (GET, HEAD) is a noun phrase: a GET updates nothing.

    Why it matters:
        Each resource has one URI and the HTTP method says what to do with it. A method-
        like sub-URI duplicates the method, escapes HTTP semantics (caching, idempotency)
        and multiplies URLs.

    Example:
        ``POST /servers/{server_id}/delete``.

    Fix:
        Use the method on the resource's URI: ``DELETE /servers/{server_id}``.

    References:
        API-SIG URI guideline (URI-01):
        https://specs.openstack.org/openstack/api-sig/guidelines/uri.html
    """
    verbs = {v.lower() for v in option(ctx, "verbs", VERBS)}
    index, _ = prepare(ctx)
    # Literal segments of the API: a verb whose plural names one of its collections is
    # one of its nouns (Trello's `/lists/{id}`: `/cards/{id}/list` is a card's list).
    nouns = {seg.lower() for path in index.paths for _, seg in static_segments(path)}
    evidence = evidenced(ctx.spec, index)
    sink = Sink(ctx)
    for path, segments, parts, rank in _path_rules(ctx):
        for i, seg in segments:
            w = words(seg)
            action = len(w) > 1 and i == len(parts) - 1 and _only_post(index, path)
            if ctx.profile == GENERIC and action:
                continue  # a custom action: AIP-136 and Microsoft's guidelines allow it
            if _a_noun(index, path, parts[: i + 1], w, (nouns, evidence)):
                continue
            if w and w[0] in verbs:
                sink.add(
                    ctx.spec.file,
                    _path_pointer(path),
                    f"Path `{path}` has the verb segment `{seg}`: address the resource itself "
                    "and let the HTTP method say what to do.",
                    rank,
                    name_only=True,
                )
    return sink
