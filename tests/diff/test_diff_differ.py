"""The structural diff: what it matches, what it reports, and where each change points."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from govbot.diff import SpecDiff, diff_specs, security_alternatives
from govbot.openapi.load import load_spec
from govbot.surface import Spec


def spec(tmp_path: Path, name: str, text: str) -> Spec:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    loaded = load_spec(path, validate=False)
    assert loaded.ok, loaded.problems
    return loaded


def diff(tmp_path: Path, base: str, head: str) -> SpecDiff:
    return diff_specs(spec(tmp_path, "base.yaml", base), spec(tmp_path, "head.yaml", head))


OAS = """\
openapi: 3.0.3
info:
  title: t
  version: '1.0'
"""


def test_identical_specs_have_no_changes(tmp_path: Path) -> None:
    """A spec diffed with itself is empty and every operation counts as unchanged."""
    text = (
        OAS
        + """\
paths:
  /servers:
    get:
      responses: {'200': {description: OK}}
    post:
      responses: {'201': {description: OK}}
"""
    )
    d = diff(tmp_path, text, text)
    assert d.empty
    assert d.unchanged == 2
    assert d.touched == frozenset()


def test_path_parameter_and_trailing_slash_renames_are_not_removals(tmp_path: Path) -> None:
    """`{id}` -> `{server_id}` and `/x/` -> `/x` pair up as renames, recorded as such."""
    base = (
        OAS
        + """\
paths:
  /servers/:
    get:
      responses: {'200': {description: OK}}
  /servers/{id}:
    delete:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {'204': {description: OK}}
"""
    )
    head = (
        OAS
        + """\
paths:
  /servers:
    get:
      responses: {'200': {description: OK}}
  /servers/{server_id}:
    delete:
      parameters: [{name: server_id, in: path, required: true, schema: {type: string}}]
      responses: {'204': {description: OK}}
"""
    )
    d = diff(tmp_path, base, head)
    assert not d.removed and not d.added
    assert set(d.renamed_paths) == {
        ("/servers/", "/servers"),
        ("/servers/{id}", "/servers/{server_id}"),
    }
    renamed = {o.key: o for o in d.changed}
    assert renamed["DELETE /servers/{}"].renamed
    assert renamed["DELETE /servers/{}"].change("path").new == "/servers/{server_id}"
    # The path parameter matched by position: its new name is not a parameter change.
    assert renamed["DELETE /servers/{}"].parameters == ()
    assert d.touched == {"GET /servers", "DELETE /servers/{}"}


def test_removed_and_added_operations_keep_their_own_side(tmp_path: Path) -> None:
    """A removal carries the base operation (base file, base pointer); an addition the head's."""
    base = (
        OAS
        + """\
paths:
  /a:
    get:
      responses: {'200': {description: OK}}
"""
    )
    head = (
        OAS
        + """\
paths:
  /b:
    get:
      responses: {'200': {description: OK}}
"""
    )
    d = diff(tmp_path, base, head)
    (removed,) = d.removed
    (added,) = d.added
    assert removed.base is not None and removed.head is None
    assert (removed.base.node.file, removed.base.node.pointer) == ("base.yaml", "/paths/~1a/get")
    assert added.head is not None and added.head.node.file == "head.yaml"
    assert d.touched == {"GET /b"}


def test_ref_and_inline_schemas_compare_by_content(tmp_path: Path) -> None:
    """Moving an inline schema into components (same content) is no change."""
    base = (
        OAS
        + """\
paths:
  /servers:
    get:
      parameters:
        - {name: limit, in: query, schema: {type: integer}}
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                type: object
                required: [id]
                properties:
                  id: {type: string}
                  tags: {type: array, items: {type: string}}
"""
    )
    head = (
        OAS
        + """\
paths:
  /servers:
    get:
      parameters:
        - $ref: '#/components/parameters/limit'
      responses:
        '200':
          $ref: '#/components/responses/Servers'
components:
  parameters:
    limit: {name: limit, in: query, schema: {$ref: '#/components/schemas/Limit'}}
  responses:
    Servers:
      description: OK
      content:
        application/json:
          schema: {$ref: '#/components/schemas/Server'}
  schemas:
    Limit: {type: integer}
    Server:
      type: object
      required: [id]
      properties:
        id: {type: string}
        tags: {type: array, items: {$ref: '#/components/schemas/Tag'}}
    Tag: {type: string}
"""
    )
    d = diff(tmp_path, base, head)
    assert d.empty, d.changed
    assert d.unchanged == 1


