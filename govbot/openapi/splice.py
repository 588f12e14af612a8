"""The next version of a JSON document from the last one, parsing only the bytes that
changed.

``govbot backfill`` reads hundreds of versions of one 1-2 MB spec, each a small edit of
the one before. Between two versions, the text before the first differing byte and
after the last one is the same, so only the members of one container (the document's
top level, ``paths``, or a section of ``components``) that hold the difference need
parsing: the new document is the last one's objects with those members parsed again,
and its units (:mod:`govbot.openapi.units`) are the last version's, measured again
where parsed.

A :class:`Layout` says where each member of those containers begins in a version's
text. The first version's comes from the sizes of its units, when its text is minified
JSON as orjson writes it (:func:`minified_layout`; sizes then give positions); a
spliced version's from the last one's and a scan of the bytes parsed. Whenever the
difference is not inside one container's members, or the new bytes do not parse as
members, or anything is unusual (a key repeated, a trailing comma, deep nesting),
:func:`splice` gives None and the caller parses the whole text, which also says what
is wrong with it.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import orjson

from govbot.openapi.parse import JSON_REF_BYTES
from govbot.openapi.units import Measure, Unit, Units, entries, measure

# A container of units: () the document's top level, ("paths",), ("components", section).
Container = tuple[str, ...]
ROOT: Container = ()
_NOT_UNITS = frozenset(("paths", "components"))  # top-level members that hold units
# Deeper than this, parsing a part could accept what parsing the whole refuses (orjson
# stops at 1024 levels): such a text is parsed whole.
_MAX_DEPTH = 512
_CHUNK = 1 << 16
_WHITESPACE = b" \t\n\r"
# A JSON string (a member's key when a colon follows), or a bracket.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"(\s*:)?|[{\[]|[}\]]')


@dataclass(frozen=True)
class Layout:
    """Where the members of one version's containers begin in its text."""

    starts: Mapping[Container, tuple[int, ...]]  # each member's key, in document order
    keys: Mapping[Container, tuple[str, ...]]  # the members' keys, in the same order
    braces: Mapping[Container, tuple[int, int]]  # the container's { and }
    refs: Mapping[Unit, tuple[str, ...]]  # the $ref strings of each unit's text, in order
    # Whether the text is minified JSON exactly as orjson writes it (a newline may follow)
    minified: bool = False


@dataclass(frozen=True)
class Spliced:
    """The new version: its value, units, layout, and every $ref string in its text."""

    data: dict[str, Any]
    units: Units
    layout: Layout
    refs: tuple[str, ...]


class _Unfit(Exception):
    """The text is not laid out as the sizes say."""


def _unit(container: Container, key: str) -> Unit | None:
    if not container:
        return None if key in _NOT_UNITS else (key,)
    return (*container, key)


def _decode_ref(raw: bytes) -> str:
    return orjson.loads(b'"' + raw + b'"') if b"\\" in raw else raw.decode()


def _refs_in(text: bytes) -> tuple[str, ...]:
    if b'"$ref"' not in text:
        return ()
    return tuple(_decode_ref(m) for m in JSON_REF_BYTES.findall(text))


def minified_layout(raw: bytes, data: dict[str, Any], units: Units) -> Layout | None:
    """The layout of ``raw``, which the caller knows is ``data`` minified as orjson
    writes it (a newline may follow), from the sizes of its ``units``; None when the
    text does not bear that out."""
    starts: dict[Container, tuple[int, ...]] = {}
    keys: dict[Container, tuple[str, ...]] = {}
    braces: dict[Container, tuple[int, int]] = {}
    sizes = units.sizes

    def container(where: Container, members: Mapping[str, Any], at: int) -> int:
        opening, at = at, at + 1
        found: list[int] = []
        for i, (key, value) in enumerate(members.items()):
            at += 1 if i else 0  # the comma before it
            found.append(at)
            at += len(orjson.dumps(key)) + 1
            unit = _unit(where, key)
            if unit is not None:
                size = sizes.get(unit)
                if size is None:
                    raise _Unfit
                at += size
            elif key == "paths":
                at = container(("paths",), value, at)
            else:
                at = components(value, at)
        starts[where], keys[where], braces[where] = tuple(found), tuple(members), (opening, at)
        return at + 1

    def components(sections: Mapping[str, Any], at: int) -> int:
        at += 1
        for i, (section, members) in enumerate(sections.items()):
            at += 1 if i else 0
            at += len(orjson.dumps(section)) + 1
            at = container(("components", section), members, at)
        return at + 1

    try:
        end = container(ROOT, data, 0)
    except (_Unfit, TypeError):
        return None
    if len(raw) not in (end, end + 1) or raw[end:] not in (b"", b"\n"):
        return None
    for where, (opening, closing) in braces.items():
        if raw[opening] != 0x7B or raw[closing] != 0x7D:  # { and }
            return None
        if any(raw[at] != 0x22 for at in starts[where]):  # "
            return None
    refs: dict[Unit, tuple[str, ...]] = {}
    for where, found in starts.items():
        ends = (*found[1:], braces[where][1]) if found else ()
        for key, at, until in zip(keys[where], found, ends, strict=True):
            unit = _unit(where, key)
            if unit is not None:
                refs[unit] = _refs_in(raw[at:until])
    return Layout(starts, keys, braces, refs, minified=True)


