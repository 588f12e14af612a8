"""Validation of an OpenAPI document: a fast schema check, then located, detailed messages.

Two stages, so that big specs stay fast (``benchmarks/check.py`` measures them):

1. **The OpenAPI schema**, with jsonschema-rs and the JSON schemas that
   openapi-spec-validator ships (compiled once per process). For 3.1 and 3.2 the
   schema's "any Schema Object" placeholder is pointed at the JSON Schema 2020-12
   meta-schema, so schema objects are checked too (``exclusiveMinimum: true`` is a 3.0
   idiom that 3.1 forbids). Milliseconds even on 13 MB; every error carries its
   instance path, so every finding has a line. In a process that walks versions of a
   spec, a version after one that passed is checked where it changed (:func:`_passes`).
2. **openapi-spec-validator's own checks** (default values against their schemas,
   duplicate operationIds, unresolved path parameters, ...) for documents small enough
   (pure Python: 0.07 s on a 1.8 MB spec, reading the documents through
   :mod:`govbot.openapi.docpath`; in a process that walks versions of a spec, only what
   changed, :mod:`govbot.openapi.unitwise`). Its keyword validators are wrapped so that
   each error records where in the document it arose; a crash of the validator is
   contained and reported as such.

Results are cached by content (every file's sha256 plus the validators' versions) under
``$GOVBOT_CACHE_DIR`` (empty: no cache), else ``$XDG_CACHE_HOME/govbot``, else
``~/.cache/govbot``. Nothing here reads the network: remote references were refused by
the loader, and the validators are given retrievers that refuse to fetch.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import os
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import orjson

from govbot.openapi import subscriptable, unitwise
from govbot.openapi.docpath import DocumentPath, Documents, sets_ids
from govbot.openapi.units import Units
from govbot.paths import write_atomically
from govbot.surface import get_pointer, join

# Bump when what is cached, or how it is computed, changes.
CACHE_SCHEME = "1"
MAX_ERRORS = 1000  # per stage; far more than anyone reads (findings are capped at 50)
_BASE_URI = "file:///__govbot__/"
_TAG = "_govbot_parts"
_SCHEMA_DIRS = {"2.0": "v2.0", "3.0": "v3.0", "3.1": "v3.1", "3.2": "v3.2"}
_DIALECTS = frozenset(
    (
        "https://json-schema.org/draft/2020-12/schema",
        "https://spec.openapis.org/oas/3.1/dialect/base",
        "https://spec.openapis.org/oas/3.2/dialect/2025-09-17",
    )
)
_REF_REQUIRED = '"$ref" is a required property'
# How many resolved paths openapi-spec-validator's SchemaPath remembers. jsonschema-path
# defaults to none when given a dict, so each of the validator's reads (23,000 on GitLab's
# 311 KB spec, every ``in`` test included) walks and resolves its path again: over half
# of stage 2's time (0.38 -> 0.19 s CPU there, 1.1 -> 0.47 s on OpenStack compute 2.96).
# openapi-spec-validator's own shortcuts remember 128. Remembering every path is safe
# because the documents do not change while validating (the handlers serve the loaded
# mapping), the condition jsonschema-path's caches state; the issues are the same either
# way (tests/openapi/test_openapi_validate.py).
RESOLVED_CACHE_SIZE = 1 << 20
# Whether openapi-spec-validator reads the documents through DocumentPath (the tests
# compare the issues with and without).
DIRECT_READS = True
# What the detailed checks remember of the specs they saw, by (file, OpenAPI version):
# None outside remembering() and remember(). A few specs: a backfill walks one at a time.
_MEMORY: dict[tuple[str, str], unitwise.Memory] | None = None
# And for the schema check (stage 1), the units of the last version that passed it, by
# (file, OpenAPI version), in the same scope.
_PASSED: dict[tuple[str, str], tuple[Any, Units]] | None = None
MEMORY_SPECS = 8


@dataclass(frozen=True, slots=True)
class Issue:
    """One validation problem at a place in one file; ``failed``: the validator broke."""

    file: str
    pointer: str
    message: str
    failed: bool = False


def cache_dir() -> Path | None:
    """Where validation results are cached; None when ``GOVBOT_CACHE_DIR`` is set empty."""
    configured = os.environ.get("GOVBOT_CACHE_DIR")
    if configured is not None:
        return Path(configured) if configured else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "govbot"


def validate_document(
    version: str,
    data: Any,
    *,
    file: str,
    documents: Mapping[str, Any],
    refs: Mapping[tuple[str, str], tuple[str, str]],
    detail: bool,
    fingerprint: str,
    cache_dir: Path | None,
    json: bool = False,
    units: Units | None = None,
) -> list[Issue]:
    """Every validation issue of the root document ``data`` (as written, refs unresolved).

    ``fingerprint`` identifies the content of every file involved (for the cache);
    ``detail`` adds openapi-spec-validator's checks, which follow refs across files;
    ``json``: the documents were written as JSON (no value is shared by two places, as
    a YAML alias shares it), which lets a process that remembers (:func:`remembering`)
    check the next version of the same spec where it changed only; ``units``: the
    document's units, when the caller has split it already.
    """
    key = _cache_key(version, detail, fingerprint) if cache_dir is not None else ""
    if cache_dir is not None:
        cached = _cache_read(cache_dir, key)
        if cached is not None:
            return cached
    issues = schema_issues(version, data, file, units=units)
    if detail:
        seen = {(i.file, i.pointer) for i in issues}
        for issue in detail_issues(version, data, file, documents, refs, json=json, units=units):
            # openapi-spec-validator assumes a structurally valid document; on one that
            # is not, its crash says nothing the schema errors do not already say.
            if (issue.file, issue.pointer) not in seen and not (issue.failed and issues):
                issues.append(issue)
    issues = list(dict.fromkeys(issues))
    # A crash may be an accident of this environment (a warning turned error, a bug
    # fixed tomorrow): keep it out of the cache.
    if cache_dir is not None and not any(i.failed for i in issues):
        _cache_write(cache_dir, key, issues)
    return issues


# --- stage 1: the OpenAPI schema, with jsonschema-rs ------------------------------------


def _schema_dir() -> Path:
    # Found without importing openapi_spec_validator, whose import alone costs more
    # than validating a big spec with jsonschema-rs.
    spec = find_spec("openapi_spec_validator")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("openapi-spec-validator is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "schemas"


def _no_fetch(uri: str) -> Any:
    raise ValueError(f"refusing to fetch {uri}")


@functools.cache
def _validator(version: str, check_schemas: bool) -> Any:
    import jsonschema_rs

    schema = orjson.loads((_schema_dir() / _SCHEMA_DIRS[version] / "schema.json").read_bytes())
    if check_schemas:
        # The published 3.1/3.2 schemas accept any object as a Schema Object; point the
        # dynamic anchor at the 2020-12 meta-schema (built into jsonschema-rs) instead.
        schema["$defs"]["schema"] = {
            "$dynamicAnchor": "meta",
            "$ref": "https://json-schema.org/draft/2020-12/schema",
        }
    return jsonschema_rs.validator_for(schema, retriever=_no_fetch)


def _checks_schemas(version: str, data: Any) -> bool:
    if version not in ("3.1", "3.2"):
        return False  # the 2.0 and 3.0 schemas describe Schema Objects themselves
    dialect = data.get("jsonSchemaDialect") if isinstance(data, Mapping) else None
    return dialect is None or dialect in _DIALECTS


def schema_issues(version: str, data: Any, file: str, *, units: Units | None = None) -> list[Issue]:
    """Errors against the OpenAPI schema of ``version``, each at its instance path.

    ``units``: the document's (:mod:`govbot.openapi.units`). In a process that
    remembers, a version of a spec whose last version passed is checked where it changed
    (:func:`_passes`)."""
    try:
        validator = _validator(version, _checks_schemas(version, data))
        if _passes(validator, version, data, file, units):
            return []
        errors = list(itertools.islice(validator.iter_errors(data), MAX_ERRORS))
    except Exception as exc:  # jsonschema-rs on odd input (e.g. integers over 64 bits)
        return [Issue(file, "", f"the OpenAPI {version} schema check failed: {exc}", failed=True)]
    issues = []
    for error in errors:
        for path, message in _explain(error):
            issues.append(Issue(file, join("", *path), message))
    return list(dict.fromkeys(issues))


def _passes(validator: Any, version: str, data: Any, file: str, units: Units | None) -> bool:
    """Whether ``data`` passes the schema check.

    The OpenAPI schemas (2.0 to 3.2) judge each path item and each member of a
    ``components`` section on its own, by the same subschema whatever its neighbours,
    and ask nothing of how many there are. So when the last version of the spec passed,
    this one passes if a copy of it that keeps, of ``paths`` and each section, only the
    members that changed since (every other member whole) does; and when that copy
    fails, so does the document, whose errors the caller then asks for.
    """
    passed, key = _PASSED, (file, version)
    last = passed.pop(key, None) if passed is not None and units is not None else None
    # (by the same validator: a 3.1 spec's dialect decides whether schemas are checked)
    before = last[1] if last is not None and last[0] is validator else None
    ok = bool(validator.is_valid(_changed(data, before, units) if before and units else data))
    if ok and passed is not None and units is not None:
        while len(passed) >= MEMORY_SPECS:
            passed.pop(next(iter(passed)), None)
        passed[key] = (validator, units)
    return ok


def _changed(data: Mapping[str, Any], before: Units, units: Units) -> dict[str, Any]:
    """``data`` with only the members of ``paths`` and of the ``components`` sections
    that are new or changed since ``before`` (the units of both split it so: objects)."""
    old = before.digests
    changed = [u for u, digest in units.digests.items() if len(u) > 1 and old.get(u) != digest]
    shell = dict(data)
    if "paths" in shell:
        shell["paths"] = {u[1]: data["paths"][u[1]] for u in changed if u[0] == "paths"}
    if "components" in shell:
        sections: dict[str, dict[str, Any]] = {name: {} for name in data["components"]}
        for u in changed:
            if u[0] == "components":
                sections[u[1]][u[2]] = data["components"][u[1]][u[2]]
        shell["components"] = sections
    return shell


def _explain(error: Any, depth: int = 0) -> list[tuple[list[Any], str]]:
    """The most useful leaf errors under ``error`` (oneOf/anyOf say little on their own)."""
    kind = error.kind
    context = getattr(kind, "context", None) if kind.name in ("oneOf", "anyOf") else None
    if context and depth < 16:
        branches = []
        for branch in context:
            leaves = [leaf for sub in branch for leaf in _explain(sub, depth + 1)]
            # The Reference Object alternative ("$ref" is required) is never the point.
            if leaves and not all(message == _REF_REQUIRED for _, message in leaves):
                branches.append(leaves)
        branches = _merge_enums(branches)
        if branches:
            return min(branches, key=lambda b: (len(b), -max(len(p) for p, _ in b)))
    return [(list(error.instance_path), _message(error))]


def _merge_enums(branches: list[list[tuple[list[Any], str]]]) -> list[list[tuple[list[Any], str]]]:
    """Branches that each fail one ``enum`` at the same place become one: "not one of a, b, c"."""
    enum_branches = [b for b in branches if len(b) == 1 and " is not one of " in b[0][1]]
    if len(enum_branches) < 2 or len({tuple(b[0][0]) for b in enum_branches}) != 1:
        return branches
    head = enum_branches[0][0][1].split(" is not one of ")[0]
    options = ", ".join(b[0][1].split(" is not one of ", 1)[1] for b in enum_branches)
    merged = [(enum_branches[0][0][0], f"{head} is not one of {options}")]
    return [b for b in branches if b not in enum_branches] + [merged]


def _short(value: Any) -> str:
    if isinstance(value, Mapping):
        keys = list(itertools.islice(value, 4))
        shown = ", ".join(str(k) for k in keys[:3]) + (", ..." if len(keys) > 3 else "")
        return f"an object ({shown})" if keys else "an empty object"
    if isinstance(value, list):
        return f"an array of {len(value)} items"
    text = (
        orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
        if _jsonable(value)
        else repr(value)
    )
    return text if len(text) <= 80 else text[:77] + '..."'


def _jsonable(value: Any) -> bool:
    return (
        value is None
        or isinstance(value, str | bool | float)
        or (isinstance(value, int) and abs(value) < 2**63)
    )


def _message(error: Any) -> str:
    kind = error.kind
    name = kind.name
    instance = error.instance
    if name == "type":
        return f"{_short(instance)} is not of type {' or '.join(repr(t) for t in kind.types)}"
    if name == "enum":
        options = ", ".join(orjson.dumps(o).decode() for o in kind.options)
        return f"{_short(instance)} is not one of {options}"
    if name in ("oneOf", "anyOf"):
        return f"{_short(instance)} does not match any of the allowed forms ({name})"
    if name == "oneOfMultipleValid":
        return f"{_short(instance)} matches more than one of the allowed forms (oneOf)"
    if name == "pattern":
        return f"{_short(instance)} does not match the pattern {kind.pattern!r}"
    return _clipped(str(error.message))


# --- stage 2: openapi-spec-validator, located -------------------------------------------


def _handlers(documents: Mapping[str, Any]) -> dict[str, Any]:
    def local(uri: str) -> Any:
        if not uri.startswith(_BASE_URI):
            raise ValueError(f"refusing to read {uri}")
        return documents[unquote(uri[len(_BASE_URI) :].partition("#")[0])]

    # jsonschema-path falls back to urlopen for a scheme without a handler: name every
    # scheme that could reach the network.
    remote = dict.fromkeys(("http", "https", "ftp", "ftps", "ws", "wss", "<all_urls>"), _no_fetch)
    return {**remote, "file": local}


def import_libraries() -> None:
    """Import jsonschema-path and openapi-spec-validator's validators (stage 2's).

    In a process of one thread (``govbot check``) jsonschema-path is imported as where
    requests is not installed: it then takes urllib for its default URL handlers and
    retriever instead of importing requests and urllib3 (~30 ms, a tenth of a check of
    a small spec). Stage 2 never uses those defaults: every read goes through
    :func:`_handlers`. With other threads alive (the bot, the dashboard) one of them
    could be importing requests meanwhile, so it is imported as usual.
    """
    if "openapi_spec_validator.validation.validators" in sys.modules:
        return
    # Only jsonschema-path's own import runs without requests (its dependencies are
    # attrs, referencing and pathable); the validators, and the plugins pydantic loads
    # for them, import as usual.
    block = (
        "jsonschema_path" not in sys.modules
        and "requests" not in sys.modules
        and threading.active_count() == 1
    )
    if block:
        sys.modules["requests"] = None  # the import system's "not installed"
    try:
        import jsonschema_path  # noqa: F401
    finally:
        if block and "requests" in sys.modules and sys.modules["requests"] is None:
            del sys.modules["requests"]
    import openapi_spec_validator.validation.validators  # noqa: F401


@functools.cache
def _located_class(version: str) -> Any:
    import_libraries()
    from jsonschema_path import SchemaPath
    from openapi_spec_validator.validation import validators
    from openapi_spec_validator.validation.keywords import SchemaValidator, ValueValidator

    base = {
        "2.0": validators.OpenAPIV2SpecValidator,
        "3.0": validators.OpenAPIV30SpecValidator,
        "3.1": validators.OpenAPIV31SpecValidator,
        "3.2": validators.OpenAPIV32SpecValidator,
    }[version]
    wrapped = {
        name: _locating(
            cls,
            (SchemaPath, DocumentPath),
            issubclass(cls, ValueValidator),
            issubclass(cls, SchemaValidator),
        )
        for name, cls in base.keyword_validators.items()
    }
    return type(f"Located{base.__name__}", (base,), {"keyword_validators": wrapped})


def _locating(cls: type, schema_path: tuple[type, ...], is_default: bool, skip_meta: bool) -> type:
    """``cls`` whose errors remember the document path where they arose.

    openapi-spec-validator's keyword errors carry a path relative to the value checked
    (or none); the innermost keyword validator knows where that value sits. With
    ``skip_meta``, Schema Objects are not checked against their meta-schema again: stage
    1 did that for the standard dialects (in pure Python it is two thirds of the whole
    cost), and a dialect stage 1 does not know, openapi-spec-validator does not either.
    """

    def __call__(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        anchor = next((a for a in args if isinstance(a, schema_path)), None)
        prefix = tuple(anchor.parts) if anchor is not None else ()
        if is_default:
            prefix += ("default",)  # the value validator checks a schema's default
        for error in cls.__call__(self, *args, **kwargs):  # type: ignore[operator]
            if getattr(error, _TAG, None) is None:
                setattr(error, _TAG, prefix + tuple(error.path))
            yield error

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        cls.__init__(self, *args, **kwargs)  # type: ignore[misc]
        for name in ("visited_schema_ids", "meta_checked_schema_ids"):
            if isinstance(getattr(self, name, None), list):
                setattr(self, name, seen_ids(getattr(self, name)))

    members: dict[str, Any] = {"__call__": __call__}
    if skip_meta:
        members["_validate_schema_meta"] = _no_meta_check
        members["__init__"] = __init__
    return type(cls.__name__, (cls,), members)


def _no_meta_check(self: Any, schema: Any, schema_value: Any) -> None:
    return None


class _IdList(list[int]):
    """A list whose ``in`` is a set's: openapi-spec-validator's schema validator keeps the
    ids of the schemas it has seen in lists, appends to them and asks ``in`` of them for
    every schema (quadratic: a quarter of stage 2 on GitLab's spec). Those two are all it
    does with them (openapi_spec_validator/validation/keywords.py, 0.9)."""

    def __init__(self, items: Iterable[int] = ()) -> None:
        super().__init__(items)
        self._index = set(self)

    def append(self, item: int) -> None:
        super().append(item)
        self._index.add(item)

    def __contains__(self, item: object) -> bool:
        return item in self._index


def seen_ids(ids: list[int]) -> list[int]:
    """The schema validator's list of seen schema ids, with a fast ``in``."""
    return _IdList(ids)


def locate(
    parts: tuple[Any, ...],
    file: str,
    documents: Mapping[str, Any],
    refs: Mapping[tuple[str, str], tuple[str, str]],
) -> tuple[str, str]:
    """The (file, pointer) where a path through the document, refs followed, lands."""
    node, pointer = documents[file], ""
    for i, part in enumerate(parts):
        hops = 0
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and hops < 64:
            target = refs.get((file, node["$ref"]))
            if target is None:
                break
            file, pointer = target
            try:
                node = get_pointer(documents[file], pointer)
            except (KeyError, IndexError, TypeError, ValueError):
                return file, join(pointer, *parts[i:])
            hops += 1
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, TypeError, ValueError):
            return file, join(pointer, *parts[i:])
        pointer = join(pointer, part)
    return file, pointer


