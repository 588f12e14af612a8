"""Loading OpenAPI documents: parse with a line map, refuse bad input, resolve ``$ref``, validate.

Public contract::

    class Reader(Protocol):
        def read(self, relpath: str) -> bytes   # raises FileNotFoundError
        # optional: def size(self, relpath: str) -> int, to refuse big files unread

    FileReader(root)                            # reads files under a directory, never outside it
    load_spec(path, *, reader=None, root=None, max_bytes=64 MiB, validate=True, ...) -> Spec

``path`` is relative to the reader's root when a reader is given; otherwise it is a
filesystem path and ``root`` (default: the git work tree containing it, else its
directory) bounds where ``$ref``s may point. Files reached by ``$ref`` are read through
the same reader, so a reader over a git revision resolves them at that revision.

Everything wrong with the *input* becomes a :class:`~govbot.findings.Problem` in
``Spec.problems`` with one of the codes below, and no severity: the rules of the same
code in :mod:`govbot.rules.loading` report them under the policy;
``Spec.data`` is None when the root document itself could not be used. Only a root file
that cannot be read at all raises (:class:`SpecNotFound`, :class:`~govbot.errors.SpecError`).

Work happens once per content: a self-contained document (one file, no ``$ref`` to
another) loaded again while its first load is still in use (the base and head of a
pair being the same bytes, two callers in one process) is the same :class:`Spec`,
found by the path, the options and the SHA-256 of its bytes. The table holds specs
weakly, so it never keeps one alive.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import weakref
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from govbot.errors import SpecError
from govbot.findings import Problem
from govbot.openapi import lineage
from govbot.openapi import validate as validation
from govbot.openapi.files import FileReader, OutsideRoot, Reader
from govbot.openapi.linemap import JsonLines, fixed_line
from govbot.openapi.parse import Document, parse_document
from govbot.openapi.problems import (
    DETAIL_MAX_BYTES,
    INVALID,
    MAX_ALIAS_NODES,
    MAX_BYTES,
    MAX_DEPTH,
    MAX_VALIDATION_FINDINGS,
    NOT_OPENAPI,
    OUTSIDE_ROOT,
    REF_FILE_MISSING,
    REF_LOOP,
    REF_TARGET_MISSING,
    REMOTE_REF,
    SUPPORTED_VERSIONS,
    UNSUPPORTED_VERSION,
    VALIDATOR_FAILED,
    Refused,
)
from govbot.openapi.refs import Loader
from govbot.openapi.units import Units
from govbot.surface import LineLookup, Spec


class SpecNotFound(SpecError, FileNotFoundError):
    """The spec to load does not exist (a one-line message, exit code 2)."""


# (path, options, sha256 of the bytes) -> the spec loaded from them, while in use.
_LOADED: weakref.WeakValueDictionary[tuple[Any, ...], Spec] = weakref.WeakValueDictionary()


_UTF8_BOM = b"\xef\xbb\xbf"


def _version(file: str, data: Any) -> tuple[str, Refused | None]:
    if data is None:
        return "", Refused(NOT_OPENAPI, f"{file}: empty document, not an OpenAPI description", 1)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single {type(data).__name__} value"
        return "", Refused(
            NOT_OPENAPI, f"{file}: the top level is {kind}, not an OpenAPI description"
        )
    if "openapi" in data:
        field_name, raw = "openapi", data["openapi"]
    elif "swagger" in data:
        field_name, raw = "swagger", data["swagger"]
    else:
        return "", Refused(
            NOT_OPENAPI, f"{file}: no `openapi` or `swagger` field; not an OpenAPI description"
        )
    text = str(raw) if isinstance(raw, str | int | float) and not isinstance(raw, bool) else ""
    version = ".".join(text.split(".")[:2])
    ok = (field_name == "swagger" and version == "2.0") or (
        field_name == "openapi" and version in SUPPORTED_VERSIONS and version != "2.0"
    )
    if not ok:
        return "", Refused(
            UNSUPPORTED_VERSION,
            f"{file}: unsupported version {field_name}: {raw!r} (supported: swagger 2.0, openapi 3.0, 3.1, 3.2)",
        )
    return version, None


def open_source(
    path: str | Path, reader: Reader | None, root: str | Path | None
) -> tuple[Reader, str]:
    """The reader a spec's files are read through and the root file's path in it (what
    :func:`load_spec` reads; :mod:`govbot.services.verdicts` hashes the same bytes)."""
    if reader is not None:
        rel = posixpath.normpath(str(path).replace(os.sep, "/"))
        if rel.startswith(("../", "/")) or rel == "..":
            raise SpecError(f"{path}: not inside the reader's root")
        return reader, rel
    p = Path(path)
    if not p.exists():
        raise SpecNotFound(f"{path}: no such file")
    if p.is_dir():
        raise SpecError(f"{path}: is a directory, not a spec file")
    parent = p.absolute().parent.resolve()
    root_dir = Path(root).resolve() if root is not None else (_git_root(parent) or parent)
    try:
        rel = (parent / p.name).relative_to(root_dir)
    except ValueError:
        raise SpecError(f"{path}: not inside the root {root_dir}") from None
    return FileReader(root_dir), rel.as_posix()


def _git_root(directory: Path) -> Path | None:
    for candidate in (directory, *directory.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def load_spec(
    path: str | Path,
    *,
    reader: Reader | None = None,
    root: str | Path | None = None,
    max_bytes: int = MAX_BYTES,
    validate: bool = True,
    cache: bool = True,
    max_alias_nodes: int = MAX_ALIAS_NODES,
    max_depth: int = MAX_DEPTH,
    detail_max_bytes: int = DETAIL_MAX_BYTES,
) -> Spec:
    """Load, resolve and (unless ``validate=False``) validate one OpenAPI document.

    ``cache=False`` (or ``GOVBOT_CACHE_DIR=`` empty) turns off the validation cache.
    Documents up to ``detail_max_bytes`` also get openapi-spec-validator's detailed
    checks; bigger ones only the (fast) OpenAPI schema check.
    Raises :class:`SpecNotFound` or :class:`~govbot.errors.SpecError` only when the
    root file cannot be read at all.
    """
    reader, rel = open_source(path, reader, root)
    loader = Loader(
        reader, max_bytes=max_bytes, max_alias_nodes=max_alias_nodes, max_depth=max_depth
    )
    data = _read_root(loader, rel)
    if isinstance(data, Spec):
        return data
    options = (max_bytes, validate, cache, max_alias_nodes, max_depth, detail_max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    key = (rel, options, digest)
    known = _LOADED.get(key)
    if known is not None:
        return known
    spec = _load_root(
        loader, rel, data, validate=validate, cache=cache, detail=detail_max_bytes, digest=digest
    )
    if set(loader.documents) == {rel} and not loader.failed:  # nothing read but these bytes
        _LOADED[key] = spec
    return spec


def _load_root(
    loader: Loader,
    rel: str,
    data: bytes,
    *,
    validate: bool,
    cache: bool,
    detail: int,
    digest: str | None = None,
) -> Spec:
    # A version of a file read before in this process: only its changed part parsed, or
    # parsed whole and its unchanged parts shared.
    plain = len(data) <= loader.max_bytes and not data.startswith(_UTF8_BOM)
    followed = lineage.reparse(rel, data) if plain else None
    if followed is not None:
        doc = Document(
            rel,
            followed.data,
            JsonLines(
                data,
                followed.data,
                minified=followed.layout is not None and followed.layout.minified,
            ),
            True,
            digest or hashlib.sha256(data).hexdigest(),
            len(data),
            dict.fromkeys(followed.refs),
        )
        loader.adopt(doc)
    else:
        parsed = loader.parse(rel, data, digest=digest)
        if parsed is None:
            problem = loader.problems[0]
            return _refused_spec(rel, Refused(problem.code, problem.message, problem.line))
        doc = parsed
    version, refused = _version(rel, doc.data)
    if refused is not None:
        return _refused_spec(rel, refused, lines=doc.lines)
    if followed is None and doc.is_json:
        followed = lineage.follow(rel, doc.data, data if plain else None)
    if followed is not None and followed.previous is not None:
        before = followed.previous.lines.get(rel)
        if isinstance(doc.lines, JsonLines) and isinstance(before, JsonLines):
            doc.lines.inherit(before)  # its measures of the parts both versions hold
    refs = loader.resolve(doc)
    lines: dict[str, LineLookup] = {f: d.lines for f, d in loader.documents.items()}
    for file, line in loader.failed_lines.items():
        lines.setdefault(file, fixed_line(line))
    spec = Spec(
        file=rel,
        data=doc.data,
        version=version,
        documents={f: d.data for f, d in loader.documents.items()},
        refs=refs,
        lines=lines,
    )
    problems = [_placed(spec, p) for p in loader.problems]
    if validate:
        units = followed.units if followed is not None else None
        problems.extend(
            _validation_problems(
                spec, loader, doc, cache=cache, detail_max_bytes=detail, units=units
            )
        )
    spec = replace(spec, problems=tuple(problems))
    if followed is not None and set(loader.documents) == {rel} and not loader.failed:
        lineage.keep(followed, spec)
    return spec


def _read_root(loader: Loader, rel: str) -> bytes | Spec:
    """The root file's bytes, or a refused spec saying why it was not read."""
    try:
        return loader.read(rel)
    except Refused as refused:
        return _refused_spec(rel, refused)
    except OutsideRoot:
        message = f"{rel}: resolves (through a symlink) outside the repository root"
        return _refused_spec(rel, Refused(OUTSIDE_ROOT, message))
    except FileNotFoundError:
        raise SpecNotFound(f"{rel}: no such file") from None
    except OSError as exc:
        raise SpecError(f"{rel}: cannot read: {exc.strerror or exc}") from None


