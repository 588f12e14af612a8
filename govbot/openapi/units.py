"""A single-file OpenAPI document as units, and which units a new version changed.

A unit is one entry of the document that a commit edits on its own: a path item
(``("paths", url)``), a component (``("components", section, name)``), or any other
top-level member (``("info",)``, ``("tags",)``...). Each has a digest of its content
and the units its ``$ref``\\ s point into. Between two versions of a document, a unit's
work can be reused when neither it nor anything it reaches through refs changed:
:func:`affected` is that complement, found from the changed units backwards along the
refs (cheap when few changed, as between two commits).

Only documents that fit are split (:func:`split` returns None otherwise): ``paths`` and
``components`` and its sections written as objects, every ``$ref`` a fragment of this
file that names a unit or a place inside one, no ``$id`` (a string ``"$id"`` anywhere
counts).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import orjson

from govbot.openapi.parse import JSON_REF_BYTES
from govbot.surface import split as split_pointer

Unit = tuple[str, ...]

_REF_KEY = b'"$ref"'
_ID_KEY = b'"$id"'


@dataclass(frozen=True)
class Units:
    """The units of one version of a document, in document order."""

    digests: Mapping[Unit, bytes]
    refs: Mapping[Unit, frozenset[Unit]]  # unit -> the units its refs point into
    # unit -> the size of its value minified (as orjson writes it), in bytes
    sizes: Mapping[Unit, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Measure:
    """What :func:`measure` finds of one unit's value."""

    digest: bytes
    refs: frozenset[Unit]
    size: int


def unit_of(tokens: list[str]) -> Unit | None:
    """The unit a place in the document (its pointer's tokens) belongs to."""
    if not tokens:
        return None
    if tokens[0] == "paths":
        return ("paths", tokens[1]) if len(tokens) > 1 else None
    if tokens[0] == "components":
        return ("components", tokens[1], tokens[2]) if len(tokens) > 2 else None
    return (tokens[0],)


@functools.lru_cache(maxsize=1 << 16)
def unit_at(pointer: str) -> Unit | None:
    """The unit of a JSON pointer."""
    return unit_of(split_pointer(pointer))


def entries(data: Mapping[str, Any]) -> list[tuple[Unit, Any]] | None:
    """Each unit of a document with its value, in document order; None when the
    document does not split."""
    out: list[tuple[Unit, Any]] = []
    for key, value in data.items():
        if key == "paths":
            if not isinstance(value, dict):
                return None
            out.extend((("paths", url), item) for url, item in value.items())
        elif key == "components":
            if not isinstance(value, dict):
                return None
            for section, members in value.items():
                if not isinstance(members, dict):
                    return None
                out.extend((("components", section, name), v) for name, v in members.items())
        else:
            out.append(((key,), value))
    if not all(isinstance(part, str) for unit, _ in out for part in unit):
        return None
    return out


def split(data: Any, before: Units | None = None) -> Units | None:
    """The units of ``data``; None when it does not split (see the module's text).

    ``before``: the units of an earlier version, whose refs hold for a unit of the same
    content (found again only in the units that changed)."""
    if not isinstance(data, dict):
        return None
    found_entries = entries(data)
    if found_entries is None:
        return None
    digests: dict[Unit, bytes] = {}
    refs: dict[Unit, frozenset[Unit]] = {}
    sizes: dict[Unit, int] = {}
    for unit, value in found_entries:
        prior = (before.digests.get(unit), before.refs.get(unit)) if before else (None, None)
        found = measure(value, *prior)
        if found is None:
            return None
        digests[unit], refs[unit], sizes[unit] = found.digest, found.refs, found.size
    return Units(digests, refs, sizes)


def measure(
    value: Any, digest_before: bytes | None = None, refs_before: frozenset[Unit] | None = None
) -> Measure | None:
    """The digest, ref targets and minified size of one unit's value; None when the
    document cannot be split for it. ``digest_before`` and ``refs_before``: the same
    unit in an earlier version, whose refs hold when the digest is the same."""
    try:
        text = orjson.dumps(value)
    except TypeError:  # a value JSON cannot hold (a YAML date...): no splitting
        return None
    if _ID_KEY in text:
        return None  # $id moves the base of refs (referencing follows it; units do not)
    digest = hashlib.blake2b(text, digest_size=16).digest()
    if refs_before is not None and digest_before == digest:
        return Measure(digest, refs_before, len(text))
    if _REF_KEY not in text:
        return Measure(digest, frozenset(), len(text))
    found = JSON_REF_BYTES.findall(text)
    if len(found) != text.count(_REF_KEY):
        return None  # a "$ref" key whose value is not a string, or one written oddly
    targets = set()
    for raw in found:
        target = _target(raw)
        if target is None:
            return None
        targets.add(target)
    return Measure(digest, frozenset(targets), len(text))


@functools.lru_cache(maxsize=1 << 16)
def _target(raw: bytes) -> Unit | None:
    ref = orjson.loads(b'"' + raw + b'"')
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return None
    return unit_of(split_pointer(unquote(ref[1:])))


# The last answer of affected(): the lineage of a spec and its validator's memory both
# ask it of the same two versions, one after the other.
_LAST: tuple[Units, Units, frozenset[Unit]] | None = None


def affected(before: Units, now: Units) -> frozenset[Unit]:
    """The units of ``now`` whose work cannot be reused from ``before``: those changed
    (or new), and those that reach a changed, new or removed unit through refs."""
    global _LAST
    last = _LAST
    if last is not None and last[0] is before and last[1] is now:
        return last[2]
    found = _affected(before, now)
    _LAST = (before, now, found)
    return found


def _affected(before: Units, now: Units) -> frozenset[Unit]:
    seeds = [u for u, digest in now.digests.items() if before.digests.get(u) != digest]
    seeds += [u for u in before.digests if u not in now.digests]
    referrers: dict[Unit, list[Unit]] = {}
    for unit, targets in now.refs.items():
        for target in targets:
            referrers.setdefault(target, []).append(unit)
    out: set[Unit] = set()
    pending = list(seeds)
    while pending:
        unit = pending.pop()
        if unit in out:
            continue
        out.add(unit)
        pending.extend(referrers.get(unit, ()))
    return frozenset(u for u in out if u in now.digests)


__all__ = [
    "Measure",
    "Unit",
    "Units",
    "affected",
    "entries",
    "measure",
    "split",
    "unit_at",
    "unit_of",
]