def detail_issues(
    version: str,
    data: Any,
    file: str,
    documents: Mapping[str, Any],
    refs: Mapping[tuple[str, str], tuple[str, str]],
    *,
    json: bool = False,
    units: Units | None = None,
) -> list[Issue]:
    """openapi-spec-validator's keyword checks, each error placed in its file.

    The validator reads the documents through :class:`DocumentPath` (the loader's refs,
    no resolution per read) when it can; when that meets something it cannot answer as
    jsonschema-path would (or the validator breaks), the validator runs again as it
    drives itself, and that run's issues are the answer. In a process that remembers,
    a single JSON document is checked unit by unit (:mod:`govbot.openapi.unitwise`).
    """
    try:
        validator_class = _located_class(version)
        from jsonschema_path import SchemaPath

        subscriptable.install()
        library = SchemaPath.from_dict(
            data,
            base_uri=_BASE_URI + quote(file),
            handlers=_handlers(documents),
            resolved_cache_maxsize=RESOLVED_CACHE_SIZE,
        )
        memory = _MEMORY  # read once: another thread may stop remembering meanwhile
        if DIRECT_READS and memory is not None and json and len(documents) == 1:
            # (a document that sets $id does not split into units: the plain run answers)
            direct = DocumentPath.root(Documents(documents, refs, file, library))
            try:
                return _unitwise(
                    validator_class, library, direct, version, file, data, refs, memory, units
                )
            except Exception:  # the plain run below is the answer; forget this spec
                memory.pop((file, version), None)
        if DIRECT_READS and not sets_ids(documents):
            direct = DocumentPath.root(Documents(documents, refs, file, library))
            try:
                return _run(validator_class(library), direct, file, documents, refs)
            except Exception:  # the library's own run below says what broke
                pass
        return _run(validator_class(library), library, file, documents, refs)
    except Exception as exc:  # a third-party validator on arbitrary input: contain it
        text = str(exc) if len(str(exc)) <= 200 else str(exc)[:197] + "..."
        return [
            Issue(
                file,
                "",
                f"openapi-spec-validator failed on this document ({type(exc).__name__}: {text}); "
                "its detailed checks are incomplete (the OpenAPI schema check passed)",
                failed=True,
            )
        ]


