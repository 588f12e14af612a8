"""What the OpenAPI reader's tests share: files in memory, read as a git revision is;
and versions of a spec as commits make them, one edit after another (a document with
refs, shared schemas and validation issues, and random edits of a real spec)."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


class DictReader:
    """A reader over in-memory files, as a git revision would be; ``reads`` lists what
    was read, in order."""

    def __init__(self, files: dict[str, str] | dict[str, bytes] | dict[str, str | bytes]) -> None:
        self.files = {k: v.encode() if isinstance(v, str) else v for k, v in files.items()}
        self.reads: list[str] = []

    def read(self, relpath: str) -> bytes:
        self.reads.append(relpath)
        try:
            return self.files[relpath]
        except KeyError:
            raise FileNotFoundError(relpath) from None


def schema_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def operation(op_id: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "operationId": op_id,
        "responses": {
            "200": {"description": "ok", "content": {"application/json": {"schema": schema}}}
        },
        **extra,
    }


BASE: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "tags": [{"name": "a"}, {"name": "b"}],
    "paths": {
        # Nested is reached inside a property first: its missing required property is
        # not reported, though components/schemas/Nested is a root of its own later.
        "/first": {"get": operation("first", {"properties": {"n": schema_ref("Nested")}})},
        "/servers/{id}": {
            "parameters": [{"$ref": "#/components/parameters/Id"}],
            "get": operation("show", schema_ref("Alias")),
            "delete": operation("show", {"type": "string", "default": 5}),  # duplicate id
        },
        "/volumes/{vid}": {"get": operation("volumes", {"type": "object"})},  # unresolved
        "/top": {"get": operation("top", schema_ref("Top"))},
    },
    "components": {
        "parameters": {
            "Id": {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
        },
        "schemas": {
            "Alias": schema_ref("Server"),
            "Server": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer", "default": "x"},
                    "kin": schema_ref("Server"),
                },
            },
            "Nested": {"allOf": [{"properties": {"a": {}}}], "required": ["a", "zz"]},
            "Top": {"allOf": [{"properties": {"a": {}}}], "required": ["b"]},
            "Unused": {"type": "string", "default": 1},
        },
    },
}


def edit(change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def apply(doc: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(doc)
        change(out)
        return out

    return apply


def _set(path: list[str], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        node = doc
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


def _drop(path: list[str]) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        node = doc
        for part in path[:-1]:
            node = node[part]
        del node[path[-1]]

    return change


def _reorder(doc: dict[str, Any]) -> None:
    doc["paths"] = dict(reversed(list(doc["paths"].items())))


def _top_first(doc: dict[str, Any]) -> None:
    # Nested is now reached first as a response's own schema: its finding appears.
    doc["paths"] = {"/nested": {"get": operation("nested", schema_ref("Nested"))}, **doc["paths"]}


EDITS = [
    (
        "a default fixed in a shared schema",
        _set(["components", "schemas", "Server", "properties", "id", "default"], 3),
    ),
    (
        "the default broken again",
        _set(["components", "schemas", "Server", "properties", "id", "default"], "y"),
    ),
    (
        "a new path item with a duplicate operationId",
        _set(["paths", "/more"], {"get": operation("first", {"type": "string"})}),
    ),
    ("path items reordered", _reorder),
    ("a schema first reached as a root", _top_first),
    ("the alias points elsewhere", _set(["components", "schemas", "Alias"], schema_ref("Top"))),
    ("a shared parameter changed", _set(["components", "parameters", "Id", "name"], "sid")),
    ("a path item removed", _drop(["paths", "/first"])),
    ("a schema removed with its users", lambda d: _drop(["components", "schemas", "Unused"])(d)),
    ("a tag duplicated", _set(["tags"], [{"name": "a"}, {"name": "a"}])),
    ("a schema that is not an object", _set(["components", "schemas", "Unused2"], 7)),
    (
        "the schema that is not an object referenced",
        _set(["paths", "/odd"], {"get": operation("odd", schema_ref("Unused2"))}),
    ),
    ("nothing changed", lambda d: None),
]


def versions() -> list[tuple[str, dict[str, Any]]]:
    doc = BASE
    out = [("the first version", doc)]
    for name, change in EDITS:
        doc = edit(change)(doc)
        out.append((name, doc))
    return out


CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"


def mutations(doc: dict[str, Any], rng: random.Random) -> Iterator[tuple[str, dict[str, Any]]]:
    """Edits as commits make them, one unit at a time, chosen by ``rng``."""
    for step in range(40):
        doc = copy.deepcopy(doc)
        paths, schemas = doc["paths"], doc["components"]["schemas"]
        kind = rng.choice(["drop-path", "copy-path", "swap-schema", "reorder", "drop-schema"])
        if kind == "drop-path" and len(paths) > 2:
            del paths[rng.choice(list(paths))]
        elif kind == "copy-path":
            url = rng.choice(list(paths))
            paths[f"{url}/copy{step}"] = copy.deepcopy(paths[url])  # duplicate operationIds
        elif kind == "swap-schema":
            a, b = rng.sample(list(schemas), 2)
            schemas[a] = copy.deepcopy(schemas[b])
        elif kind == "reorder":
            items = list(paths.items())
            rng.shuffle(items)
            doc["paths"] = dict(items)
        elif kind == "drop-schema":
            referenced = json.dumps(doc)
            unused = [n for n in schemas if f'"#/components/schemas/{n}"' not in referenced]
            if unused:
                del schemas[rng.choice(unused)]
        yield f"{step}: {kind}", doc
