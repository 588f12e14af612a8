"""The surface model of an api-ref tree: an OpenAPI-3-shaped document built in memory.

So that every rule, the diff and the audience classifier read an api-ref API exactly as
they read an OpenAPI one, the facts become three kinds of in-memory documents:

* the root (keyed by the tree's directory): ``paths`` whose operations are ``$ref``s;
* one per ``.inc`` / ``.rst`` file: ``/operations/<METHOD path (action)>``, each an
  OpenAPI operation whose request parameters are ``$ref``s to the parameters file and
  whose bodies list their fields as properties ``$ref``-ing it too;
* one per parameters file: ``/<entry key>/<name used>``, an OpenAPI parameter object
  (its ``schema`` is the field schema of body parameters).

Every node therefore carries the real file, and each document's line lookup maps its
pointers to real lines: an operation to its ``rest_method`` line, a status code to its
line, a parameter to its entry in ``parameters.yaml`` (its ``schema`` to the ``type:``
line, its window to ``min_version:``). Nothing here is validated as OpenAPI: the
document is built to the shape, not parsed.

A server-style action ``POST /servers/{server_id}/action`` with body key ``reboot`` is
its own path item, marked ``x-govbot-path`` / ``x-govbot-action``, so that the model
gives it its own identity ("POST /servers/{}/action (reboot)") while its path stays the
real one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from govbot.apiref.facts import ApiOperation, ApiRef, ParamUse
from govbot.apiref.surface import Dialect, LineLookup, Spec, escape

OPENAPI_VERSION = "3.1.0"
# How an api-ref writer marks what the rules ask for. os-api-ref has no field for a
# sunset date: OpenStack deprecates for at least a release, then removes.
API_REF = Dialect(
    "api-ref",
    "mark it deprecated in the api-ref (a `.. warning::` saying that it is deprecated, "
    '"(DEPRECATED)" in its title, or its file under a "Deprecated APIs" part of '
    "index.rst)",
    "`max_version`",
    sunset=False,
    version_field=None,
)
JSON = "application/json"
_FIELD_OF = {
    "schema": "type",
    "required": "required",
    "in": "in",
    "description": "description",
    "x-openstack": "min_version",
}


def _lookup(table: Mapping[str, int], fallback: int | None = None) -> LineLookup:
    def lookup(pointer: str) -> int | None:
        return table.get(pointer, fallback if not pointer else None)

    return lookup


class _Builder:
    def __init__(self, api: ApiRef, version: str | None) -> None:
        self.api = api
        self.root_file = api.directory
        self.version = version
        self.documents: dict[str, Any] = {}
        self.lines: dict[str, dict[str, int]] = {}
        self.refs: dict[tuple[str, str], tuple[str, str]] = {}

    def doc(self, file: str, empty: Any) -> Any:
        if file not in self.documents:
            self.documents[file] = empty
            self.lines[file] = {}
        return self.documents[file]

    def ref(self, source: str, target: str, pointer: str) -> dict[str, str]:
        text = f"{target}#{pointer}"
        self.refs[(source, text)] = (target, pointer)
        return {"$ref": text}

    def line(self, file: str, pointer: str, line: int) -> None:
        self.lines[file].setdefault(pointer, line)

    # -- parameters --------------------------------------------------------------------

    def parameter(self, p: ParamUse) -> str:
        """The pointer of the parameter object for ``p`` in its parameters file view."""
        file = p.definition.file
        view = self.doc(file, {})
        pointer = f"/{escape(p.key)}/{escape(p.name)}"
        entry = view.setdefault(p.key, {})
        if p.name not in entry:
            entry[p.name] = _param_object(p)
            fields = dict(p.field_lines)
            self.line(file, f"/{escape(p.key)}", p.definition.line)
            self.line(file, pointer, p.definition.line)
            for token, field in _FIELD_OF.items():
                if field in fields:
                    self.line(file, f"{pointer}/{token}", fields[field])
            if "max_version" in fields and "min_version" not in fields:
                self.line(file, f"{pointer}/x-openstack", fields["max_version"])
            if "type" in fields:
                self.line(file, f"{pointer}/schema/type", fields["type"])
        return pointer

    # -- operations --------------------------------------------------------------------

    def operation(self, op: ApiOperation) -> tuple[str, str]:
        file = op.where.file
        view = self.doc(file, {"operations": {}})
        name = op.label
        pointer = f"/operations/{escape(name)}"
        self.line(file, pointer, op.where.line)
        self.line(file, f"{pointer}/x-openstack", op.where.line)
        value: dict[str, Any] = {"summary": op.title}
        if op.description:
            value["description"] = op.description
        if op.page:
            value["tags"] = [op.page]
        if op.deprecated:
            value["deprecated"] = True
        if op.experimental:
            value["x-experimental"] = True
        window = _window(op.min_version, op.max_version)
        if window:
            value["x-openstack"] = window
        if op.internal:
            # The api-ref's own "Internal Service APIs" part: an explicit marker.
            value["x-audience"] = "internal"
        value["x-api-ref"] = {
            "title": op.title,
            "marks": sorted({m.kind for m in op.marks}),
            **({"query": op.query} if op.query else {}),
        }
        params = [p for p in op.parameters if p.direction == "request" and p.location != "body"]
        if params:
            value["parameters"] = []
            for i, p in enumerate(params):
                target = self.parameter(p)
                value["parameters"].append(self.ref(file, p.definition.file, target))
                self.line(file, f"{pointer}/parameters/{i}", p.use.line)
        body = [p for p in op.parameters if p.direction == "request" and p.location == "body"]
        if body:
            at = f"{pointer}/requestBody"
            value["requestBody"] = {
                "required": any(p.required for p in body),
                "content": {
                    JSON: {
                        "schema": self.body_schema(
                            file, f"{at}/content/{escape(JSON)}/schema", body
                        )
                    }
                },
            }
            self.line(file, at, body[0].use.line)
        value["responses"] = self.responses(file, pointer, op)
        view["operations"][name] = value
        return file, pointer

    def body_schema(self, file: str, at: str, params: list[ParamUse]) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        required: list[str] = []
        for p in params:
            if p.name in properties:
                continue
            target = self.parameter(p)
            properties[p.name] = self.ref(file, p.definition.file, f"{target}/schema")
            self.line(file, f"{at}/properties/{escape(p.name)}", p.use.line)
            if p.required:
                required.append(p.name)
        self.line(file, at, params[0].use.line)
        schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            schema["required"] = required
        return schema

    def responses(self, file: str, pointer: str, op: ApiOperation) -> dict[str, Any]:
        out: dict[str, Any] = {}
        body = [p for p in op.parameters if p.direction == "response" and p.location == "body"]
        headers = [p for p in op.parameters if p.direction == "response" and p.location == "header"]
        for status in op.statuses:
            at = f"{pointer}/responses/{status.code}"
            response: dict[str, Any] = {"description": status.description}
            if status.kind == "success" and body:
                schema_at = f"{at}/content/{escape(JSON)}/schema"
                response["content"] = {JSON: {"schema": self.body_schema(file, schema_at, body)}}
            if status.kind == "success" and headers:
                response["headers"] = {}
                for p in headers:
                    target = self.parameter(p)
                    response["headers"][p.name] = self.ref(file, p.definition.file, target)
                    self.line(file, f"{at}/headers/{escape(p.name)}", p.use.line)
            out[status.code] = response
            self.line(file, at, status.where.line)
        return out

    # -- the root ----------------------------------------------------------------------

    def build(self) -> Spec:
        api = self.api
        paths: dict[str, Any] = {}
        for op in api.operations:
            file, pointer = self.operation(op)
            key = f"{op.path} ({op.action})" if op.action else op.path
            item = paths.setdefault(key, {})
            if op.action:
                item["x-govbot-path"] = op.path
                item["x-govbot-action"] = op.action
            item[op.method.lower()] = self.ref(self.root_file, file, pointer)
        info: dict[str, Any] = {"title": api.title or api.directory}
        if self.version:
            info["version"] = self.version
        root: dict[str, Any] = {
            "openapi": OPENAPI_VERSION,
            "info": info,
            "paths": paths,
            "x-api-ref": {
                "operations": len(api.operations),
                "obsolete": [op.label for op in api.obsolete],
                "skipped": api.skipped_counts(),
            },
        }
        tags = [{"name": page, "description": text} for page, text in api.page_texts.items()]
        if tags:
            root["tags"] = tags
        documents = {self.root_file: root, **self.documents}
        lines: dict[str, LineLookup] = {self.root_file: _lookup({}, None)}
        for file, table in self.lines.items():
            lines[file] = _lookup(table, 1)
        return Spec(
            file=self.root_file,
            data=root,
            version="3.1",
            documents=documents,
            refs=self.refs,
            lines=lines,
            dialect=API_REF,
        )


def _window(min_version: str, max_version: str) -> dict[str, str]:
    out = {}
    if min_version:
        out["min-ver"] = min_version
    if max_version:
        out["max-ver"] = max_version
    return out


def _param_object(p: ParamUse) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    if p.json_type is not None:
        schema["type"] = p.json_type
    if p.format:
        schema["format"] = p.format
    value: dict[str, Any] = {
        "name": p.name,
        "in": p.location,
        "required": p.required,
        "description": p.description,
    }
    window = _window(p.min_version, p.max_version)
    if window:
        value["x-openstack"] = window
    if p.location == "body":
        # A body parameter is a field: its schema carries what the field diff compares.
        if p.description:
            schema["description"] = p.description
        if window:
            schema["x-openstack"] = window
    value["schema"] = schema
    return value


def to_spec(api: ApiRef, *, version: str | None = None) -> Spec:
    """The surface model of ``api``; ``version`` (the ledger's maximum microversion)
    becomes ``info.version``, which the microversion rules compare."""
    return _Builder(api, version).build()
