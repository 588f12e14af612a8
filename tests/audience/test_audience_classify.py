"""Audience classification (README.md, govbot classify): markers, policy rules, default, real
specs."""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from govbot.audience import (
    DEFAULT_ADMIN_DESCRIPTIONS,
    X_AUDIENCE,
    AudienceConfig,
    Classification,
    classify,
    default_audience_config,
    openstack_audience_config,
)
from govbot.audience.patterns import required_word
from govbot.errors import PolicyError
from govbot.findings import Audience
from govbot.openapi.load import load_spec
from govbot.paths import packaged_policy_dir
from govbot.surface import Spec, operations

EXT, ADMIN, INT = Audience.EXTERNAL, Audience.EXTERNAL_ADMIN, Audience.INTERNAL
CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
NONE = AudienceConfig()


def make_spec(
    paths: dict[str, Any], *, file: str = "api.yaml", version: str = "3.1.0", **root: Any
) -> Spec:
    data: dict[str, Any] = {
        "openapi": version,
        "info": {"title": "t", "version": "1"},
        "paths": paths,
    }
    for key, value in root.items():
        if key == "info":
            data["info"].update(value)
        else:
            data[key] = value
    return Spec(file=file, data=data, version=version[:3], documents={file: data})


def op(**fields: Any) -> dict[str, Any]:
    return {"responses": {"200": {"description": "ok"}}, **fields}


def one(spec: Spec, config: AudienceConfig = NONE, key: str | None = None) -> Any:
    result = classify(spec, config)
    if key is None:
        (key,) = result.operations
    return result.decision(key)


# --- explicit markers -------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), sorted(X_AUDIENCE.items()))
def test_every_x_audience_value_maps_to_its_level(value: str, expected: Audience) -> None:
    """Each value of Zalando's x-audience vocabulary (and govbot's level names) decides the audience."""
    spec = make_spec({"/a": {"get": op(**{"x-audience": value})}})
    d = one(spec)
    assert (d.audience, d.source) == (expected, "x-audience")
    assert d.evidence == f"x-audience: {value} on the operation"
    assert (d.file, d.pointer) == ("api.yaml", "/paths/~1a/get/x-audience")


def test_x_audience_on_the_path_item_applies_to_its_operations() -> None:
    """An x-audience on a path item classifies every operation under it."""
    spec = make_spec(
        {
            "/a": {"x-audience": "component-internal", "get": op(), "post": op()},
            "/b": {"get": op()},
        }
    )
    result = classify(spec, NONE)
    assert result.of("GET /a") is INT and result.of("POST /a") is INT
    assert result.decision("GET /a").evidence == "x-audience: component-internal on the path item"
    assert result.of("GET /b") is EXT


@pytest.mark.parametrize("where", ["info", "root"])
def test_x_audience_on_the_document_applies_to_every_operation(where: str) -> None:
    """A document-level x-audience (in info or at the root) classifies the spec and its operations."""
    marker = {"x-audience": "company-internal"}
    spec = (
        make_spec({"/a": {"get": op()}}, info=marker)
        if where == "info"
        else make_spec({"/a": {"get": op()}}, **marker)
    )
    result = classify(spec, NONE)
    assert result.of("GET /a") is INT
    assert result.spec_audience is INT and result.spec_source == "x-audience"
    assert result.spec_evidence == "x-audience: company-internal on the document"


def test_operation_marker_beats_document_marker() -> None:
    """An operation's own x-audience wins over the document's."""
    spec = make_spec(
        {"/a": {"get": op(**{"x-audience": "external-public"}), "post": op()}},
        info={"x-audience": "company-internal"},
    )
    result = classify(spec, NONE)
    assert result.of("GET /a") is EXT
    assert result.of("POST /a") is INT


def test_x_internal_true_is_internal_and_false_on_an_operation_is_external() -> None:
    """x-internal: true marks an operation internal; x-internal: false on an operation overrides the document."""
    spec = make_spec(
        {"/a": {"get": op(**{"x-internal": True}), "post": op(**{"x-internal": False})}},
        info={"x-internal": True},
    )
    result = classify(spec, NONE)
    assert result.decision("GET /a").source == "x-internal"
    assert result.of("GET /a") is INT
    assert result.decision("GET /a").evidence == "x-internal: true on the operation"
    assert result.of("POST /a") is EXT
    assert result.spec_audience is INT


