"""The versions of a spec file that a process reads one after the other (``govbot
backfill`` walks hundreds of versions of one 1-2 MB spec, each a small edit of the one
before), and what the next version can take from the last.

Within :func:`remembering`, the reader first asks :func:`reparse` for the new version
made from the last by parsing only the bytes that changed (:mod:`govbot.openapi.splice`);
when that cannot be done it parses the text whole and hands the document to
:func:`follow`. Where one of its units (:mod:`govbot.openapi.units`) is byte for
byte the last version's, the new document takes the last version's object in its
place, so that equal content is the same object; the units that neither changed nor
reach a change through refs are stable, and the spec gets a
:class:`~govbot.surface.Lineage` naming the last version and them. The stages that work
per unit (the operations, the consistency index) then take the last version's work for
the stable units as it is. The memory is the process's and sound for any caller: a unit
is shared, and its work reused, only where its content is the same.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from govbot.openapi import validate
from govbot.openapi.splice import Layout, minified_layout, splice
from govbot.openapi.units import Unit, Units, affected, split, unit_at
from govbot.surface import Lineage, Spec, set_lineage

# The last version read of each file (a few: a backfill walks one spec at a time); None
# outside remembering() and remember().
_HISTORY: dict[str, _Version] | None = None
HISTORY_SPECS = 8


@dataclass(frozen=True)
class _Version:
    units: Units
    data: dict[str, Any]
    spec: Spec | None = None
    raw: bytes | None = None  # the text, when it is the whole of the document
    layout: Layout | None = None


@dataclass(frozen=True)
class Followed:
    """A document handed to :func:`follow` (or made by :func:`reparse`): its units, and
    the last version's spec with the units that are stable since (none without a last
    version); ``raw``, its text (if the next version may be spliced from it), with
    ``layout`` when a splice made it and ``refs``, every $ref string of the text."""

    file: str
    units: Units
    data: dict[str, Any]
    previous: Spec | None
    stable: frozenset[Unit]
    raw: bytes | None = None
    layout: Layout | None = None
    refs: tuple[str, ...] = ()


def follow(file: str, data: Any, raw: bytes | None = None) -> Followed | None:
    """Split a freshly parsed JSON document into units and share the last version's
    objects where a unit is unchanged; None when nothing is remembered, or the document
    does not split. ``raw``: the text parsed, kept for splicing the next version."""
    history = _HISTORY  # read once: another thread may stop remembering meanwhile
    if history is None:
        return None
    last = history.get(file)
    units = split(data, last.units if last is not None else None)
    if units is None:
        return None
    if last is None:
        return Followed(file, units, data, None, frozenset(), raw)
    _share(data, last, units)
    stable = frozenset(units.digests.keys() - affected(last.units, units))
    return Followed(file, units, data, last.spec, stable, raw)


def reparse(file: str, raw: bytes) -> Followed | None:
    """The version ``raw`` of a JSON document read before, made from the last version
    by parsing only the members that changed (:mod:`govbot.openapi.splice`); None when
    nothing is remembered of the file or the change does not allow it (parse it whole)."""
    history = _HISTORY
    last = history.get(file) if history is not None else None
    if last is None or last.raw is None:
        return None
    layout = last.layout or _minified(file, last)
    if layout is None:
        return None
    spliced = splice(last.raw, last.data, last.units, layout, raw)
    if spliced is None:
        return None
    stable = frozenset(spliced.units.digests.keys() - affected(last.units, spliced.units))
    return Followed(
        file, spliced.units, spliced.data, last.spec, stable, raw, spliced.layout, spliced.refs
    )


def _minified(file: str, last: _Version) -> Layout | None:
    """The layout of a version parsed whole, when its text is orjson's minified JSON."""
    lines = last.spec.lines.get(file) if last.spec is not None else None
    serialized = getattr(lines, "serialized", None)
    text = serialized() if serialized is not None else None
    if text is None or text[1:2] == b"\n" or last.raw is None:
        return None  # not a serializer's text, or its indented layout
    return minified_layout(last.raw, last.data, last.units)


def _share(data: dict[str, Any], last: _Version, units: Units) -> None:
    """Put the last version's object of each unchanged unit in its place."""
    before, digests = last.data, last.units.digests
    for unit, digest in units.digests.items():
        if digests.get(unit) != digest:
            continue
        if len(unit) == 1:  # a top-level member
            data[unit[0]] = before[unit[0]]
        elif len(unit) == 2:  # a path item
            data["paths"][unit[1]] = before["paths"][unit[1]]
        else:  # a component
            data["components"][unit[1]][unit[2]] = before["components"][unit[1]][unit[2]]


def keep(followed: Followed, spec: Spec) -> None:
    """Give ``spec`` its lineage, and remember it as the last version of its file."""
    history = _HISTORY
    if history is None:
        return
    if followed.previous is not None:
        set_lineage(followed.previous, None)  # one step back is all that is used
        if followed.stable:
            set_lineage(spec, Lineage(followed.previous, followed.stable, unit_at))
    history.pop(followed.file, None)
    while len(history) >= HISTORY_SPECS:
        history.pop(next(iter(history)), None)
    history[followed.file] = _Version(
        followed.units, followed.data, spec, followed.raw, followed.layout
    )


@contextlib.contextmanager
def remembering() -> Iterator[None]:
    """Within this, the versions of a spec read one after the other share what they
    have in common (and the validator's detailed checks are remembered unit by unit);
    all of it forgotten after."""
    global _HISTORY
    previous, _HISTORY = _HISTORY, {}
    try:
        with validate.remembering():
            yield
    finally:
        _HISTORY = previous


def remember() -> None:
    """Remember from now on, for the life of the process (a backfill worker's)."""
    global _HISTORY
    if _HISTORY is None:
        _HISTORY = {}
    validate.remember()


__all__ = ["HISTORY_SPECS", "Followed", "follow", "keep", "remember", "remembering", "reparse"]