def test_a_changed_component_behind_an_unchanged_ref_is_found(tmp_path: Path) -> None:
    """Raw-equal operations still differ when a component they reach (even via a chain) changed."""
    template = (
        OAS
        + """\
paths:
  /servers:
    get:
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema: {{$ref: '#/components/schemas/Servers'}}
components:
  schemas:
    Servers:
      type: object
      properties:
        servers: {{type: array, items: {{$ref: '#/components/schemas/Server'}}}}
    Server:
      type: object
      properties:
        id: {{type: {id_type}}}
"""
    )
    d = diff(tmp_path, template.format(id_type="integer"), template.format(id_type="string"))
    (op,) = d.changed
    ((direction, body, schema, field),) = list(op.fields())
    assert (direction, body.status, schema.media_type) == ("response", "200", "application/json")
    assert field.path == "servers[].id"
    assert field.change("type").old == "integer" and field.change("type").new == "string"
    assert field.head is not None
    assert field.head.pointer == "/components/schemas/Server/properties/id"
    assert field.base is not None and field.base.file == "base.yaml"


RECURSIVE = (
    OAS
    + """\
paths:
  /trees:
    get:
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema: {{$ref: '#/components/schemas/Node'}}
components:
  schemas:
    Node:
      type: object
      properties:
        name: {{type: string}}
        parent: {{$ref: '#/components/schemas/Node'}}
        children:
          type: array
          items: {{$ref: '#/components/schemas/Node'}}
        {extra}
"""
)


def test_recursive_schemas_diff_once_and_terminate(tmp_path: Path) -> None:
    """A self-referencing schema is compared once per (base, head) pair of definitions."""
    same = RECURSIVE.format(extra="")
    assert diff(tmp_path, same, same).empty
    d = diff(tmp_path, same, RECURSIVE.format(extra="size: {type: integer}"))
    (op,) = d.changed
    paths = [(f.path, f.kind) for _, _, _, f in op.fields()]
    assert paths == [("size", "added")]


def test_nested_fields_added_removed_and_required(tmp_path: Path) -> None:
    """Changes deep inside objects and arrays get dotted paths; a new object is one addition."""
    base = (
        OAS
        + """\
paths:
  /servers:
    post:
      requestBody:
        required: false
        content:
          application/json:
            schema:
              type: object
              properties:
                server:
                  type: object
                  required: [name]
                  properties:
                    name: {type: string}
                    flavor:
                      type: object
                      properties:
                        id: {type: string}
                        disk: {type: integer}
      responses: {'202': {description: OK}}
"""
    )
    head = (
        OAS
        + """\
paths:
  /servers:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              properties:
                server:
                  type: object
                  required: [name, flavor]
                  properties:
                    name: {type: string}
                    flavor:
                      type: object
                      properties:
                        id: {type: string, format: uuid}
                    networks:
                      type: array
                      items:
                        type: object
                        properties:
                          uuid: {type: string}
      responses: {'202': {description: OK}}
"""
    )
    d = diff(tmp_path, base, head)
    (op,) = d.changed
    assert op.request_body is not None
    assert op.request_body.change("required").new is True
    fields = {f.path: f for _, _, _, f in op.fields()}
    assert set(fields) == {
        "server.flavor",
        "server.flavor.id",
        "server.flavor.disk",
        "server.networks",
    }
    assert fields["server.flavor"].change("required").new is True
    assert fields["server.flavor"].head_required and not fields["server.flavor"].base_required
    assert fields["server.flavor.id"].change("format").new == "uuid"
    assert (
        fields["server.flavor.disk"].kind == "removed" and fields["server.flavor.disk"].head is None
    )
    assert fields["server.networks"].kind == "added"
    # The head node of an added field points at its definition in the revision.
    assert fields["server.networks"].head is not None
    assert fields["server.networks"].head.pointer.endswith("/properties/server/properties/networks")