def test_markers_beat_policy_rules() -> None:
    """An explicit marker wins over every policy rule (here: an internal spec file glob)."""
    spec = make_spec(
        {"/a": {"get": op(**{"x-audience": "external-partner"})}}, file="api-specs/internal/x.yaml"
    )
    assert one(spec, AudienceConfig(internal_files=("api-specs/internal/**",))).audience is EXT


def test_unknown_x_audience_is_ignored_and_said_so() -> None:
    """An x-audience outside the vocabulary is not a marker: the rules go on, and the evidence says so."""
    d = one(make_spec({"/a": {"get": op(**{"x-audience": "everyone"})}}))
    assert d.audience is EXT and d.source == "default"
    assert "x-audience 'everyone' on the operation is not a known audience: ignored" in d.evidence


def test_document_wide_external_still_lets_admin_rules_narrow_an_operation() -> None:
    """An API-wide external x-audience leaves admin-only operations external-admin; an operation's own marker is final."""
    spec = make_spec(
        {
            "/admin/users": {"get": op(), "post": op(**{"x-audience": "external-public"})},
            "/users": {"get": op()},
        },
        info={"x-audience": "external-public"},
    )
    result = classify(spec, default_audience_config())
    d = result.decision("GET /admin/users")
    assert d.audience is ADMIN and d.source == "policy:admin_paths"
    assert d.evidence.startswith(
        "x-audience: external-public on the document; admin-only: path '/admin/users'"
    )
    assert result.of("POST /admin/users") is EXT
    assert result.of("GET /users") is EXT


def test_document_wide_internal_is_final() -> None:
    """An internal marker is never narrowed or widened by policy rules."""
    spec = make_spec(
        {"/admin/x": {"get": op(tags=["admin"])}}, info={"x-audience": "component-internal"}
    )
    assert one(spec, default_audience_config()).audience is INT


# --- policy rules ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("glob", "file", "matches"),
    [
        ("api-specs/internal/**", "api-specs/internal/placement/v1.yaml", True),
        ("api-specs/internal/**", "api-specs/internal.yaml", False),
        ("api-specs/internal/**", "api-specs/compute/v2.yaml", False),
        ("**/placement/**", "placement/v1.yaml", True),
        ("**/placement/**", "openstack/placement/v1.yaml", True),
        ("**/placement/**", "openstack/placementx/v1.yaml", False),
        ("api-specs/*.yaml", "api-specs/a/b.yaml", False),
        ("api-specs/*.yaml", "./api-specs/b.yaml", True),
    ],
)
def test_spec_file_globs(glob: str, file: str, matches: bool) -> None:
    """``*`` stays within a directory, ``**`` crosses them and ``**/`` also matches none."""
    spec = make_spec({"/a": {"get": op()}}, file=file)
    d = one(spec, AudienceConfig(internal_files=(glob,)))
    assert (d.audience is INT) is matches
    if matches:
        assert d.source == "policy:internal_files"
        assert d.evidence.endswith(f"matches internal_files '{glob}'")


def test_admin_files_and_spec_level_file_rule() -> None:
    """A spec file matching admin_files makes the spec and its operations external-admin."""
    spec = make_spec({"/a": {"get": op()}}, file="api-specs/admin/ops.yaml")
    result = classify(spec, AudienceConfig(admin_files=("api-specs/admin/**",)))
    assert result.of("GET /a") is ADMIN
    assert (result.spec_audience, result.spec_source) == (ADMIN, "policy:admin_files")


def test_a_path_item_referenced_from_an_internal_file_is_internal() -> None:
    """An operation defined in a file under an internal glob is internal, even if the root spec is not."""
    root = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/a": {"$ref": "internal/paths.yaml#/a"}, "/b": {"get": op()}},
    }
    other = {"a": {"get": op()}}
    spec = Spec(
        file="api/root.yaml",
        data=root,
        version="3.1",
        documents={"api/root.yaml": root, "api/internal/paths.yaml": other},
        refs={("api/root.yaml", "internal/paths.yaml#/a"): ("api/internal/paths.yaml", "/a")},
    )
    result = classify(spec, AudienceConfig(internal_files=("api/internal/**",)))
    assert result.of("GET /a") is INT
    assert (
        "file 'api/internal/paths.yaml' matches internal_files"
        in result.decision("GET /a").evidence
    )
    assert result.of("GET /b") is EXT


