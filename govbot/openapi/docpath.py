"""The loaded documents as openapi-spec-validator reads them, without the cost of reading.

openapi-spec-validator walks a document through jsonschema-path's ``SchemaPath``: every
``in`` test, every ``/`` and every read resolves the path again from its longest cached
prefix through ``referencing`` (2.7 million accessor calls, two thirds of the detailed
validation, on 40 commits of a 1.8 MB spec: ``benchmarks/backfill.py``). The loader has
resolved every ``$ref`` already (``Spec.refs``), so :class:`DocumentPath` answers the
same questions from the parsed documents: a path resolves once, when first read, by
following its parent's value and then the ``$ref`` chain of what it lands on, exactly
where jsonschema-path would follow them (a ``dict`` whose ``$ref`` is a string, its
siblings ignored), and lands on the same objects, so the validator's "seen this schema"
bookkeeping (by ``id``) sees the same schemas.

Only what the validator uses is here. What this cannot answer the same way raises
:class:`Unanswerable`, and the caller runs the validator as the library drives itself:
a ``$ref`` the loader did not resolve, a document that sets ``$id`` (``referencing``
would change the base URI there), a ``$ref`` loop. A schema whose ``default`` is checked
is handed to jsonschema-path itself (``resolve()``: the value validator needs its
``referencing`` resolver to follow refs inside the schema).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from govbot.openapi.subscriptable import subscriptable_type
from govbot.surface import get_pointer, join

_NOTSET: Any = object()
MAX_HOPS = 64  # a longer $ref chain is a loop the loader would have refused


class Unanswerable(Exception):
    """The documents hold something :class:`DocumentPath` does not read as jsonschema-path does."""


class Documents:
    """The loaded documents of one spec, the loader's resolution of their refs, and the
    jsonschema-path ``SchemaPath`` of the root (for what must go through it)."""

    __slots__ = ("documents", "library_root", "refs", "root_file")

    def __init__(
        self,
        documents: Mapping[str, Any],
        refs: Mapping[tuple[str, str], tuple[str, str]],
        root_file: str,
        library_root: Any,
    ) -> None:
        self.documents = documents
        self.refs = refs
        self.root_file = root_file
        self.library_root = library_root

    def follow(self, node: Any, file: str) -> tuple[Any, str, tuple[str, str] | None]:
        """``node`` (in ``file``) with its ``$ref`` chain followed, the file it lands in,
        and where the last ``$ref`` led (None: no ``$ref``)."""
        hops = 0
        target = None
        while isinstance(node, dict) and "$ref" in node and isinstance(node["$ref"], str):
            target = self.refs.get((file, node["$ref"]))
            if target is None or hops >= MAX_HOPS:
                raise Unanswerable(f"{file}: $ref {node['$ref']!r} is not resolved by the loader")
            file, pointer = target
            try:
                node = get_pointer(self.documents[file], pointer)
            except (KeyError, IndexError, TypeError, ValueError):
                raise Unanswerable(f"{file}: {pointer!r} does not resolve") from None
            hops += 1
        return node, file, target


def sets_ids(documents: Mapping[str, Any]) -> bool:
    """Whether any document may set ``$id`` (a string ``"$id"`` anywhere counts: a false
    alarm only costs the slower reading)."""
    import orjson

    for data in documents.values():
        try:
            text = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
        except TypeError:
            return True  # a value orjson cannot write: let the library read it
        if b'"$id"' in text:
            return True
    return False


def _subnode(node: Any, key: Any) -> Any:
    # pathable's SubscriptableAccessor._get_subnode: one step, every failure a KeyError.
    if not subscriptable_type(type(node)):
        raise KeyError(key)
    try:
        return node[key]
    except (KeyError, IndexError, TypeError) as exc:
        raise KeyError(key) from exc


class DocumentPath:
    """A path through the documents, refs followed, read the way openapi-spec-validator
    reads a jsonschema-path ``SchemaPath``; ``parts`` is that path."""

    __slots__ = ("_docs", "_file", "_key", "_node", "_parent", "_target", "_where", "parts")

    def __init__(
        self,
        docs: Documents,
        parts: tuple[Any, ...] = (),
        parent: DocumentPath | None = None,
        key: Any = None,
    ) -> None:
        self._docs = docs
        self.parts = parts
        self._parent = parent
        self._key = key
        self._node: Any = _NOTSET
        self._file = ""
        self._target: tuple[str, str] | None = None
        self._where: tuple[str, str] | None = None

    @classmethod
    def root(cls, docs: Documents) -> DocumentPath:
        return cls(docs)

    def _resolved(self) -> tuple[Any, str]:
        """The value here (refs followed) and its file; KeyError when there is none."""
        if self._node is not _NOTSET:
            return self._node, self._file
        parent = self._parent
        if parent is None and self.parts:  # a path made from parts alone: walk them
            walked = DocumentPath(self._docs)
            for part in self.parts:
                walked = walked / part
            self._parent, self._key = walked._parent, walked._key
            parent = self._parent
        if parent is None:
            docs = self._docs
            node, file, target = docs.follow(docs.documents[docs.root_file], docs.root_file)
        else:
            parent_node, parent_file = parent._resolved()
            node, file, target = self._docs.follow(_subnode(parent_node, self._key), parent_file)
        self._node, self._file, self._target = node, file, target
        return node, file

    def where(self) -> tuple[str, str]:
        """The file and JSON pointer of the value here, refs followed: where it is written."""
        if self._where is None:
            self._resolved()
            if self._target is not None:
                self._where = self._target
            elif self._parent is None:
                self._where = (self._docs.root_file, "")
            else:
                file, pointer = self._parent.where()
                self._where = (file, join(pointer, self._key))
        return self._where

    def site(self) -> tuple[str, str]:
        """Where the value here is written before its own ``$ref`` is followed: where an
        error about the value as a whole is reported (as :func:`~govbot.openapi.validate.locate`
        places it)."""
        if self._parent is None and self.parts:
            self._resolved()
        if self._parent is None:
            return self._docs.root_file, ""
        file, pointer = self._parent.where()
        return file, join(pointer, self._key)

    def __truediv__(self, key: Any) -> DocumentPath:
        return DocumentPath(self._docs, (*self.parts, key), self, key)

    def __contains__(self, key: Any) -> bool:
        try:
            node = self._resolved()[0]
        except (KeyError, IndexError, TypeError):
            return False
        if isinstance(node, dict):
            return key in node
        if isinstance(node, list):
            return isinstance(key, int) and 0 <= key < len(node)
        return False

    def keys(self) -> Sequence[Any]:
        node = self._resolved()[0]
        if isinstance(node, dict):
            return node.keys()  # type: ignore[return-value]
        if isinstance(node, list):
            return range(len(node))
        raise KeyError(self.parts[-1]) if self.parts else KeyError()

    def __iter__(self) -> Iterator[DocumentPath]:
        for key in self.keys():
            yield self / key

    def items(self) -> Iterator[tuple[Any, DocumentPath]]:
        for key in self.keys():
            yield key, self / key

    def read_value(self) -> Any:
        return self._resolved()[0]

    def read_str(self, default: Any = _NOTSET) -> Any:
        try:
            value = self.read_value()
        except KeyError:
            if default is not _NOTSET:
                return default
            raise
        if not isinstance(value, str):
            raise TypeError(f"Expected a string value, got {type(value)}")
        return value

    def __getitem__(self, key: Any) -> Any:
        child = _subnode(self._resolved()[0], key)  # not followed, as pathable reads it
        if isinstance(child, Mapping | list):
            return self / key
        return child

    def _clone_with_parts(self, parts: tuple[Any, ...]) -> DocumentPath:
        return DocumentPath(self._docs, tuple(parts))

    def library_path(self) -> Any:
        """The same path as a jsonschema-path ``SchemaPath``."""
        return self._docs.library_root._clone_with_parts(self.parts)

    @contextmanager
    def resolve(self) -> Iterator[Any]:
        with self.library_path().resolve() as resolved:
            yield resolved

    @contextmanager
    def open(self) -> Iterator[Any]:
        with self.library_path().resolve() as resolved:
            yield resolved.contents

    def __repr__(self) -> str:
        return f"DocumentPath({'#'.join(str(p) for p in self.parts)!r})"


__all__ = ["DocumentPath", "Documents", "Unanswerable", "sets_ids"]