def splice(
    raw0: bytes, data0: dict[str, Any], units0: Units, layout0: Layout, raw1: bytes
) -> Spliced | None:
    """The version ``raw1`` from the last one (``raw0``, parsed as ``data0``, with its
    units and layout), parsing only the members that hold the difference; None when
    that cannot be done soundly (the whole text must be parsed)."""
    n0, n1 = len(raw0), len(raw1)
    shorter = min(n0, n1)
    first, suffix = common_ends(raw0, raw1)
    if first == n0 == n1:
        return None  # the same text
    spliced = _splice_at(raw0, data0, units0, layout0, raw1, first, n0 - suffix)
    if spliced is None and suffix == shorter - first:
        # The common start and end overlap (a repeated text was added or removed): the
        # edit may as well be placed earlier, which may keep it inside one container.
        suffix = _common_suffix(raw0, raw1, shorter)
        earlier = shorter - suffix
        if earlier < first:
            spliced = _splice_at(raw0, data0, units0, layout0, raw1, earlier, n0 - suffix)
    return spliced


def _splice_at(
    raw0: bytes,
    data0: dict[str, Any],
    units0: Units,
    layout0: Layout,
    raw1: bytes,
    first: int,
    last0: int,
) -> Spliced | None:
    """:func:`splice`, the texts being the same before ``first`` and after ``last0``."""
    delta = len(raw1) - len(raw0)
    where = _holder(layout0, first, last0)
    if where is None:
        return None
    found, names = layout0.starts[where], layout0.keys[where]
    opening, closing = layout0.braces[where]
    if not found:
        return None
    i = max(bisect.bisect_right(found, first) - 1, 0)
    j = max(bisect.bisect_left(found, last0) - 1, i)
    start = found[i] if found[i] <= first else opening + 1
    following = j + 1 < len(found)
    end0 = found[j + 1] if following else closing
    body = raw1[start : end0 + delta].rstrip(_WHITESPACE)
    if body.endswith(b","):
        if not following:
            return None  # a trailing comma
        body = body[:-1]
    elif body and following:
        return None  # no comma before the next member
    elif not body and not following and i > 0:
        return None  # the comma of the member before now trails
    if not _NOT_UNITS.isdisjoint(names[i : j + 1]) and not where:
        return None  # the edit reaches into paths or components from outside
    parsed = _members(body, len(where))
    if parsed is None:
        return None
    values, offsets = parsed
    kept = {*names[:i], *names[j + 1 :]}
    if any(k in kept for k in values) or (not where and not _NOT_UNITS.isdisjoint(values)):
        return None
    old = _container(data0, where)
    merged: dict[str, Any] = {k: old[k] for k in names[:i]}
    measured: dict[Unit, Measure] = {}
    for key, value in values.items():
        unit = _unit(where, key)
        assert unit is not None
        before = units0.digests.get(unit)
        m = measure(value, before, units0.refs.get(unit))
        if m is None:
            return None  # the document no longer splits
        measured[unit] = m
        # The last version's object where the content is the same, as a full parse shares it.
        merged[key] = old[key] if before == m.digest else value
    for k in names[j + 1 :]:
        merged[k] = old[k]
    data1 = _replaced(data0, where, merged)
    units1 = _units(data1, units0, measured)
    if units1 is None:
        return None
    starts1 = [start + at for at in offsets]
    ends1 = [*starts1[1:], start + len(body)] if starts1 else []
    new_refs = {
        (*where, key): _refs_in(raw1[a:b]) for key, a, b in zip(values, starts1, ends1, strict=True)
    }
    layout1 = _moved(layout0, where, i, j, starts1, tuple(values), end0, delta, units1, new_refs)
    if layout0.minified:  # still minified if the bytes parsed are written as orjson does
        written = _minified_members(values) + (b"," if following and values else b"")
        if raw1[start : end0 + delta] != written:
            layout1 = replace(layout1, minified=False)
    refs = tuple(dict.fromkeys(r for unit in units1.digests for r in layout1.refs.get(unit, ())))
    return Spliced(data1, units1, layout1, refs)


def _minified_members(values: Mapping[str, Any]) -> bytes:
    """Members as orjson writes them minified (what a minified text holds)."""
    return b",".join(orjson.dumps(k) + b":" + orjson.dumps(v) for k, v in values.items())


def _holder(layout: Layout, first: int, last: int) -> Container | None:
    """The innermost container whose braces hold the bytes ``[first, last)``."""
    for where, (opening, closing) in layout.braces.items():
        if where and opening < first and last <= closing:
            return where
    opening, closing = layout.braces.get(ROOT, (0, -1))
    return ROOT if opening < first and last <= closing else None


