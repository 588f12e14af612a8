"""openapi-spec-validator's checks remembered unit by unit, so that the next version of
the same spec is checked only where it changed (``govbot backfill`` walks hundreds of
versions of one 1-2 MB spec, each a small edit of the one before).

The validator walks the document from its roots (``tags``, each path item, each schema
of ``components``) and checks every schema once, the first time it reaches it (by
identity, so a schema reached again through another ``$ref`` is skipped), in the same
order every time. What it reports is therefore fixed by, per schema, what the schema
itself yields and which schemas it goes on to, in order; and per root, the same plus
its own errors and the operationIds it registers. A recording run
(:class:`Recorder`) writes that down, keyed by where each schema is written; a merge
(:func:`merge`) replays it in the validator's order, with its bookkeeping (schemas seen,
operationIds registered, the ``require_properties`` of a schema's first visit, which
decides whether "Required list has not defined properties" is said), and yields the
validator's issues in the validator's order. A schema whose record, and every record it
leads to, holds nothing but visits (most schemas of a valid spec) says nothing wherever
the walk meets it: the merge does not go into it (:func:`loud_nodes` are the others).

Between two versions, what was recorded for a unit (:mod:`govbot.openapi.units`) still
holds when neither the unit nor anything it reaches through refs changed; the recording
run then walks only the roots of the affected units, and stops at every schema whose
record still holds. tests/openapi/test_openapi_unitwise.py holds the result to a full
run of the validator, version after version.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any

from govbot.openapi.docpath import DocumentPath, Unanswerable
from govbot.openapi.units import Unit, Units, affected, split, unit_at

# What a schema's (or a root's) record holds, in the order it happened:
#   ("e", issue)                 an error, always reported
#   ("x", message)               "Required list has not defined properties": reported
#                                when the schema's first visit asked for it
#                                (require_properties), where that visit came from
#   ("v", key, require, site)    the walk goes on to the schema written at key, from
#                                site (file, pointer: the $ref, or the schema itself);
#                                site is kept only where require is asked
#   ("o", value, issue)          an operationId registered; issue if it was seen before
Item = tuple[Any, ...]
Key = tuple[Any, Any]  # (file, pointer) of a schema; ("bool", value) for true/false
_CLAIMED = "_govbot_claimed"


@dataclass(frozen=True)
class Memory:
    """What a recording run of one version of a spec wrote down."""

    units: Units
    nodes: Mapping[Key, tuple[Item, ...]]
    roots: Mapping[Unit, tuple[Item, ...]]
    # The nodes whose record, or a record it leads to, holds more than visits.
    loud: frozenset[Key] = field(default_factory=frozenset)
    # The keys of ``nodes`` by the unit they are written in (:func:`by_unit`).
    keys: Mapping[Unit | None, tuple[Key, ...]] = field(default_factory=dict)


class Recorder:
    """Where the recording wrappers write: the record being written (a stack, as the
    walk nests), every schema recorded, and how errors become issues."""

    def __init__(
        self,
        known: Mapping[Key, tuple[Item, ...]],
        issue_of: Callable[[Any], Any],
        issue_at: Callable[[tuple[Any, ...], str], Any],
        message_of: Callable[[Any], str],
    ) -> None:
        self.known = known
        self.nodes: dict[Key, list[Item]] = {}
        self.stack: list[list[Item]] = []
        self.issue_of = issue_of
        self.issue_at = issue_at
        self.message_of = message_of


def _schema_recording(located: type, extra_error: type) -> type:
    def __call__(
        self: Any, schema: Any, require_properties: bool = True, meta_checked: bool = False
    ) -> Iterator[Any]:
        recorder: Recorder = self.registry.recorder
        value = schema.read_value()
        if not isinstance(value, Mapping | bool):  # an error, no visit: the parent's
            yield from located.__call__(self, schema, require_properties, meta_checked)
            return
        key = ("bool", value) if isinstance(value, bool) else schema.where()
        site = schema.site() if require_properties else None
        recorder.stack[-1].append(("v", key, require_properties, site))
        if key in recorder.known or key in recorder.nodes:
            return
        items: list[Item] = []
        recorder.nodes[key] = items
        recorder.stack.append(items)
        try:
            # Always asked to judge required properties: whether that is said depends on
            # the visit that comes first in the whole walk, which the merge knows.
            for error in located.__call__(self, schema, True, meta_checked):
                if not getattr(error, _CLAIMED, False):
                    setattr(error, _CLAIMED, True)
                    if isinstance(error, extra_error):
                        items.append(("x", recorder.message_of(error)))
                    else:
                        items.append(("e", recorder.issue_of(error)))
                yield error
        finally:
            recorder.stack.pop()

    return type(located.__name__, (located,), {"__call__": __call__})


def _operation_recording(located: type) -> type:
    def __call__(
        self: Any, url: str, name: str, operation: Any, path_parameters: Any
    ) -> Iterator[Any]:
        recorder: Recorder = self.registry.recorder
        if "operationId" in operation:
            value = (operation / "operationId").read_value()
            message = f"Operation ID '{value}' for '{name}' in '{url}' is not unique"
            issue = recorder.issue_at(tuple(operation.parts), message)
            recorder.stack[-1].append(("o", value, issue))
        self.operation_ids_registry = []  # duplicates are the merge's to find
        yield from located.__call__(self, url, name, operation, path_parameters)

    return type(located.__name__, (located,), {"__call__": __call__})


@functools.cache
def recording_class(located: type) -> type:
    """``located`` (a spec validator class) whose schema and operation checks record."""
    from openapi_spec_validator.validation.exceptions import ExtraParametersError

    validators = dict(located.keyword_validators)
    validators["schema"] = _schema_recording(validators["schema"], ExtraParametersError)
    validators["operation"] = _operation_recording(validators["operation"])
    return type(f"Recording{located.__name__}", (located,), {"keyword_validators": validators})


def roots(data: Mapping[str, Any], validators: Mapping[str, Any]) -> list[Unit]:
    """The validator's roots, in its order (RootValidator of openapi-spec-validator)."""
    out: list[Unit] = []
    if "tags" in data and "tags" in validators:
        out.append(("tags",))
    out.extend(("paths", url) for url in data.get("paths", {}))
    components = data.get("components", {})
    out.extend(("components", "schemas", name) for name in components.get("schemas", {}))
    return out