def _unitwise(
    validator_class: type,
    library: Any,
    direct: DocumentPath,
    version: str,
    file: str,
    data: Any,
    refs: Mapping[tuple[str, str], tuple[str, str]],
    memory: dict[tuple[str, str], unitwise.Memory],
    units: Units | None = None,
) -> list[Issue]:
    """The detailed checks of a single JSON document, unit by unit, with what ``memory``
    holds of an earlier version of the same file (any spec of that name: a record is
    reused only where the content is the same)."""
    documents = {file: data}

    def issue_at(parts: tuple[Any, ...], message: str) -> Issue:
        return _placed(parts, message, file, documents, refs)

    def issue_of(error: Any) -> Issue:
        return issue_at(getattr(error, _TAG, ()), str(error.message))

    validator = unitwise.recording_class(validator_class)(library)
    before = memory.pop((file, version), None)
    issues, remembered = unitwise.check(
        validator,
        direct,
        data,
        before,
        units=units,
        issue_of=issue_of,
        issue_at=issue_at,
        message_of=lambda error: _clipped(str(error.message)),
        issue=Issue,
        limit=MAX_ERRORS,
    )
    while len(memory) >= MEMORY_SPECS:
        memory.pop(next(iter(memory)), None)
    memory[(file, version)] = remembered
    return issues


