"""A fast answer to pathable's "is this node subscriptable?", the same answer.

openapi-spec-validator reads the document through jsonschema-path, which asks pathable,
for every step of every path it walks, ``isinstance(node, Subscriptable)`` against a
``runtime_checkable`` Protocol. On Python 3.11 each such check walks the Protocol's
members again (``typing._ProtocolMeta.__instancecheck__``): half a million checks, and
half of the detailed validation's time, on a 1.8 MB spec (``benchmarks/backfill.py``;
0.78 -> 0.39 s CPU for GHES 2.19). :func:`install` points pathable's accessor at
:class:`Subscriptable`, which answers from the node's type the question the Protocol
asks of the node (``__contains__``, ``__getitem__`` and ``__len__``, none of them set
to None), remembered per type: for the values a parsed document holds the answers are
the same (tests/openapi/test_openapi_subscriptable.py checks them against the
Protocol). Python 3.12 made Protocol checks fast; there this costs nothing either.
"""

from __future__ import annotations

import functools
from typing import Any

_MEMBERS = ("__contains__", "__getitem__", "__len__")


@functools.cache
def subscriptable_type(kind: type) -> bool:
    """Whether values of ``kind`` have what pathable's Subscriptable Protocol asks for."""
    return all(getattr(kind, name, None) is not None for name in _MEMBERS)


class _ByType(type):
    def __instancecheck__(cls, instance: Any) -> bool:
        return subscriptable_type(type(instance))


class Subscriptable(metaclass=_ByType):
    """``isinstance(node, Subscriptable)``: pathable's Protocol check, by the node's type."""


def install() -> None:
    """Make pathable's accessors use :class:`Subscriptable` (idempotent). pathable reads
    the name from its ``accessors`` module when it checks a node; a pathable without it
    is left as it is (slower, never wrong)."""
    from pathable import accessors

    if hasattr(accessors, "Subscriptable"):
        accessors.Subscriptable = Subscriptable  # type: ignore[misc,assignment]


__all__ = ["Subscriptable", "install", "subscriptable_type"]