def _walk(validator: Any, root: DocumentPath, unit: Unit) -> Iterator[Any]:
    registry = validator.keyword_validators_registry
    if unit == ("tags",):
        return iter(registry["tags"](root / "tags"))
    if unit[0] == "paths":
        return iter(registry["path"](unit[1], root / "paths" / unit[1]))
    return iter(registry["schema"](root / "components" / "schemas" / unit[2]))


def record(
    validator: Any, root: DocumentPath, todo: Sequence[Unit], recorder: Recorder
) -> dict[Unit, tuple[Item, ...]]:
    """Walk the roots ``todo`` with a recording ``validator``; their records."""
    validator.keyword_validators_registry.recorder = recorder
    out: dict[Unit, tuple[Item, ...]] = {}
    for unit in todo:
        items: list[Item] = []
        recorder.stack = [items]
        for error in _walk(validator, root, unit):
            if not getattr(error, _CLAIMED, False):
                items.append(("e", recorder.issue_of(error)))
        out[unit] = tuple(items)
    return out


def merge(
    order: Sequence[Unit],
    roots_items: Mapping[Unit, Sequence[Item]],
    nodes: Mapping[Key, Sequence[Item]],
    limit: int,
    issue: Callable[[str, str, str], Any],
    loud: Set[Key] | None = None,
) -> list[Any]:
    """The issues of the whole walk, in the validator's order, at most ``limit``;
    ``issue(file, pointer, message)`` makes one. ``loud``: the nodes worth going into
    (:func:`loud_nodes`; None: all). The others, and all they lead to, say nothing
    and register no operationId: the order of what is said is the same without them."""
    out: list[Any] = []
    visited: set[Key] = set()
    ids: set[Any] = set()
    odd_ids: list[Any] = []  # unhashable operationIds: compared as the validator does
    for unit in order:
        # Each open record: its items, and the site of the visit that opened it when
        # that visit asked for required properties to be judged.
        stack: list[tuple[Iterator[Item], Any]] = [(iter(roots_items[unit]), None)]
        while stack:
            items, site = stack[-1]
            item = next(items, None)
            if item is None:
                stack.pop()
                continue
            kind = item[0]
            if kind == "v":
                key = item[1]
                if loud is not None and key not in loud and key in nodes:
                    continue
                if key not in visited:
                    visited.add(key)
                    if key not in nodes:
                        raise Unanswerable(f"no record of the schema at {key}")
                    stack.append((iter(nodes[key]), item[3] if item[2] else None))
                continue
            if kind == "o":
                value = item[1]
                try:
                    seen = value in ids
                    ids.add(value)
                except TypeError:
                    seen = value in odd_ids
                    odd_ids.append(value)
                if value is None or not seen:
                    continue
                out.append(item[2])
            elif kind == "x":
                if site is None:
                    continue
                out.append(issue(site[0], site[1], item[1]))
            else:
                out.append(item[1])
            if len(out) >= limit:
                return out
    return out