@contextlib.contextmanager
def remembering() -> Iterator[None]:
    """Within this, the detailed checks of a spec are remembered unit by unit (for the
    next version of it: a backfill's walk), and forgotten after. The memory is the
    process's (other threads use it meanwhile): sound, since a record is reused only
    where the content it was made from is the same."""
    global _MEMORY, _PASSED
    previous, _MEMORY, _PASSED = (_MEMORY, _PASSED), {}, {}
    try:
        yield
    finally:
        _MEMORY, _PASSED = previous


def remember() -> None:
    """Remember from now on, for the life of the process (a backfill worker's)."""
    global _MEMORY, _PASSED
    if _MEMORY is None:
        _MEMORY = {}
    if _PASSED is None:
        _PASSED = {}


def _run(
    validator: Any,
    root: Any,
    file: str,
    documents: Mapping[str, Any],
    refs: Mapping[tuple[str, str], tuple[str, str]],
) -> list[Issue]:
    errors = itertools.islice(validator.root_validator(root), MAX_ERRORS)
    return [
        _placed(getattr(error, _TAG, ()), str(error.message), file, documents, refs)
        for error in errors
    ]


def _placed(
    parts: tuple[Any, ...],
    message: str,
    file: str,
    documents: Mapping[str, Any],
    refs: Mapping[tuple[str, str], tuple[str, str]],
) -> Issue:
    """An issue said at ``parts`` (a path through the document, refs followed)."""
    where, pointer = locate(parts, file, documents, refs)
    return Issue(where, pointer, _clipped(message))