def _placed(spec: Spec, problem: Problem) -> Problem:
    """The problem with its line, from the line maps when the reader did not know it."""
    if problem.line is not None:
        return problem
    return replace(problem, line=spec.line(problem.file, problem.pointer))


def _refused_spec(file: str, refused: Refused, *, lines: LineLookup | None = None) -> Spec:
    lookup = fixed_line(refused.line) if lines is None or refused.line is not None else lines
    line = refused.line if refused.line is not None else lookup("")
    problem = Problem(refused.code, refused.message, file, line=line)
    return Spec(file=file, data=None, lines={file: lookup}, problems=(problem,))


def _validation_problems(
    spec: Spec,
    loader: Loader,
    root: Document,
    *,
    cache: bool,
    detail_max_bytes: int,
    units: Units | None = None,
) -> Iterator[Problem]:
    # Refs the loader refused would make the detailed validator fail for the wrong reason.
    refs_ok = not any(p.code in _REF_CODES or p.file != root.file for p in loader.problems)
    fingerprint = "\0".join(f"{f}\0{d.digest}" for f, d in sorted(loader.documents.items()))
    issues = validation.validate_document(
        spec.version,
        root.data,
        file=root.file,
        documents=spec.documents,
        refs=spec.refs,
        detail=refs_ok and root.size <= detail_max_bytes,
        fingerprint=fingerprint,
        cache_dir=validation.cache_dir() if cache else None,
        json=root.is_json,
        units=units,
    )
    per_file: dict[str, list[Problem]] = {}
    for issue in issues:
        code = VALIDATOR_FAILED if issue.failed else INVALID
        if issue.failed:
            message = f"{issue.file}: {issue.message}"
        else:
            where = issue.pointer or "the top level"
            message = f"{issue.file}: invalid OpenAPI {spec.version} at {where}: {issue.message}"
        line = spec.line(issue.file, issue.pointer)
        per_file.setdefault(issue.file, []).append(
            Problem(code, message, issue.file, issue.pointer, line)
        )
    for file, found in per_file.items():
        found.sort(key=lambda p: (p.line or 0, p.pointer))
        invalid = [p for p in found if p.code == INVALID]
        yield from (p for p in found if p.code != INVALID)
        yield from invalid[:MAX_VALIDATION_FINDINGS]
        if len(invalid) > MAX_VALIDATION_FINDINGS:
            rest = len(invalid) - MAX_VALIDATION_FINDINGS
            message = f"{file}: {rest} more OpenAPI {spec.version} validation errors not shown"
            yield Problem(INVALID, message, file, "", spec.line(file, ""))


_REF_CODES = frozenset((REMOTE_REF, OUTSIDE_ROOT, REF_FILE_MISSING, REF_TARGET_MISSING, REF_LOOP))


__all__ = [
    "DETAIL_MAX_BYTES",
    "FileReader",
    "Reader",
    "SpecNotFound",
    "load_spec",
    "open_source",
    "parse_document",
]