def test_url_path_regexes() -> None:
    """internal_paths and admin_paths are regexes searched in the URL path, case-insensitively."""
    spec = make_spec(
        {
            "/v1/Private/x": {"get": op()},
            "/v1/admin/users": {"get": op()},
            "/topics/private-messages": {"get": op()},
        }
    )
    result = classify(spec, default_audience_config())
    assert result.of("GET /v1/Private/x") is INT
    assert result.of("GET /v1/admin/users") is ADMIN
    assert result.of("GET /topics/private-messages") is EXT
    d = result.decision("GET /v1/admin/users")
    assert (d.source, d.pointer) == ("policy:admin_paths", "/paths/~1v1~1admin~1users")


def test_tags_match_case_insensitively_and_internal_comes_first() -> None:
    """Tags match policy names whatever their case; an internal tag beats an admin tag."""
    spec = make_spec(
        {"/a": {"get": op(tags=["Users", "Admin"])}, "/b": {"get": op(tags=["ADMIN", "Internal"])}}
    )
    result = classify(spec, default_audience_config())
    a = result.decision("GET /a")
    assert (a.audience, a.evidence, a.pointer) == (
        ADMIN,
        "tag 'Admin' matches admin_tags",
        "/paths/~1a/get/tags/1",
    )
    assert result.of("GET /b") is INT


def test_policy_kinds_are_tried_in_order() -> None:
    """Files, then URL paths, then tags, then servers, then scopes, then descriptions."""
    config = AudienceConfig(
        internal_files=("int/**",),
        admin_paths=("/adm",),
        internal_tags=("internal",),
        internal_servers=(r"\.internal\b",),
        admin_scopes=("admin",),
        admin_descriptions=("admin only",),
    )
    spec = make_spec(
        {
            "/adm/a": {"get": op(tags=["internal"])},
            "/b": {"get": op(tags=["internal"], security=[{"oauth": ["admin"]}])},
            "/c": {
                "get": op(description="Admin only.", security=[{"oauth": ["admin"]}]),
                "servers": [{"url": "https://api.internal/v1"}],
            },
            "/d": {"get": op(description="Admin only.", security=[{"oauth": ["admin"]}])},
            "/e": {"get": op(description="Admin only.")},
        }
    )
    result = classify(spec, config)
    assert result.decision("GET /adm/a").source == "policy:admin_paths"
    assert result.decision("GET /b").source == "policy:internal_tags"
    assert result.decision("GET /c").source == "policy:internal_servers"
    assert result.decision("GET /d").source == "policy:admin_scopes"
    assert result.decision("GET /e").source == "policy:admin_descriptions"
    moved = dataclasses.replace(spec, file="int/api.yaml")
    assert classify(moved, config).decision("GET /adm/a").source == "policy:internal_files"


def test_internal_servers_need_every_server_to_match() -> None:
    """A spec is internal by its servers only when all of them are internal; an operation's servers override."""
    config = default_audience_config()
    internal = make_spec(
        {"/a": {"get": op()}},
        servers=[
            {"url": "https://placement.svc.cluster.local/"},
            {"url": "http://api.corp.internal:8080"},
        ],
    )
    result = classify(internal, config)
    assert result.of("GET /a") is INT
    assert result.spec_audience is INT and result.spec_source == "policy:internal_servers"
    mixed = make_spec(
        {"/a": {"get": op()}, "/b": {"get": op(servers=[{"url": "https://x.internal"}])}},
        servers=[{"url": "https://api.example.com"}, {"url": "https://x.internal"}],
    )
    result = classify(mixed, config)
    assert result.of("GET /a") is EXT
    assert result.of("GET /b") is INT
    assert result.decision("GET /b").pointer == "/paths/~1b/get/servers/0/url"
    public = make_spec({"/a": {"get": op()}}, servers=[{"url": "https://internal.example.com"}])
    assert classify(public, config).of("GET /a") is EXT


def test_swagger_2_host_counts_as_a_server() -> None:
    """In Swagger 2.0 the host and basePath are the server URL."""
    spec = make_spec({"/a": {"get": op()}}, version="2.0", host="orders.internal", basePath="/v1")
    spec.data["swagger"] = spec.data.pop("openapi")  # type: ignore[union-attr]
    d = one(spec, default_audience_config())
    assert d.audience is INT
    assert "'//orders.internal/v1'" in d.evidence and d.pointer == "/host"


