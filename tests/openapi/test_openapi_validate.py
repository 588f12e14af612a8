"""Validation against the OpenAPI specification: located findings, contained crashes, cache."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from openapi_support import DictReader
from pathable import accessors, protocols

from govbot.findings import Problem, Severity
from govbot.openapi import problems, validate
from govbot.openapi.load import load_spec
from govbot.rules.catalog import get_rule
from govbot.surface import Spec

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"


def severity(problem: Problem) -> Severity:
    """The severity the load rule of the problem's code gives it by default."""
    rule = get_rule(problem.code)
    assert rule is not None, problem.code
    return rule.default_severity(None)


@pytest.fixture(autouse=True)
def private_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Each test gets its own validation cache."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("GOVBOT_CACHE_DIR", str(directory))
    return directory


def load_text(text: str, name: str = "api.yaml", **kwargs: Any) -> Spec:
    return load_spec(name, reader=DictReader({name: text}), **kwargs)


def codes(spec: Spec) -> list[str]:
    return [f.code for f in spec.problems]


# --- the corpus -------------------------------------------------------------------------


def test_compute_31_exclusive_minimum_is_reported_at_its_line() -> None:
    """OpenStack compute 2.96 (3.1) uses ``exclusiveMinimum: true``; each is reported at its line."""
    path = CORPUS / "openstack" / "compute" / "v2.96.yaml"
    spec = load_spec(path, root=CORPUS)
    assert spec.ok and spec.version == "3.1"
    lines = path.read_text().splitlines()
    rxtx = [
        f
        for f in spec.problems
        if f.code == "OAS014" and f.pointer.endswith("/rxtx_factor/exclusiveMinimum")
    ]
    assert len(rxtx) == 10
    for finding in rxtx:
        assert (
            problems.PROBLEMS[finding.code] == "invalid-openapi"
            and severity(finding) is Severity.ERROR
        )
        assert finding.file == "openstack/compute/v2.96.yaml"
        assert "v2.96.yaml" in finding.message and "is not of type 'number'" in finding.message
        assert finding.line is not None
        assert lines[finding.line - 1].strip() == "exclusiveMinimum: true"
        # the nearest property above is rxtx_factor
        above = [ln.strip() for ln in lines[: finding.line] if ln.strip().endswith(":")]
        assert "rxtx_factor:" in above[-3:]
    first = min(rxtx, key=lambda f: f.line or 0)
    assert (
        first.pointer
        == "/components/schemas/Flavors_Create_20/properties/flavor/properties/rxtx_factor/exclusiveMinimum"
    )


def test_airbyte_null_default_is_reported() -> None:
    """Airbyte's ``default: null`` on a non-nullable string schema is found (detailed checks)."""
    spec = load_spec(CORPUS / "apis-guru" / "airbyte.local" / "config.json", root=CORPUS)
    nulls = [f for f in spec.problems if f.pointer.endswith("/namespaceFormat/default")]
    assert nulls and all(f.code == "OAS014" for f in nulls)
    assert {f.pointer for f in nulls} >= {
        "/components/schemas/ConnectionCreate/properties/namespaceFormat/default"
    }
    # govbot's words; the validator's reason after them is its own, and varies by version
    assert all(
        f.message.startswith(
            f"apis-guru/airbyte.local/config.json: invalid OpenAPI 3.0 at {f.pointer}: "
        )
        for f in nulls
    )


def test_apicurio_validator_crash_is_contained() -> None:
    """openapi-spec-validator 0.9's KeyError on apicurio (``x-codegen-contextRoot`` under
    ``paths``) becomes one warning, not a traceback; a release that fixes the bug finds
    the spec valid."""
    spec = load_spec(CORPUS / "apis-guru" / "apicurio.local" / "registry.json", root=CORPUS)
    assert spec.ok
    assert codes(spec) in (["OAS015"], [])
    for finding in spec.problems:
        assert problems.PROBLEMS[finding.code] == "validator-failed"
        assert severity(finding) is Severity.WARNING
        assert finding.message.startswith(
            "apis-guru/apicurio.local/registry.json: openapi-spec-validator failed on this document ("
        )


class _CrashingValidator:
    def __init__(self, path: Any) -> None:
        raise RecursionError("maximum recursion depth exceeded")