def test_enum_values_in_parameters_and_properties(tmp_path: Path) -> None:
    """Enum values added and removed are listed; nullable and readOnly changes are attributes."""
    template = (
        OAS
        + """\
paths:
  /servers:
    get:
      parameters:
        - {{name: sort_dir, in: query, schema: {{type: string, enum: {param_enum}}}}}
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                type: object
                properties:
                  status: {{type: string, enum: {prop_enum}, nullable: {nullable}}}
                  id: {{type: string, readOnly: {readonly}}}
"""
    )
    base = template.format(
        param_enum="[asc, desc]", prop_enum="[ACTIVE]", nullable="false", readonly="false"
    )
    head = template.format(
        param_enum="[asc]", prop_enum="[ACTIVE, SHELVED]", nullable="true", readonly="true"
    )
    (op,) = diff(tmp_path, base, head).changed
    (param,) = op.parameters
    assert param.root is not None
    assert param.root.enum_removed == ("desc",) and param.root.enum_added == ()
    fields = {f.path: f for _, _, _, f in op.fields()}
    assert fields["status"].enum_added == ("SHELVED",)
    assert fields["status"].change("nullable").new is True
    assert fields["id"].change("readOnly").new is True


def test_status_codes_headers_and_media_types(tmp_path: Path) -> None:
    """Responses added/removed by status; headers by case-insensitive name; media types ignore parameters."""
    base = (
        OAS
        + """\
paths:
  /servers:
    post:
      requestBody:
        content:
          application/json; charset=utf-8: {schema: {type: object}}
          application/xml: {schema: {type: object}}
      responses:
        '202':
          description: OK
          headers:
            Location: {schema: {type: string}}
            X-Request-Id: {schema: {type: string}}
        '400': {description: Bad}
"""
    )
    head = (
        OAS
        + """\
paths:
  /servers:
    post:
      requestBody:
        content:
          application/json: {schema: {type: object}}
      responses:
        '201': {description: Created}
        '202':
          description: OK
          headers:
            location: {schema: {type: string}}
            Retry-After: {schema: {type: integer}}
        '400': {description: Bad}
"""
    )
    (op,) = diff(tmp_path, base, head).changed
    statuses = {r.status: r for r in op.responses}
    assert statuses["201"].kind == "added"
    assert set(statuses) == {"201", "202"}
    headers = {h.name: h.kind for h in statuses["202"].headers}
    assert headers == {"x-request-id": "removed", "retry-after": "added"}
    assert op.request_body is not None
    assert op.request_body.media_removed == ("application/xml",)
    assert op.request_body.media_added == ()


def test_security_requirements_are_normalised(tmp_path: Path) -> None:
    """Reordered requirements are equal; effective security falls back to the document's."""
    assert security_alternatives(None) == ((),)
    assert security_alternatives([]) == ((),)
    assert security_alternatives([{"a": ["x", "y"]}, {}]) == security_alternatives(
        [{}, {"a": ["y", "x"]}]
    )
    base = (
        OAS
        + """\
security: [{oauth2: [read]}]
paths:
  /servers:
    get:
      responses: {'200': {description: OK}}
  /flavors:
    get:
      security: []
      responses: {'200': {description: OK}}
"""
    )
    head = (
        OAS
        + """\
security: [{oauth2: [read]}]
paths:
  /servers:
    get:
      security: [{oauth2: [read]}]
      responses: {'200': {description: OK}}
  /flavors:
    get:
      responses: {'200': {description: OK}}
"""
    )
    d = diff(tmp_path, base, head)
    changed = {o.key: o for o in d.changed}
    assert set(changed) == {"GET /flavors"}
    sec = changed["GET /flavors"].change("security")
    assert sec.old == ((),) and sec.new == ((("oauth2", ("read",)),),)