def test_admin_scopes_need_every_security_alternative_to_be_admin() -> None:
    """Admin-only by scopes when every alternative requires one; an open alternative makes it user-facing."""
    config = default_audience_config()
    spec = make_spec(
        {
            "/a": {"get": op(security=[{"oauth": ["read", "admin:org"]}, {"key": ["role:admin"]}])},
            "/b": {"get": op(security=[{"oauth": ["admin:org"]}, {}])},
            "/c": {"get": op(security=[{"oauth": ["read:user"]}])},
            "/d": {"get": op(security=[{"oauth": ["badminton"]}])},
            "/e": {"get": op()},
        },
        security=[{"oauth": ["https://www.googleapis.com/auth/admin.directory.user"]}],
    )
    result = classify(spec, config)
    a = result.decision("GET /a")
    assert a.audience is ADMIN and "scope/role 'admin:org'" in a.evidence
    assert a.pointer == "/paths/~1a/get/security"
    assert result.of("GET /b") is EXT
    assert result.of("GET /c") is EXT
    assert result.of("GET /d") is EXT
    e = result.decision("GET /e")
    assert e.audience is ADMIN and e.pointer == "/security"


@pytest.mark.parametrize(
    ("text", "admin"),
    [
        (
            "Policy defaults enable only users with the administrative role to perform this operation.",
            True,
        ),
        (
            "Policy defaults enable only users with the administrative\n  role to perform all X actions.",
            True,
        ),
        (
            "Policy defaults enable only users with the administrative role. Cloud providers can change it.",
            True,
        ),
        (
            "Policy defaults enable only users with the administrative role or the owner of the server to perform this operation.",
            False,
        ),
        (
            "Policy defaults enable only users with the administrative role or user who is authorized to operate on tenant.",
            False,
        ),
        (
            "Policy defaults enable only users with the administrative role to change `volumeId` via this operation.",
            False,
        ),
        ("Administrator only. Lists all Cinder services.", True),
        ("Administrators only, depending on policy settings.", True),
        ("This is typically an admin-only action.", True),
        ("Only available to the system admin user", True),
        ("Application functionality that is only accessible to admin users.", True),
        ("since v3.31 if non-admin users specify invalid filters", False),
        ("The `is_admin` flag; non-admin only sees its own.", False),
        ("Shows the administrative password for a server.", False),
    ],
)
def test_default_admin_descriptions(text: str, admin: bool) -> None:
    """The built-in description patterns tell admin-only sentences from user-facing ones."""
    d = one(make_spec({"/a": {"get": op(description=text)}}), default_audience_config())
    assert (d.audience is ADMIN) is admin, d.evidence
    if admin:
        assert d.source == "policy:admin_descriptions"
        assert d.evidence.startswith("the operation's description matches admin_descriptions: “")
        assert d.pointer == "/paths/~1a/get/description"


def test_tag_descriptions_count_as_descriptions() -> None:
    """A tag documented as admin-only in the top-level tags list makes its operations admin-only."""
    spec = make_spec(
        {"/clusters": {"get": op(tags=["clusters"])}, "/volumes": {"get": op(tags=["volumes"])}},
        tags=[
            {"name": "volumes", "description": "Volumes."},
            {"name": "clusters", "description": "Administrator only. Lists all Cinder clusters."},
        ],
    )
    result = classify(spec, default_audience_config())
    d = result.decision("GET /clusters")
    assert d.audience is ADMIN and d.pointer == "/tags/1/description"
    assert "the description of tag 'clusters'" in d.evidence
    assert result.of("GET /volumes") is EXT


def test_path_item_summary_counts_as_a_description() -> None:
    """A path item's summary or description is searched too."""
    spec = make_spec({"/a": {"summary": "Admin only", "get": op(), "put": op()}})
    result = classify(spec, default_audience_config())
    assert result.of("GET /a") is ADMIN and result.of("PUT /a") is ADMIN
    assert result.decision("PUT /a").pointer == "/paths/~1a/summary"


def test_internal_descriptions_disclaim_outside_use() -> None:
    """A disclaimer like Airbyte's ("should not be called outside ...") makes operations internal."""
    spec = make_spec(
        {"/v1/web_backend/x": {"post": op(tags=["web_backend"])}, "/v1/y": {"post": op()}},
        tags=[
            {
                "name": "web_backend",
                "description": "Endpoints for the web application. Those APIs should not be called "
                "outside the web application implementation.",
            }
        ],
    )
    assert classify(spec, NONE).of("POST /v1/web_backend/x") is EXT
    result = classify(spec, default_audience_config())
    d = result.decision("POST /v1/web_backend/x")
    assert (d.audience, d.source) == (INT, "policy:internal_descriptions")
    assert d.evidence.startswith(
        "the description of tag 'web_backend' matches internal_descriptions"
    )
    assert result.of("POST /v1/y") is EXT