def _members(body: bytes, depth: int) -> tuple[dict[str, Any], list[int]] | None:
    """The members written in ``body`` (``"k": v, ...``) and where each key begins;
    None when they do not parse, a key repeats, or they nest too deep."""
    try:
        values = orjson.loads(b"{" + body + b"}")
    except orjson.JSONDecodeError:
        return None
    if not isinstance(values, dict):
        return None
    offsets: list[int] = []
    level = deepest = 0
    for m in _TOKEN.finditer(body):
        head = m.group(0)[:1]
        if head == b'"':
            if level == 0 and m.group(1):
                offsets.append(m.start())
        elif head in b"{[":
            level += 1
            deepest = max(deepest, level)
        else:
            level -= 1
    if len(offsets) != len(values) or deepest + depth + 2 > _MAX_DEPTH:
        return None
    return values, offsets


def _container(data: dict[str, Any], where: Container) -> dict[str, Any]:
    node: Any = data
    for key in where:
        node = node[key]
    return node


def _replaced(data: dict[str, Any], where: Container, members: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the container ``where`` holding ``members`` (the rest shared)."""
    if not where:
        return members
    if where[0] == "paths":
        return {**data, "paths": members}
    return {**data, "components": {**data["components"], where[1]: members}}


def _units(data: dict[str, Any], units0: Units, measured: Mapping[Unit, Measure]) -> Units | None:
    found = entries(data)
    if found is None:
        return None
    digests: dict[Unit, bytes] = {}
    refs: dict[Unit, frozenset[Unit]] = {}
    sizes: dict[Unit, int] = {}
    for unit, _ in found:
        m = measured.get(unit)
        if m is not None:
            digests[unit], refs[unit], sizes[unit] = m.digest, m.refs, m.size
        else:
            digests[unit], refs[unit] = units0.digests[unit], units0.refs[unit]
            sizes[unit] = units0.sizes[unit]
    return Units(digests, refs, sizes)


def _moved(
    layout: Layout,
    where: Container,
    i: int,
    j: int,
    starts: list[int],
    names: tuple[str, ...],
    end0: int,
    delta: int,
    units: Units,
    new_refs: Mapping[Unit, tuple[str, ...]],
) -> Layout:
    """The last version's layout with members ``i..j`` of ``where`` replaced, and what
    lay after them moved by ``delta``."""
    starts1: dict[Container, tuple[int, ...]] = {}
    keys1: dict[Container, tuple[str, ...]] = {}
    braces1: dict[Container, tuple[int, int]] = {}
    for c, found in layout.starts.items():
        if c == where:
            tail = tuple(at + delta for at in found[j + 1 :])
            starts1[c] = (*found[:i], *starts, *tail)
            keys1[c] = (*layout.keys[c][:i], *names, *layout.keys[c][j + 1 :])
        elif found and found[-1] >= end0:
            starts1[c] = tuple(at + delta if at >= end0 else at for at in found)
            keys1[c] = layout.keys[c]
        else:
            starts1[c], keys1[c] = found, layout.keys[c]
        opening, closing = layout.braces[c]
        braces1[c] = (
            opening + delta if opening >= end0 else opening,
            closing + delta if closing >= end0 else closing,
        )
    refs = {u: new_refs[u] if u in new_refs else layout.refs.get(u, ()) for u in units.digests}
    return Layout(starts1, keys1, braces1, refs, layout.minified)


def common_ends(a: bytes, b: bytes) -> tuple[int, int]:
    """How many bytes ``a`` and ``b`` begin with alike, and how many of the rest they
    end with alike."""
    first = _common_prefix(a, b)
    return first, _common_suffix(a, b, min(len(a), len(b)) - first)


def _common_prefix(a: bytes, b: bytes) -> int:
    """How many bytes ``a`` and ``b`` begin with alike (compared a chunk at a time)."""
    n = min(len(a), len(b))
    lo = 0
    while lo < n:
        hi = min(lo + _CHUNK, n)
        if a[lo:hi] != b[lo:hi]:
            break
        lo = hi
    else:
        return n
    while hi - lo > 1:  # a[:lo] == b[:lo], a[lo:hi] != b[lo:hi]
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def _common_suffix(a: bytes, b: bytes, limit: int) -> int:
    """How many bytes (at most ``limit``) ``a`` and ``b`` end with alike."""
    na, nb = len(a), len(b)
    lo = 0
    while lo < limit:
        hi = min(lo + _CHUNK, limit)
        if a[na - hi : na - lo] != b[nb - hi : nb - lo]:
            break
        lo = hi
    else:
        return limit
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[na - mid : na - lo] == b[nb - mid : nb - lo]:
            lo = mid
        else:
            hi = mid
    return lo


__all__ = ["ROOT", "Container", "Layout", "Spliced", "common_ends", "minified_layout", "splice"]