def test_lifecycle_attributes_versions_and_openstack_ranges(tmp_path: Path) -> None:
    """deprecated, x-sunset and x-openstack changes on operations, parameters and properties."""
    base = """\
openapi: 3.1.0
info: {title: t, version: '2.95'}
paths:
  /servers:
    get:
      x-openstack: {min-ver: '2.1'}
      parameters:
        - {name: all_tenants, in: query, schema: {type: boolean}}
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                type: object
                properties:
                  tenant_id: {type: string}
"""
    head = """\
openapi: 3.1.0
info: {title: t, version: '2.96'}
paths:
  /servers:
    get:
      deprecated: true
      x-sunset: 2099-01-01
      x-openstack: {min-ver: '2.1', max-ver: '2.96'}
      parameters:
        - {name: all_tenants, in: query, deprecated: true, x-sunset: '2099-01-01', schema: {type: boolean}}
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                type: object
                properties:
                  tenant_id: {type: string, deprecated: true, x-sunset: '2099-01-01'}
"""
    d = diff(tmp_path, base, head)
    assert d.info_version is not None and (d.info_version.old, d.info_version.new) == (
        "2.95",
        "2.96",
    )
    (op,) = d.changed
    assert op.change("deprecated").new is True
    assert str(op.change("x-sunset").new) == "2099-01-01"
    assert op.change("x-openstack").new == {"min-ver": "2.1", "max-ver": "2.96"}
    (param,) = op.parameters
    assert {c.attr for c in param.changes} == {"deprecated", "x-sunset"}
    assert param.fields == ()  # lifecycle keywords are the parameter's, not its schema's
    (field,) = [f for _, _, _, f in op.fields()]
    assert field.path == "tenant_id"
    assert {c.attr for c in field.changes} == {"deprecated", "x-sunset"}


def test_parameter_moved_to_another_location(tmp_path: Path) -> None:
    """A parameter that moves (query -> header) is one changed parameter, not a removal."""
    template = (
        OAS
        + """\
paths:
  /servers:
    get:
      parameters:
        - {{name: X-Version, in: {location}, schema: {{type: string}}}}
      responses: {{'200': {{description: OK}}}}
"""
    )
    (op,) = diff(
        tmp_path, template.format(location="query"), template.format(location="header")
    ).changed
    (param,) = op.parameters
    assert param.kind == "changed"
    assert param.change("in").old == "query" and param.change("in").new == "header"


def test_all_of_and_one_of(tmp_path: Path) -> None:
    """allOf parts merge into one object; oneOf branches pair by reference name."""
    base = (
        OAS
        + """\
paths:
  /pets:
    get:
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema:
                allOf:
                  - $ref: '#/components/schemas/Base'
                  - type: object
                    properties:
                      pet:
                        oneOf:
                          - $ref: '#/components/schemas/Cat'
                          - $ref: '#/components/schemas/Dog'
components:
  schemas:
    Base: {type: object, required: [id], properties: {id: {type: string}}}
    Cat: {type: object, properties: {meow: {type: string}}}
    Dog: {type: object, properties: {bark: {type: string}}}
"""
    )
    head = (
        base.replace(
            "- $ref: '#/components/schemas/Dog'",
            "- $ref: '#/components/schemas/Dog'\n                          - $ref: '#/components/schemas/Fox'",
        )
        .replace(
            "Dog: {type: object, properties: {bark: {type: string}}}",
            ("Dog: {type: object, properties: {bark: {type: integer}}}\n    Fox: {type: object}"),
        )
        .replace("required: [id]", "required: []")
    )
    (op,) = diff(tmp_path, base, head).changed
    fields = {f.path: f for _, _, _, f in op.fields()}
    assert fields["id"].change("required").new is False
    assert fields["pet"].change("oneOf").new == ("Fox",)
    assert fields["pet.bark"].change("type").new == "integer"