def test_internal_descriptions_beat_admin_descriptions() -> None:
    """Inside the description rules, an internal phrase wins over an admin one."""
    text = "Admin only. For internal use only."
    assert (
        one(make_spec({"/a": {"get": op(description=text)}}), default_audience_config()).audience
        is INT
    )


def test_openstack_paths_are_specific_to_openstack() -> None:
    """nova's os-* resources and cinder's v3 resources are admin; the same words elsewhere are not."""
    spec = make_spec(
        {
            "/v2.1/os-hypervisors/{id}": {"get": op()},
            "/v3/{project_id}/qos-specs": {"get": op()},
            "/v3/clusters/detail": {"get": op()},
            "/api/provider/capabilities": {"get": op()},
            "/v1/clusters": {"get": op()},
            "/v2.1/os-hosts-extra": {"get": op()},
        }
    )
    result = classify(spec, openstack_audience_config())
    assert [k for k, d in result.operations.items() if d.audience is ADMIN] == [
        "GET /v2.1/os-hypervisors/{}",
        "GET /v3/{}/qos-specs",
        "GET /v3/clusters/detail",
    ]
    assert (
        openstack_audience_config().internal_descriptions
        == default_audience_config().internal_descriptions
    )


def test_unknown_is_external() -> None:
    """With no marker and no matching rule an operation is external, and says why."""
    d = one(make_spec({"/servers": {"get": op(tags=["servers"])}}), default_audience_config())
    assert (d.audience, d.source) == (EXT, "default")
    assert d.evidence == "no marker or policy rule matched: default external"
    assert (d.label, d.file, d.pointer) == ("GET /servers", "api.yaml", "/paths/~1servers/get")


def test_an_invalid_regex_is_a_policy_error() -> None:
    """A broken regex in the policy is reported with its key, not as a traceback."""
    with pytest.raises(
        PolicyError, match=r"audience\.admin_paths: '\(' is not a valid regular expression"
    ):
        classify(make_spec({"/a": {"get": op()}}), AudienceConfig(admin_paths=("(",)))


def test_a_config_with_lists_works() -> None:
    """A hand-built config with lists (unhashable) is accepted."""
    config = AudienceConfig(admin_tags=["admin"])  # type: ignore[arg-type]
    assert one(make_spec({"/a": {"get": op(tags=["admin"])}}), config).audience is ADMIN


# --- the Classification -----------------------------------------------------------------------


def test_classification_api() -> None:
    """of(), decision(), counts() and to_json() answer for known and unknown operations."""
    spec = make_spec(
        {
            "/admin/a": {"get": op()},
            "/private/b": {"get": op()},
            "/c": {"get": op(), "delete": op()},
        }
    )
    result = classify(spec, default_audience_config())
    assert result.counts() == {"external": 2, "external-admin": 1, "internal": 1}
    assert result.spec_audience is EXT and result.spec_source == "spec"
    assert result.spec_evidence == "2 of 4 operations are external"
    assert result.of(None) is EXT and result.of("GET /nope") is EXT
    assert result.decision("GET /nope").audience is EXT
    out = json.loads(json.dumps(result.to_json()))
    assert out["audience"] == "external" and out["counts"]["internal"] == 1
    assert [o["key"] for o in out["operations"]] == [
        "GET /admin/a",
        "DELETE /c",
        "GET /c",
        "GET /private/b",
    ]
    assert out["operations"][0] == {
        "key": "GET /admin/a",
        "operation": "GET /admin/a",
        "audience": "external-admin",
        "source": "policy:admin_paths",
        "evidence": "path '/admin/a' matches admin_paths '(?:^|/)admin(?:/|\\.|$)'",
        "file": "api.yaml",
        "pointer": "/paths/~1admin~1a",
    }


def test_spec_level_without_external_operations() -> None:
    """A spec with only internal operations is internal; one with only admin operations is external-admin."""
    config = default_audience_config()
    internal = classify(make_spec({"/internal/a": {"get": op()}}), config)
    assert (internal.spec_audience, internal.spec_evidence) == (
        INT,
        "all 1 operations are internal",
    )
    admin = classify(make_spec({"/admin/a": {"get": op()}, "/private/b": {"get": op()}}), config)
    assert admin.spec_audience is ADMIN


def test_spec_without_operations_or_data_is_external() -> None:
    """A spec with no operations, or one that did not load, is external by default."""
    empty = classify(make_spec({}), NONE)
    assert (empty.spec_audience, empty.spec_source) == (EXT, "default")
    broken = classify(Spec(file="x.yaml", data=None), NONE)
    assert broken.spec_audience is EXT and broken.operations == {}