def _clipped(message: str) -> str:
    return message if len(message) <= 300 else message[:297] + "..."


# --- the cache -------------------------------------------------------------------------


@functools.cache
def tool_versions() -> str:
    """The validators' versions (part of every cache key: a new release may judge anew)."""
    import importlib.metadata

    versions = []
    for dist in ("openapi-spec-validator", "jsonschema-rs", "jsonschema"):
        try:
            versions.append(f"{dist}={importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{dist}=none")
    return ",".join(versions)


def _cache_key(version: str, detail: bool, fingerprint: str) -> str:
    digest = hashlib.sha256(f"{CACHE_SCHEME}\0{tool_versions()}\0{version}\0{detail}\0".encode())
    digest.update(fingerprint.encode())
    return digest.hexdigest()


def _cache_path(directory: Path, key: str) -> Path:
    return directory / "validation" / key[:2] / f"{key}.json"


def _cache_read(directory: Path, key: str) -> list[Issue] | None:
    try:
        entry = orjson.loads(_cache_path(directory, key).read_bytes())
        if entry.get("key") != key:
            return None
        issues = []
        for file, pointer, message, failed in entry["issues"]:
            if not (
                isinstance(file, str) and isinstance(pointer, str) and isinstance(message, str)
            ):
                return None
            issues.append(Issue(file, pointer, message, failed is True))
        return issues
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # absent or corrupt: validate again


def _cache_write(directory: Path, key: str, issues: list[Issue]) -> None:
    path = _cache_path(directory, key)
    payload = orjson.dumps(
        {"key": key, "issues": [[i.file, i.pointer, i.message, i.failed] for i in issues]}
    )
    write_atomically(path, payload)
