"""Which elements of a spec a change added or changed: the scope of a finding by element.

A finding is about one element of the head spec (a field, a parameter, a response, an
operation: the node at its pointer, or the node the rule looked at). It is **new** when
that element has no counterpart in the base, **changed** when its counterpart differs,
and **existing** otherwise, however much else of the same operation the change touched:
adding one field to a create request does not make the old debt of that request new.

Counterparts are found along the pointer, with the few places where a pointer is not a
stable identity made stable: a path key matches its base path with the parameter names
ignored (``/servers/{id}`` == ``/servers/{server_id}``, as :mod:`govbot.diff` matches
operations), and an array item matches by what it is (a parameter by ``in`` and
``name``, a ``$ref`` by its target, a scalar by its value), not by its index, so a
parameter inserted before others does not "change" them.

An element differs when its own keywords differ: scalars and lists of scalars
(``type``, ``format``, ``required``, ``enum``, ``description``, ``$ref``...), plus those
of the schema a ``$ref`` points to; nested objects (``properties``, ``content``,
``responses``) are elements of their own, so a new sibling field changes neither the
object that holds it nor its other fields. Name rules ask only whether the name existed.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from govbot.findings import Scope
from govbot.surface import Spec, is_mapping, normalize_path, split

_MISSING = object()


def _identity(item: Any) -> tuple[Any, ...] | None:
    """What an array item is, independent of its index (None: only its index says)."""
    if isinstance(item, Mapping):
        name, where = item.get("name"), item.get("in")
        if isinstance(name, str) and isinstance(where, str):
            return ("parameter", where, name)
        ref = item.get("$ref")
        if isinstance(ref, str) and len(item) == 1:
            return ("ref", ref)
        return None
    if isinstance(item, (str, int, float, bool)) or item is None:
        return ("value", item)
    return None


def _shallow(value: Any) -> Any:
    """The element's own keywords: scalars and lists of scalars, not nested objects."""
    if not isinstance(value, Mapping):
        return value
    out = {}
    for k, v in value.items():
        if isinstance(v, Mapping):
            continue
        if isinstance(v, list) and any(isinstance(x, (Mapping, list)) for x in v):
            continue
        out[k] = v
    return out


class ElementScope:
    """New, changed or existing, per element of ``head`` against ``base``.

    Without a base every element is new (a spec checked on its own is all new surface).
    Lookups are memoised per (file, pointer, kind): one walk per element however many
    findings are about it.
    """

    def __init__(self, head: Spec, base: Spec | None) -> None:
        self.head = head
        self.base = base
        self._memo: dict[tuple[str, str, tuple[str, ...] | None], Scope] = {}
        self._lists: dict[int, dict[tuple[Any, ...], Any]] = {}
        self._paths: dict[int, dict[str, str]] = {}

    def of(self, file: str, pointer: str, *, keys: tuple[str, ...] | None = None) -> Scope:
        """The scope of the element at ``pointer`` of ``file`` (a file of the head).

        ``keys`` names the keywords the rule looked at (``()``: only whether the element
        existed, for a name); None compares all of the element's own keywords.
        """
        if self.base is None:
            return Scope.NEW
        key = (file, pointer, keys)
        found = self._memo.get(key)
        if found is None:
            found = self._scope(file, pointer, keys)
            self._memo[key] = found
        return found

    def _scope(self, file: str, pointer: str, keys: tuple[str, ...] | None) -> Scope:
        head_doc = self._document(self.head, file)
        base_doc = self._document(self.base, self._base_file(file))
        if head_doc is _MISSING:
            return Scope.NEW
        if base_doc is _MISSING:
            return Scope.NEW
        head_value, base_value = self._walk(head_doc, base_doc, split(pointer))
        if base_value is _MISSING:
            return Scope.NEW
        if keys is not None or head_value is _MISSING:
            if not keys or not isinstance(head_value, Mapping):
                return Scope.EXISTING
            old = base_value if isinstance(base_value, Mapping) else {}
            same = all(head_value.get(k) == old.get(k) for k in keys)
            return Scope.EXISTING if same else Scope.CHANGED
        if _shallow(head_value) != _shallow(base_value):
            return Scope.CHANGED
        if self._target(self.head, file, head_value) != self._target(
            self.base, self._base_file(file), base_value
        ):
            return Scope.CHANGED
        return Scope.EXISTING

    # --- finding the counterpart ------------------------------------------------------

    @staticmethod
    def _document(spec: Spec | None, file: str | None) -> Any:
        if spec is None or file is None:
            return _MISSING
        if file in spec.documents:
            return spec.documents[file]
        if file == spec.file and spec.data is not None:
            return spec.data
        return _MISSING

    def _base_file(self, file: str) -> str | None:
        """The base's name for a file of the head (the root file, else the same path)."""
        assert self.base is not None
        if file == self.head.file:
            return self.base.file
        if file in self.base.documents:
            return file
        # The same path relative to the root spec (base and head may live apart).
        rel = posixpath.relpath(file, posixpath.dirname(self.head.file) or ".")
        return posixpath.normpath(posixpath.join(posixpath.dirname(self.base.file), rel))

    def _walk(self, head: Any, base: Any, tokens: list[str]) -> tuple[Any, Any]:
        for depth, token in enumerate(tokens):
            if isinstance(head, list):
                try:
                    index = int(token)
                    item = head[index]
                except (ValueError, IndexError):
                    return _MISSING, _MISSING
                base = self._list_item(base, item, index)
                head = item
            elif is_mapping(head):
                if token not in head:
                    return _MISSING, _MISSING
                item = head[token]
                if not is_mapping(base):
                    base = _MISSING
                elif token in base:
                    base = base[token]
                elif depth == 1 and tokens[0] == "paths":
                    key = self._path_keys(base).get(normalize_path(token))
                    base = base[key] if key is not None else _MISSING
                else:
                    base = _MISSING
                head = item
            else:
                return _MISSING, _MISSING
            if base is _MISSING:
                return head, _MISSING
        return head, base

    def _list_item(self, base: Any, item: Any, index: int) -> Any:
        if not isinstance(base, list):
            return _MISSING
        identity = _identity(item)
        if identity is None:
            return base[index] if index < len(base) else _MISSING
        table = self._lists.get(id(base))
        if table is None:
            table = {}
            for candidate in base:
                key = _identity(candidate)
                if key is not None:
                    table.setdefault(key, candidate)
            self._lists[id(base)] = table
        return table.get(identity, _MISSING)

    def _path_keys(self, paths: Mapping[str, Any]) -> dict[str, str]:
        table = self._paths.get(id(paths))
        if table is None:
            table = {}
            for key in paths:
                if isinstance(key, str):
                    table.setdefault(normalize_path(key), key)
            self._paths[id(paths)] = table
        return table

    @staticmethod
    def _target(spec: Spec, file: str | None, value: Any) -> Any:
        """The own keywords of the schema a ``$ref`` value points to (None: not a ref)."""
        if file is None or not isinstance(value, Mapping) or "$ref" not in value:
            return None
        ref = value["$ref"]
        if not isinstance(ref, str):
            return None
        target = spec.refs.get((file, ref))
        if target is None:
            return None
        doc = spec.documents.get(target[0])
        node: Any = doc
        for token in split(target[1]):
            try:
                node = node[int(token)] if isinstance(node, list) else node[token]
            except (KeyError, IndexError, TypeError, ValueError):
                return None
        return _shallow(node)