def test_two_paths_with_one_key_keep_the_wider_audience() -> None:
    """When two paths normalise to one key, the wider (stricter) audience is kept."""
    spec = make_spec({"/a/{id}": {"get": op(**{"x-internal": True})}, "/a/{name}/": {"get": op()}})
    assert classify(spec, NONE).of("GET /a/{}") is EXT


# --- the needle prefilter ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "needle"),
    [
        (DEFAULT_ADMIN_DESCRIPTIONS[0], "administrative"),
        (r"(?<![\w-])(?:admin|administrator)s?[ -]only\b", "only"),
        ("foo|barbaz", ""),
        ("(?i)abc", ""),
        ("(?x) a b c", ""),
        ("a{2,3}bcd", "bcd"),
        (r"\x41bc", "bc"),
        (r"\N{EM DASH}xyz", "xyz"),
        (r"(a)bc\1defg", "defg"),
        ("[abc]xy", "xy"),
        ("ab+cd", "cd"),
        ("abcd?", "abc"),
        ("ADMIN", "admin"),
        ("(?:admin)", ""),
    ],
)
def test_needle(pattern: str, needle: str) -> None:
    """The prefilter word is one that every match must contain."""
    assert required_word(pattern) == needle


def test_needle_prefilter_never_changes_a_verdict() -> None:
    """Skipping texts without the needle gives the same answers as running every regex."""
    texts = [
        "Administrator only.",
        "Only available to the ADMIN user",
        "only users with the administrative role to perform this",
        "\uff21dministrator only",  # non-ASCII: no prefilter
        "admini\u017ftrative",  # long s: matches "s" case-insensitively
        "nothing here",
        "Policy defaults enable only users with the administrative\nrole.",
    ]
    patterns = DEFAULT_ADMIN_DESCRIPTIONS
    config = AudienceConfig(admin_descriptions=patterns)
    for text in texts:
        expected = any(re.search(p, " ".join(text.split()), re.IGNORECASE) for p in patterns)
        got = one(make_spec({"/a": {"get": op(description=text)}}), config).audience is ADMIN
        assert got is expected, text


def test_classify_takes_two_thousand_operations() -> None:
    """Two thousand operations, each classified (its speed is benchmarks/check.py's)."""
    paths = {
        f"/r{i}/{{id}}": {
            "get": op(tags=["things"], description="Lists things. " * 20, security=[{"k": []}]),
            "post": op(
                description="Policy defaults enable only users with the administrative role or the owner."
            ),
        }
        for i in range(1000)
    }
    spec = make_spec(paths, tags=[{"name": "things", "description": "Things you own."}])
    ops = operations(spec)
    config = default_audience_config()
    result = classify(spec, config, ops)
    assert len(result.operations) == 2000


# --- real data ----------------------------------------------------------------------------


@functools.cache
def corpus(name: str) -> Spec:
    spec = load_spec(CORPUS / name, root=CORPUS, validate=False)
    assert spec.ok, spec.problems
    return spec


def real(name: str, config: AudienceConfig | None = None) -> Classification:
    return classify(corpus(name), config or default_audience_config())


COMPUTE = "openstack/compute/v2.96.yaml"
BLOCK = "openstack/block-storage/v3.70.yaml"
PLACEMENT = "openstack/placement/v1.yaml"


def shipped_policy() -> AudienceConfig:
    """The audience section of the policy shipped in the package (read as YAML, so that
    this test depends on the audience values only, not on the rest of the policy)."""
    merged: dict[str, Any] = {}
    for file in sorted(packaged_policy_dir().glob("*.yaml")):
        merged.update(
            (yaml.safe_load(file.read_text(encoding="utf-8")) or {}).get("audience") or {}
        )
    assert merged, "the shipped policy has no audience section"
    return AudienceConfig(**{key: tuple(value) for key, value in merged.items()})


OPENSTACK_POLICIES = pytest.mark.parametrize(
    "openstack", [openstack_audience_config, shipped_policy], ids=["openstack", "shipped"]
)


def owner_or_admin(spec: Spec) -> list[str]:
    """Operations whose description says "the administrative role or ..." (user-facing)."""
    return [
        o.key
        for o in operations(spec)
        if "administrative role or" in " ".join(str(o.value.get("description", "")).split())
    ]