SWAGGER = """\
swagger: '2.0'
info: {title: t, version: '1.0'}
consumes: [application/json]
produces: [application/json]
paths:
  /pets:
    post:
      parameters:
        - name: body
          in: body
          required: true
          schema: {$ref: '#/definitions/Pet'}
        - {name: dry_run, in: query, type: %s}
      responses:
        '201':
          description: OK
          schema: {$ref: '#/definitions/Pet'}
definitions:
  Pet:
    type: object
    required: [name]
    properties:
      name: {type: string}
      %s
"""


def test_swagger_2_body_parameters_become_request_bodies(tmp_path: Path) -> None:
    """Swagger 2.0 body parameters are diffed as the request body, and inline parameter types count."""
    d = diff(tmp_path, SWAGGER % ("boolean", ""), SWAGGER % ("string", "age: {type: integer}"))
    (op,) = d.changed
    (param,) = op.parameters
    assert param.name == "dry_run"
    assert param.root is not None and param.root.change("type").new == "string"
    found = {(direction, f.path, f.kind) for direction, _, _, f in op.fields()}
    assert found == {("request", "age", "added"), ("response", "age", "added")}
    assert op.request_body is not None and op.request_body.status is None


def test_duplicate_keys_pair_by_exact_path_first(tmp_path: Path) -> None:
    """Two paths with one key (`/a/{x}` and `/a/{y}`): the one with the same text pairs up."""
    base = (
        OAS
        + """\
paths:
  /a/{x}:
    get: {responses: {'200': {description: one}}}
  /a/{y}:
    get: {responses: {'204': {description: two}}}
"""
    )
    head = (
        OAS
        + """\
paths:
  /a/{y}:
    get: {responses: {'204': {description: two}}}
"""
    )
    d = diff(tmp_path, base, head)
    (removed,) = d.removed
    assert removed.base is not None and removed.base.path == "/a/{x}"
    assert not d.changed


@pytest.mark.parametrize("broken", [True, False])
def test_unloadable_specs_give_an_empty_diff(tmp_path: Path, broken: bool) -> None:
    """A spec that failed to load has no surface to compare."""
    good = spec(tmp_path, "good.yaml", OAS + "paths: {}\n")
    bad = Spec(file="bad.yaml", data=None)
    d = diff_specs(bad, good) if broken else diff_specs(good, bad)
    assert d.empty


def _one_schema(schema: str, components: str = "") -> str:
    """A spec whose only operation returns ``schema`` (flow YAML)."""
    return (
        OAS
        + f"""\
paths:
  /pets:
    get:
      responses:
        '200':
          description: OK
          content:
            application/json:
              schema: {schema}
components:
  schemas:
    Cat: {{type: object, required: [meow], properties: {{meow: {{type: boolean}}}}}}
    Dog: {{type: object, properties: {{bark: {{type: boolean}}}}}}
    {components}
"""
    )


def _root(tmp_path: Path, base: str, head: str) -> tuple[str, ...]:
    (op,) = diff(tmp_path, base, head).changed
    found = [f for _, _, _, f in op.fields()]
    return tuple(sorted(f"{c.attr}={c.old!r}->{c.new!r}" for f in found for c in f.changes))


def test_changes_inside_sub_schemas_are_named_by_their_keyword(tmp_path: Path) -> None:
    """A condition, a ``not`` or a tuple position changing is reported under its keyword;
    one appearing is a change of the keyword itself."""
    base = _one_schema("{type: object, then: {required: [a]}, prefixItems: [{type: string}]}")
    head = _one_schema(
        "{type: object, then: {required: [a, b]}, not: {const: 1},"
        " prefixItems: [{type: integer}, {type: string}]}"
    )
    changes = _root(tmp_path, base, head)
    assert "then/requiredNames=('a',)->('a', 'b')" in changes
    assert "not=None->{'const': 1}" in changes
    assert "prefixItems=1->2" in changes
    assert "prefixItems/0/type='string'->'integer'" in changes