def check(
    validator: Any,
    root: DocumentPath,
    data: Mapping[str, Any],
    before: Memory | None,
    *,
    units: Units | None = None,
    issue_of: Callable[[Any], Any],
    issue_at: Callable[[tuple[Any, ...], str], Any],
    message_of: Callable[[Any], str],
    issue: Callable[[str, str, str], Any],
    limit: int,
) -> tuple[list[Any], Memory]:
    """The validator's issues on ``data`` (``validator`` a :func:`recording_class`
    instance, ``root`` the document), reusing what ``before`` recorded that still
    holds; and what to remember of this version. ``units``: ``data``'s, when the
    caller has split it already."""
    units = split(data) if units is None else units
    if units is None:
        raise Unanswerable("the document does not split into units")
    order = roots(data, validator.keyword_validators_registry.keyword_validators)
    if before is None:
        known: dict[Key, tuple[Item, ...]] = {}
        kept: dict[Unit, tuple[Item, ...]] = {}
        held_loud: set[Key] = set()
    else:
        stale = affected(before.units, units)
        # The records of a unit that changed, or reaches one that did, no longer hold.
        known = dict(before.nodes)
        for unit, keys in (before.keys or by_unit(before.nodes)).items():
            if not _holds(unit, units, stale):
                for key in keys:
                    del known[key]
        kept = {u: v for u, v in before.roots.items() if u not in stale}
        # A record that holds leads only to records that hold: so does what it says.
        held_loud = {k for k in before.loud if k in known}
    recorder = Recorder(known, issue_of, issue_at, message_of)
    fresh = record(validator, root, [u for u in order if u not in kept], recorder)
    roots_items = {**kept, **fresh}
    recorded = {k: tuple(v) for k, v in recorder.nodes.items()}
    nodes = {**known, **recorded}
    loud = loud_nodes(recorded, known, held_loud)
    issues = merge(order, roots_items, nodes, limit, issue, loud)
    keys = by_unit(recorded, None if before is None else _held_keys(before, known))
    memory = Memory(units, nodes, {u: roots_items[u] for u in order}, frozenset(loud), keys)
    return issues, memory


def loud_nodes(
    fresh: Mapping[Key, Sequence[Item]],
    known: Mapping[Key, Sequence[Item]],
    known_loud: Set[Key],
) -> set[Key]:
    """The nodes whose record, or a record it leads to, holds more than visits (or a
    visit to a schema with no record, which the merge must meet): ``known_loud`` of the
    records ``known`` (worked out for an earlier version), and those of ``fresh``."""
    loud = set(known_loud)
    parents: dict[Key, list[Key]] = {}
    pending: list[Key] = []
    for key, items in fresh.items():
        noisy = False
        for item in items:
            if item[0] != "v":
                noisy = True
                continue
            child = item[1]
            if child in fresh:
                parents.setdefault(child, []).append(key)
            elif child in loud or child not in known:
                noisy = True
        if noisy:
            pending.append(key)
    while pending:
        key = pending.pop()
        if key not in loud:
            loud.add(key)
            pending.extend(parents.get(key, ()))
    return loud


# The unit of the records of true and false: they hold in every version.
_ANYWHERE: Unit = ()


def by_unit(
    keys: Iterable[Key], start: Mapping[Unit | None, tuple[Key, ...]] | None = None
) -> dict[Unit | None, tuple[Key, ...]]:
    """``keys`` by the unit each is written in (None: in none), added to ``start``."""
    found: dict[Unit | None, list[Key]] = {}
    for key in keys:
        unit = _ANYWHERE if key[0] == "bool" else _unit_at(key[1])
        found.setdefault(unit, []).append(key)
    out = dict(start or {})
    for unit, added in found.items():
        out[unit] = (*out.get(unit, ()), *added)
    return out


def _held_keys(before: Memory, known: Mapping[Key, Any]) -> dict[Unit | None, tuple[Key, ...]]:
    """The groups of ``before``'s keys whose records still hold (are ``known``)."""
    groups = before.keys or by_unit(before.nodes)
    return {u: keys for u, keys in groups.items() if keys[0] in known}


def _holds(unit: Unit | None, units: Units, stale: frozenset[Unit]) -> bool:
    """Whether the records of the schemas written in ``unit`` still hold."""
    if unit == _ANYWHERE:
        return True
    return unit is not None and unit in units.digests and unit not in stale


# Every version of a spec asks it of the same few thousand pointers.
_unit_at = functools.lru_cache(maxsize=1 << 16)(unit_at)


__all__ = [
    "Memory",
    "Recorder",
    "by_unit",
    "check",
    "loud_nodes",
    "merge",
    "record",
    "recording_class",
    "roots",
]