def test_compute_admin_only_operations_are_external_admin() -> None:
    """Nova's "only users with the administrative role" operations are external-admin, nothing else is."""
    result = real(COMPUTE)
    admin = sorted(k for k, d in result.operations.items() if d.audience is ADMIN)
    assert admin == [
        "DELETE /v2.1/flavors/{}",  # "This is typically an admin only action."
        "DELETE /v2.1/servers/{}/migrations/{}",
        "GET /v2.1/os-availability-zone/detail",
        "GET /v2.1/os-hypervisors",
        "GET /v2.1/os-hypervisors/detail",
        "GET /v2.1/os-hypervisors/statistics",
        "GET /v2.1/os-hypervisors/{}",
        "GET /v2.1/os-hypervisors/{}/search",
        "GET /v2.1/os-hypervisors/{}/servers",
        "GET /v2.1/os-hypervisors/{}/uptime",
        "GET /v2.1/os-migrations",
        "GET /v2.1/servers/{}/diagnostics",  # "...only users with the administrative role."
        "GET /v2.1/servers/{}/migrations",
        "GET /v2.1/servers/{}/migrations/{}",
        "POST /v2.1/flavors",  # "typically only available to administrators of a cloud"
        "POST /v2.1/os-networks/add",
        "POST /v2.1/os-tenant-networks",
        "PUT /v2.1/flavors/{}",
    ]
    assert result.counts() == {"external": 187, "external-admin": 18, "internal": 0}
    assert result.spec_audience is EXT


def test_compute_admin_or_owner_operations_are_external() -> None:
    """Every operation that the administrative role *or the owner* may call is user-facing."""
    spec = corpus(COMPUTE)
    result = real(COMPUTE)
    shared = owner_or_admin(spec)
    assert len(shared) >= 26
    for key in shared:
        assert result.of(key) is EXT, (key, result.decision(key).evidence)
    # A restriction on one field does not make the operation admin-only.
    assert result.of("PUT /v2.1/servers/{}/os-volume_attachments/{}") is EXT


@OPENSTACK_POLICIES
def test_compute_under_the_openstack_policy(openstack: Any) -> None:
    """The OpenStack policy adds nova's admin-only resources and keeps every owner-callable operation external."""
    spec = corpus(COMPUTE)
    result = real(COMPUTE, openstack())
    default = real(COMPUTE)
    assert {k for k, d in default.operations.items() if d.audience is ADMIN} <= {
        k for k, d in result.operations.items() if d.audience is ADMIN
    }
    for key in ("GET /v2.1/os-aggregates", "PUT /v2.1/os-services/{}", "GET /v2.1/os-hosts"):
        assert result.of(key) is ADMIN, key
    for key in owner_or_admin(spec):
        assert result.of(key) is EXT, key
    for key in ("GET /v2.1/servers", "POST /v2.1/servers", "GET /v2.1/os-keypairs"):
        assert result.of(key) is EXT, key


ADMIN_RESOURCES = (
    "os-hosts",
    "clusters",
    "workers/cleanup",
    "capabilities",
    "manageable_volumes",
    "qos-specs",
    "os-quota-class-sets",
)


@OPENSTACK_POLICIES
def test_block_storage_admin_resources_are_external_admin(openstack: Any) -> None:
    """Cinder's admin-only resources are external-admin under the OpenStack policy; volumes stay external."""
    result = real(BLOCK, openstack())
    keys = [k for k in result.operations if any(f"/{r}" in k for r in ADMIN_RESOURCES)]
    assert len(keys) == 50
    for key in keys:
        assert result.of(key) is ADMIN, key
    for key in (
        "GET /v3/{}/volumes",
        "POST /v3/{}/volumes",
        "POST /v3/{}/volumes/{}/action",
        "GET /v3/{}/limits",
    ):
        assert result.of(key) is EXT, (key, result.decision(key).evidence)


def test_block_storage_default_policy_reads_the_tag_descriptions() -> None:
    """Without OpenStack paths, the spec's own "Administrator only." tag texts still mark admin resources."""
    result = real(BLOCK)
    for key in (
        "GET /v3/{}/os-hosts",
        "GET /v3/{}/clusters",
        "GET /v3/{}/qos-specs",
        "GET /v3/{}/scheduler-stats/get_pools",
    ):
        assert result.of(key) is ADMIN, key
        assert "the description of tag" in result.decision(key).evidence
    # Documented only in cinder's policy, not in this spec: the default cannot know.
    assert result.of("POST /v3/{}/workers/cleanup") is EXT