def test_all_of_parts_are_merged_with_the_stricter_value(tmp_path: Path) -> None:
    """A new ``allOf`` part with a tighter bound tightens the merged schema."""
    base = _one_schema("{type: string, maxLength: 10}")
    head = _one_schema("{type: string, maxLength: 10, allOf: [{maxLength: 5}]}")
    assert _root(tmp_path, base, head) == ("maxLength=10->5",)


def test_a_schema_wrapped_into_one_of_keeps_its_fields(tmp_path: Path) -> None:
    """``$ref Cat`` -> ``oneOf [Cat, Dog]``: an alternative added, no field removed; with a
    ``{type: 'null'}`` branch instead, the schema became nullable."""
    cat = "{$ref: '#/components/schemas/Cat'}"
    wrapped = "{oneOf: [{$ref: '#/components/schemas/Cat'}, {$ref: '#/components/schemas/Dog'}]}"
    nullable = "{oneOf: [{$ref: '#/components/schemas/Cat'}, {type: 'null'}]}"
    assert _root(tmp_path, _one_schema(cat), _one_schema(wrapped)) == ("oneOf=()->('Dog',)",)
    assert _root(tmp_path, _one_schema(cat), _one_schema(nullable)) == ("nullable=None->True",)
    assert _root(tmp_path, _one_schema(wrapped), _one_schema(cat)) == ("oneOf=('Dog',)->()",)


def test_recursion_through_composition_terminates(tmp_path: Path) -> None:
    """A schema that reaches itself through ``oneOf``, ``not``, ``then`` and ``allOf``
    diffs in finite time, its change reported once."""
    node = (
        "Node: {{type: object, properties: {{size: {{type: integer, maximum: {max}}}}},"
        " allOf: [{{$ref: '#/components/schemas/Node'}}],"
        " oneOf: [{{$ref: '#/components/schemas/Node'}}, {{type: object}}],"
        " not: {{$ref: '#/components/schemas/Node'}},"
        " then: {{$ref: '#/components/schemas/Node'}}}}"
    )
    ref = "{$ref: '#/components/schemas/Node'}"
    base = _one_schema(ref, node.format(max=10))
    head = _one_schema(ref, node.format(max=5))
    (op,) = diff(tmp_path, base, head).changed
    sizes = [f for _, _, _, f in op.fields() if f.path == "size"]
    assert [c.attr for f in sizes for c in f.changes] == ["maximum"]


WEBHOOKS = """\
openapi: 3.1.0
info: {title: t, version: '1.0'}
webhooks:
  petAdopted:
    post:
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [id], properties: {id: {type: string}}}
      responses: {'200': {description: OK}}
  %s
"""


def test_webhooks_are_compared_as_operations(tmp_path: Path) -> None:
    """Each webhook method is an operation of its own, at its real pointer."""
    base = WEBHOOKS % "petLost: {post: {responses: {'200': {description: OK}}}}"
    head = (WEBHOOKS % "petFound: {post: {responses: {'200': {description: OK}}}}").replace(
        "required: [id]", "required: []"
    )
    d = diff(tmp_path, base, head)
    assert not d.changed and not d.removed and not d.added  # no paths at all
    kinds = {w.key: w.kind for w in d.webhooks}
    assert kinds == {
        "POST petAdopted": "changed",
        "POST petLost": "removed",
        "POST petFound": "added",
    }
    (changed,) = [w for w in d.webhooks if w.kind == "changed"]
    assert changed.base is not None and changed.base.node.pointer == "/webhooks/petAdopted/post"
    assert [(f.path, f.change("required").new) for _, _, _, f in changed.fields()] == [
        ("id", False)
    ]
    assert not d.empty