@pytest.fixture
def crashing_validator(monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash on demand: openapi-spec-validator's class is replaced by one that raises,
    since which real input crashes it depends on its release."""
    monkeypatch.setattr(validate, "_located_class", lambda version: _CrashingValidator)


@pytest.mark.usefixtures("crashing_validator")
def test_any_validator_crash_is_contained() -> None:
    """Whatever the third-party validator raises is one OAS015 warning naming the error."""
    spec = load_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n")
    (finding,) = spec.problems
    assert (finding.code, severity(finding), finding.file) == (
        "OAS015",
        Severity.WARNING,
        "api.yaml",
    )
    assert "(RecursionError: maximum recursion depth exceeded)" in finding.message


@pytest.mark.parametrize(
    "name",
    ["openstack/identity/v3.14.yaml", "openstack/object-store/v1.yaml", "apis-guru/gitea.io.json"],
)
def test_valid_corpus_specs_have_no_findings(name: str) -> None:
    """Valid real specs load and validate cleanly."""
    spec = load_spec(CORPUS / name, root=CORPUS)
    assert spec.ok and spec.problems == ()


# --- located messages -----------------------------------------------------------------------

INVALID_30 = """\
openapi: 3.0.3
info:
  title: t
  version: 1
paths:
  /a:
    get:
      parameters:
        - name: x
          in: bogus
          schema: {type: string}
      responses:
        "200":
          descriptio: typo
servers:
  - url: 5
"""


def test_schema_errors_are_located_and_explained() -> None:
    """Errors under oneOf are explained by their deepest useful cause, at their line."""
    spec = load_text(INVALID_30)
    found: dict[tuple[str, int | None], list[str]] = {}
    for f in spec.problems:
        found.setdefault((f.pointer, f.line), []).append(f.message)
    assert all(f.code == "OAS014" for f in spec.problems)
    assert found[("/info/version", 4)] == [
        "api.yaml: invalid OpenAPI 3.0 at /info/version: 1 is not of type 'string'"
    ]
    (location,) = found[("/paths/~1a/get/parameters/0/in", 10)]
    assert location.endswith('"bogus" is not one of "query", "header", "cookie"')
    response = found[("/paths/~1a/get/responses/200", 13)]
    # the validator's own words name the missing and the unexpected property
    assert any(re.search(r"\bdescription\b", m) and "required" in m for m in response)
    assert any(re.search(r"\bdescriptio\b", m) for m in response)
    assert "5 is not of type 'string'" in found[("/servers/0/url", 16)][0]
    assert all(
        m.startswith("api.yaml: invalid OpenAPI 3.0 at ") for ms in found.values() for m in ms
    )


def test_swagger_20_is_validated() -> None:
    """Swagger 2.0 documents are validated against the 2.0 schema."""
    good = load_text(
        '{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}}', "s.json"
    )
    assert good.problems == ()
    bad = load_text('{"swagger": "2.0", "info": {"title": "t"}, "paths": {}}', "s.json")
    assert codes(bad) == ["OAS014"]
    message = bad.problems[0].message
    assert message.startswith("s.json: invalid OpenAPI 2.0 at /info: ")
    assert re.search(r"\bversion\b", message) and "required" in message


def test_31_schema_objects_follow_the_declared_dialect() -> None:
    """3.1 Schema Objects are checked as JSON Schema 2020-12 unless another dialect is declared."""
    body = "info: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    A: {type: number, exclusiveMinimum: true}\n"
    assert codes(load_text("openapi: 3.1.0\n" + body)) == ["OAS014"]
    other = "openapi: 3.1.0\njsonSchemaDialect: https://example.com/my-dialect\n" + body
    assert "OAS014" not in codes(load_text(other))


def test_detailed_checks_find_semantic_errors_in_external_files() -> None:
    """openapi-spec-validator's checks follow refs into other files and report there."""
    reader = DictReader(
        {
            "api.yaml": (
                "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
                "components:\n  schemas:\n    A: {$ref: 'schemas.yaml#/A'}\n"
            ),
            "schemas.yaml": "A:\n  type: string\n  default: 5\n",
        }
    )
    spec = load_spec("api.yaml", reader=reader)
    finding = next(f for f in spec.problems if f.code == "OAS014")
    assert (finding.file, finding.pointer, finding.line) == ("schemas.yaml", "/A/default", 3)
    assert "5 is not of type 'string'" in finding.message and "schemas.yaml" in finding.message


def test_big_documents_get_the_fast_check_only() -> None:
    """Above ``detail_max_bytes`` only the schema check runs (airbyte's defaults pass it)."""
    path = CORPUS / "apis-guru" / "airbyte.local" / "config.json"
    spec = load_spec(path, root=CORPUS, detail_max_bytes=1000)
    assert spec.problems == ()


def test_validation_findings_are_capped_per_file() -> None:
    """At most 50 validation findings per file, then one that counts the rest."""
    params = "".join(
        f"        - {{name: p{i}, in: nowhere, schema: {{type: string}}}}\n" for i in range(60)
    )
    text = f"openapi: 3.0.3\ninfo: {{title: t, version: '1'}}\npaths:\n  /a:\n    get:\n      parameters:\n{params}      responses: {{'200': {{description: ok}}}}\n"
    spec = load_text(text)
    assert codes(spec) == ["OAS014"] * 51
    assert spec.problems[-1].message == "api.yaml: 10 more OpenAPI 3.0 validation errors not shown"
    assert [f.line for f in spec.problems[:50]] == sorted(f.line or 0 for f in spec.problems[:50])


def test_no_validation_when_asked() -> None:
    """``validate=False`` skips validation entirely."""
    assert load_text(INVALID_30, validate=False).problems == ()


# --- the cache --------------------------------------------------------------------------


def test_results_are_cached_by_content(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second load of the same bytes takes the verdict from the cache."""
    first = load_text(INVALID_30)
    entries = list(private_cache.glob("validation/*/*.json"))
    assert len(entries) == 1

    def fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("validated again despite the cache")

    monkeypatch.setattr(validate, "schema_issues", fail)
    monkeypatch.setattr(validate, "detail_issues", fail)
    second = load_text(INVALID_30)
    assert second.problems == first.problems
    # other bytes are another entry
    with pytest.raises(AssertionError, match="validated again"):
        load_text(INVALID_30 + "# changed\n")


def test_corrupt_cache_entries_are_ignored(private_cache: Path) -> None:
    """A damaged entry is treated as absent, then rewritten."""
    # Only the problems are kept: a spec still in use would be reused, not validated again.
    expected = load_text(INVALID_30).problems
    (entry,) = private_cache.glob("validation/*/*.json")
    for junk in (b"{not json", b'{"key": "other", "issues": []}', b'{"issues": [[1, 2]]}', b"[]"):
        entry.write_bytes(junk)
        assert load_text(INVALID_30).problems == expected
    assert json.loads(entry.read_bytes())["issues"]


def test_cache_can_be_turned_off(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``cache=False`` or an empty GOVBOT_CACHE_DIR writes nothing."""
    load_text(INVALID_30, cache=False)
    assert not private_cache.exists()
    monkeypatch.setenv("GOVBOT_CACHE_DIR", "")
    assert validate.cache_dir() is None
    load_text(INVALID_30)
    assert not private_cache.exists()


def test_cache_location_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without GOVBOT_CACHE_DIR the cache lives under $XDG_CACHE_HOME/govbot (or ~/.cache/govbot)."""
    monkeypatch.delenv("GOVBOT_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert validate.cache_dir() == tmp_path / "xdg" / "govbot"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert validate.cache_dir() == tmp_path / "home" / ".cache" / "govbot"


@pytest.mark.usefixtures("crashing_validator")
def test_validator_crashes_are_not_cached(private_cache: Path) -> None:
    """A crash may be an accident of the environment, so it is never cached."""
    spec = load_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n")
    assert codes(spec) == ["OAS015"]
    assert list(private_cache.glob("validation/*/*.json")) == []


def test_unreadable_cache_directory_is_harmless(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache path that cannot be created only costs time."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("GOVBOT_CACHE_DIR", str(blocker / "cache"))
    assert codes(load_text(INVALID_30))


# --- helpers ---------------------------------------------------------------------------


def test_locate_follows_refs_to_the_real_place() -> None:
    """A path through refs lands where the value is written."""
    documents = {
        "a.yaml": {"paths": {"/x": {"schema": {"$ref": "b.yaml#/S"}}}},
        "b.yaml": {"S": {"properties": {"p": {"default": 1}}}},
    }
    refs = {("a.yaml", "b.yaml#/S"): ("b.yaml", "/S")}
    parts = ("paths", "/x", "schema", "properties", "p", "default")
    assert validate.locate(parts, "a.yaml", documents, refs) == (
        "b.yaml",
        "/S/properties/p/default",
    )
    assert validate.locate(("paths", "/nope", "x"), "a.yaml", documents, refs) == (
        "a.yaml",
        "/paths/~1nope/x",
    )


def test_messages_do_not_dump_big_values() -> None:
    """An invalid object is named by its first keys, not printed whole."""
    text = (
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a: ["
        + ", ".join(["1"] * 500)
        + "]\n"
    )
    spec = load_text(text)
    assert codes(spec) == ["OAS014"]  # the validator crash the shape causes is not reported
    assert len(spec.problems[0].message) < 200
    assert re.search(r"an array of 500 items", spec.problems[0].message)


def test_detailed_validator_cannot_fetch() -> None:
    """The handlers given to openapi-spec-validator serve loaded files and refuse the network."""
    handlers = validate._handlers({"a.yaml": {"A": 1}})
    assert handlers["file"]("file:///__govbot__/a.yaml#/A") == {"A": 1}
    for scheme in ("http", "https", "ftp"):
        with pytest.raises(ValueError, match="refusing to fetch"):
            handlers[scheme](f"{scheme}://example.com/x.yaml")
    with pytest.raises(ValueError, match="refusing to read"):
        handlers["file"]("file:///etc/passwd")


# --- stage 2 driven cheaply, same results ------------------------------------------------

TESTS = Path(__file__).resolve().parent.parent
DETAILED = {  # a file -> how many issues openapi-spec-validator reports there
    "rules/CON007/irregular-plurals/base.yaml": 16,
    "rules/CON037/duplicate-operation-ids/base.yaml": 1,
    "rules/CON038/shared-parameter-ref/base.yaml": 1,  # through a $ref
    "rules/CON038/validator-already-reported/base.yaml": 2,
    "data/corpus/apis-guru/airbyte.local/config.json": 14,  # a real spec
    "data/corpus/apis-guru/apicurio.local/registry.json": 1,  # the validator crashes
    "data/corpus/openstack/placement/v1.yaml": 0,  # valid
}


def detail(spec: Spec) -> list[validate.Issue]:
    assert spec.version is not None
    return validate.detail_issues(spec.version, spec.data, spec.file, spec.documents, spec.refs)


def as_the_library_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drive openapi-spec-validator as it drives itself: the documents read through
    jsonschema-path, no resolved paths remembered (its default for a dict), seen schema
    ids in plain lists, pathable's own Protocol check of every node."""
    monkeypatch.setattr(validate, "DIRECT_READS", False)
    monkeypatch.setattr(validate, "RESOLVED_CACHE_SIZE", 0)
    monkeypatch.setattr(validate, "seen_ids", lambda ids: ids)
    monkeypatch.setattr(accessors, "Subscriptable", protocols.Subscriptable)


@pytest.mark.parametrize(("name", "count"), DETAILED.items())
def test_driving_the_validator_cheaply_changes_no_issue(
    name: str, count: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """openapi-spec-validator reports the same issues, in the same order, at the same
    places, whether it reads the documents directly (or through a SchemaPath that
    remembers resolved paths) and its seen schema ids are looked up in sets, or not."""
    spec = load_spec(TESTS / name, root=TESTS, validate=False)
    fast = detail(spec)
    assert len(fast) == count
    as_the_library_does(monkeypatch)
    assert detail(spec) == fast


def test_driving_the_validator_cheaply_across_files_changes_no_issue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same holds when the validator follows refs into other files."""
    reader = DictReader(
        {
            "api.yaml": (
                "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
                "components:\n  schemas:\n"
                "    A: {$ref: 'schemas.yaml#/A'}\n    B: {$ref: 'schemas.yaml#/B'}\n"
            ),
            "schemas.yaml": (
                "A:\n  type: string\n  default: 5\n"
                "B:\n  type: object\n  properties:\n    a: {$ref: '#/A'}\n  default: {a: 1}\n"
            ),
        }
    )
    spec = load_spec("api.yaml", reader=reader, validate=False)
    fast = detail(spec)
    assert len(fast) >= 2
    as_the_library_does(monkeypatch)
    assert detail(spec) == fast


# --- stage 2's libraries, imported without requests where nothing else can race --------

_IMPORTS = """
import json, sys, threading
if sys.argv[1] == "threaded":
    done = threading.Event()
    threading.Thread(target=done.wait, daemon=True).start()
from govbot.openapi.load import load_spec
spec = load_spec(sys.argv[2])
from jsonschema_path import retrievers
print(json.dumps({
    "problems": [[p.code, p.pointer, p.message] for p in spec.problems],
    "requests": "requests" in sys.modules,
    "urllib3": "urllib3" in sys.modules,
    "retriever uses requests": retrievers.USE_REQUESTS,
    "requests imports after": __import__("requests").__name__ == "requests",
}))
"""


@pytest.mark.parametrize("threads", ["single", "threaded"])
def test_stage_2_imports_no_requests_in_a_process_of_one_thread(
    threads: str, tmp_path: Path
) -> None:
    """A check in a process of one thread (the command line) does not import requests
    for jsonschema-path's default URL handlers, which stage 2 never uses; with another
    thread alive (which could be importing requests) the libraries import as usual. The
    findings are the same either way, and the same as in this process."""
    import subprocess
    import sys

    airbyte = CORPUS / "apis-guru" / "airbyte.local" / "config.json"
    run = subprocess.run(
        [sys.executable, "-c", _IMPORTS, threads, str(airbyte)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "GOVBOT_CACHE_DIR": ""},
        timeout=120,
    )
    seen = json.loads(run.stdout)
    single = threads == "single"
    assert seen["requests"] is not single
    assert seen["urllib3"] is not single
    assert seen["retriever uses requests"] is not single
    assert seen["requests imports after"]  # only jsonschema-path's own import went without
    assert "requests" in sys.modules  # here (pytest's plugins): imported as usual
    here = load_spec(str(airbyte), cache=False)
    assert seen["problems"] == [[p.code, p.pointer, p.message] for p in here.problems]
    assert len([p for p in here.problems if p.code != "OAS001"]) >= 10, here.problems