@OPENSTACK_POLICIES
def test_placement_is_internal_only_when_the_policy_says_so(openstack: Any) -> None:
    """Placement is service-to-service: internal under an internal glob or the OpenStack policy, external by default."""
    assert real(PLACEMENT).counts() == {"external": 36, "external-admin": 0, "internal": 0}
    moved = dataclasses.replace(corpus(PLACEMENT), file="api-specs/internal/placement/v1.yaml")
    result = classify(moved, AudienceConfig(internal_files=("api-specs/internal/**",)))
    assert result.counts()["internal"] == 36
    assert (result.spec_audience, result.spec_source) == (INT, "policy:internal_files")
    result = real(PLACEMENT, openstack())
    assert result.counts()["internal"] == 36
    assert (
        result.spec_evidence
        == "spec file 'openstack/placement/v1.yaml' matches internal_files '**/placement/**'"
    )


@pytest.mark.parametrize(
    "make",
    [default_audience_config, openstack_audience_config, shipped_policy],
    ids=["default", "openstack", "shipped"],
)
def test_object_store_and_identity_are_external(make: Any) -> None:
    """Swift's data plane is user-facing; keystone's admin split lives in its policy, not the spec."""
    config = make()
    store = real("openstack/object-store/v1.yaml", config)
    assert store.counts() == {"external": 14, "external-admin": 0, "internal": 0}
    identity = real("openstack/identity/v3.14.yaml", config)
    assert identity.spec_audience is EXT
    assert identity.counts()["external"] == len(identity.operations) > 300


def test_opentargets_private_operations_are_internal() -> None:
    """Open Targets' `private` tag and /platform/private/ paths are internal, its `public` ones external."""
    spec = corpus("apis-guru/opentargets.io.json")
    result = real("apis-guru/opentargets.io.json")
    for o in operations(spec):
        expected = INT if "private" in o.tags else EXT
        assert result.of(o.key) is expected, o.key
    assert result.counts()["internal"] == 18


@pytest.mark.parametrize(
    ("name", "admin"),
    [
        ("apis-guru/discourse.local.json", 18),
        ("apis-guru/gitea.io.json", 9),
        ("apis-guru/apicurio.local/registry.json", 22),
    ],
)
def test_admin_paths_and_tags_of_real_apis_are_external_admin(name: str, admin: int) -> None:
    """Discourse's, Gitea's and Apicurio's /admin operations (or `Admin` tag) are external-admin."""
    spec = corpus(name)
    result = real(name)
    for o in operations(spec):
        marked = "/admin/" in o.path or any(t.lower() == "admin" for t in o.tags)
        assert (result.of(o.key) is ADMIN) is marked, o.key
    assert result.counts() == {
        "external": len(result.operations) - admin,
        "external-admin": admin,
        "internal": 0,
    }


def test_airbyte_internal_and_web_backend_operations_are_internal() -> None:
    """Airbyte's `internal` tag (worker-only) and its web_backend tag ("should not be called outside") are internal."""
    name = "apis-guru/airbyte.local/config.json"
    spec = corpus(name)
    internal = {o.key for o in operations(spec) if "internal" in o.tags}
    web = {o.key for o in operations(spec) if "web_backend" in o.tags}
    assert (len(internal), len(web)) == (6, 8)
    tags_only = classify(
        spec, dataclasses.replace(default_audience_config(), internal_descriptions=())
    )
    assert {k for k, d in tags_only.operations.items() if d.audience is INT} == internal
    result = real(name)
    assert {k for k, d in result.operations.items() if d.audience is INT} == internal | web


def test_corpus_copies_are_unmodified() -> None:
    """The test corpus holds byte copies (classification results above depend on them)."""
    import hashlib

    expected = {
        COMPUTE: "58e05908085995e7764c06ea11a839c8bde345b62dcab2fd9f7a725501332a26",
        BLOCK: "f4e856c2455edc166cb8fd7afd3e67d44346c21a5fe6d00989e1ce8a9572f14b",
        PLACEMENT: "cfb2da3ce10661b6571bdd3e0f87c30eea4f5bc5ad1b14ff0dc498fd24357085",
        "apis-guru/opentargets.io.json": "7b500a8fba48f80cf7043eec41be359392f3f920daff8cd6c6cc33fbe7791e57",
    }
    for name, digest in expected.items():
        assert hashlib.sha256((CORPUS / name).read_bytes()).hexdigest() == digest, name


def test_classify_does_not_mutate_the_spec() -> None:
    """Classifying leaves the document untouched."""
    spec = make_spec({"/admin/a": {"get": op(tags=["admin"], description="Admin only")}})
    before = copy.deepcopy(spec.data)
    classify(spec, default_audience_config())
    assert spec.data == before
