"""Verdicts reused by content: a second check of the same inputs reads its report back.

A check's report is decided by its inputs alone, so :func:`govbot.services.check.check_pairs`
(``govbot check`` and the Gerrit review alike) looks for it under a key hashed from
all of them before loading anything:

* the bytes of every spec file of every pair: each root file is read (through the reader
  the loader uses) and hashed; the files it reaches by ``$ref`` are recorded in the entry
  with their SHA-256 and read again to confirm them on the next check;
* the policy as parsed (its ``repr``, which holds the rule profile), the rule catalogue
  (each rule's code, name, severities and code object), govbot's version and code (the
  size and mtime of each of its modules, so an edited checkout never reuses a stale
  verdict) and the validators' versions;
* the day the check judges as of (sunsets, waiver expiry), the size limit, the files
  found in directories (a fragment of those is not checked on its own).

Entries are JSON files under ``<cache dir>/verdicts``, the directory of the validation
cache (:func:`govbot.openapi.validate.cache_dir`: ``$GOVBOT_CACHE_DIR``, empty for none;
else the user's cache directory). A write goes to a temporary file renamed into place,
so a concurrent reader sees a whole entry or none; an entry that cannot be read or
decoded is a miss. After a write the directory is kept under :data:`MAX_BYTES` by
removing the least recently used entries. Checks whose outcome depends on more than
bytes (an api-ref tree with its project, a ``$ref`` to a missing file, a validator or
rule that crashed) are not stored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import hashlib
import os
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson

import govbot
from govbot.audience import Classification
from govbot.audience.model import Access, Decision, PolicyEvidence
from govbot.errors import GovbotError
from govbot.findings import (
    Audience,
    Finding,
    Location,
    OperationRef,
    Report,
    Scope,
    Severity,
    Side,
    Summary,
)
from govbot.openapi import validate as validation
from govbot.openapi.files import FileReader, Reader
from govbot.openapi.load import open_source
from govbot.openapi.problems import OUTSIDE_ROOT, REF_FILE_MISSING, VALIDATOR_FAILED
from govbot.paths import write_atomically
from govbot.policy import Policy
from govbot.rules.policy_rules import RULE_CRASHED
from govbot.rules.registry import Catalog
from govbot.surface import Spec

SCHEME = "1"  # bump when what is stored, or how the key is made, changes
MAX_BYTES = 256 * 1024 * 1024  # the whole verdict directory
# A process prunes the directory at its first write, then each time it has written this
# much since: a scan of the whole directory per write made a backfill's writes (one per
# commit, hundreds in a row) quadratic. The directory may so pass MAX_BYTES by this
# much per process writing.
PRUNE_AFTER_BYTES = MAX_BYTES // 32
_unpruned: int | None = None  # bytes this process wrote since it last pruned
# Problems that depend on more than the bytes hashed: a file that is missing or outside
# the root now may be there tomorrow; a validator crash may be an accident of this run.
_UNSTABLE = frozenset((OUTSIDE_ROOT, REF_FILE_MISSING, VALIDATOR_FAILED, RULE_CRASHED.code))
_TYPES: Mapping[str, type] = {
    t.__name__: t
    for t in (
        Report,
        Summary,
        Finding,
        Location,
        OperationRef,
        Classification,
        Decision,
        PolicyEvidence,
        Access,
    )
}
_ENUMS: Mapping[str, type[enum.Enum]] = {t.__name__: t for t in (Severity, Audience, Side, Scope)}


class SpecSource(Protocol):
    """Where a spec comes from (:class:`govbot.services.check.SpecSource`, which imports
    this module)."""

    @property
    def path(self) -> str: ...
    @property
    def reader(self) -> Reader | None: ...
    @property
    def root(self) -> Path | None: ...
    @property
    def api_ref(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Source:
    """One root file of a check, as the loader reads it."""

    reader: Reader
    rel: str


@dataclass(frozen=True)
class Lookup:
    """The key of one check and its root files (base, head of each pair, in order)."""

    key: str
    sources: tuple[Source | None, ...]


def directory() -> Path | None:
    """Where verdicts are stored; None when caching is off (``GOVBOT_CACHE_DIR=``)."""
    root = validation.cache_dir()
    return root / "verdicts" if root is not None else None


def prepare(
    pairs: Sequence[tuple[SpecSource | None, SpecSource | None]],
    *,
    policy: Policy,
    today: dt.date,
    limit: int,
    drop: Iterable[str],
) -> Lookup | None:
    """The key of a check of ``pairs``; None when it is not one to cache."""
    policy_text = repr(policy)
    if " at 0x" in policy_text:  # an object without a stable repr: no stable key
        return None
    digest = hashlib.sha256(
        "\0".join(
            (
                SCHEME,
                _code_digest(),
                validation.tool_versions(),
                catalog_digest(policy.catalog),
                policy_text,
                today.isoformat(),
                str(limit),
                "\n".join(sorted(drop)),
            )
        ).encode()
    )
    sources: list[Source | None] = []
    for pair in pairs:
        for src in pair:
            if src is None:
                digest.update(b"\0-")
                sources.append(None)
                continue
            if src.api_ref:
                return None  # read with its project: more than its bytes decide
            found = _source(src, limit)
            if found is None:
                return None
            source, data = found
            where = str(source.reader.root) if isinstance(source.reader, FileReader) else ""
            for part in (src.path, type(source.reader).__name__, where, source.rel):
                digest.update(b"\0" + part.encode())
            digest.update(b"\0" + hashlib.sha256(data).digest())
            sources.append(source)
    return Lookup(digest.hexdigest(), tuple(sources))


def read(root: Path, lookup: Lookup) -> Report[Classification] | None:
    """The stored report of ``lookup``; None when absent, stale or unreadable."""
    try:
        entry = orjson.loads(_path(root, lookup.key).read_bytes())
        if entry.get("key") != lookup.key:
            return None
        for index, rel, sha in entry["deps"]:
            source = lookup.sources[index]
            if source is None or hashlib.sha256(source.reader.read(rel)).hexdigest() != sha:
                return None
        report = _decode(entry["report"])
    except (OSError, GovbotError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None  # absent, changed or corrupt: check again
    return report if isinstance(report, Report) else None


def write(
    root: Path,
    lookup: Lookup,
    report: Report[Classification],
    specs: Sequence[Spec | None],
) -> bool:
    """Store ``report``, checked from ``specs`` (aligned with ``lookup.sources``);
    False when it is not one to reuse or cannot be stored."""
    if any(f.rule in _UNSTABLE for f in (*report.findings, *report.waived, *report.suppressed)):
        return False
    deps: list[tuple[int, str, str]] = []
    for index, (source, spec) in enumerate(zip(lookup.sources, specs, strict=True)):
        if source is None or spec is None:
            continue
        if any(p.code in _UNSTABLE for p in spec.problems):
            return False
        for rel in sorted(set(spec.documents) - {source.rel}):
            try:
                deps.append((index, rel, hashlib.sha256(source.reader.read(rel)).hexdigest()))
            except (OSError, GovbotError):
                return False
    try:
        payload = orjson.dumps({"key": lookup.key, "deps": deps, "report": _encode(report)})
    except TypeError:
        return False  # a value the codec does not know: check again next time
    stored = write_atomically(_path(root, lookup.key), payload)
    if stored:
        _written(root, len(payload))
    return stored


def _written(root: Path, size: int) -> None:
    global _unpruned
    if _unpruned is not None and _unpruned + size < PRUNE_AFTER_BYTES:
        _unpruned += size
        return
    prune(root)
    _unpruned = 0


def prune(root: Path, max_bytes: int = MAX_BYTES) -> None:
    """Remove the least recently used entries until the directory holds ``max_bytes``."""
    entries: list[tuple[int, int, Path]] = []
    try:
        for sub in os.scandir(root):
            if sub.is_dir():
                for e in os.scandir(sub.path):
                    st = e.stat()
                    entries.append((max(st.st_atime_ns, st.st_mtime_ns), st.st_size, Path(e.path)))
    except OSError:
        return
    total = sum(size for _, size, _ in entries)
    for _, size, path in sorted(entries, key=lambda e: e[0]):
        if total <= max_bytes:
            break
        path.unlink(missing_ok=True)
        total -= size


def catalog_digest(catalog: Catalog) -> str:
    """What the rules of ``catalog`` are: codes, names, severities and their code."""
    # Worked out once per catalogue object (a catalogue is immutable, and a process has
    # one or two): a backfill asks for it at every commit.
    known = _CATALOG_DIGESTS.get(id(catalog))
    if known is not None and known[0] is catalog:
        return known[1]
    digest = _catalog_digest(catalog)
    if len(_CATALOG_DIGESTS) >= 8:
        _CATALOG_DIGESTS.clear()
    _CATALOG_DIGESTS[id(catalog)] = (catalog, digest)
    return digest


_CATALOG_DIGESTS: dict[int, tuple[Catalog, str]] = {}


def _catalog_digest(catalog: Catalog) -> str:
    digest = hashlib.sha256()
    for rule in catalog:
        code = getattr(rule.check, "__code__", None)
        body = _code_bytes(code) if isinstance(code, types.CodeType) else b""
        name = getattr(rule.check, "__qualname__", "")
        severities = sorted((str(k), str(v)) for k, v in rule.severity.items())
        head = f"{rule.code}\0{rule.name}\0{sorted(rule.profiles)}\0{severities}\0{name}\0"
        digest.update(head.encode() + hashlib.sha256(body).digest())
    return digest.hexdigest()


# --- helpers ---------------------------------------------------------------------------


def _code_bytes(code: types.CodeType) -> bytes:
    """A function's bytecode and constants, nested functions' included."""
    return b"\0".join((code.co_code, *(_const_bytes(c) for c in code.co_consts)))


def _const_bytes(const: Any) -> bytes:
    # The repr of a nested function holds its address, and a set's order follows string
    # hashing, both different in every process: spelled out in a stable form instead.
    if isinstance(const, types.CodeType):
        return _code_bytes(const)
    if isinstance(const, frozenset):
        return b"{" + b",".join(sorted(_const_bytes(c) for c in const)) + b"}"
    if isinstance(const, tuple):
        return b"(" + b",".join(_const_bytes(c) for c in const) + b")"
    return repr(const).encode()


def _source(src: SpecSource, limit: int) -> tuple[Source, bytes] | None:
    """The root file of ``src`` and its bytes; None when the loader would refuse it."""
    try:
        reader, rel = open_source(src.path, src.reader, src.root)
        size = getattr(reader, "size", None)
        if callable(size) and size(rel) > limit:
            return None  # refused unread by the loader; not worth reading here
        data = reader.read(rel)
    except (OSError, GovbotError):
        return None  # the check itself says why
    return (Source(reader, rel), data) if len(data) <= limit else None


@functools.cache
def _code_digest() -> str:
    package = Path(govbot.__file__).parent
    digest = hashlib.sha256(govbot.__version__.encode())
    for path in sorted(package.rglob("*.py")):
        st = path.stat()
        digest.update(f"{path.relative_to(package)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _path(root: Path, key: str) -> Path:
    return root / key[:2] / f"{key}.json"


# The exact types a report is made of, for the quick paths of _encode (a report of a
# 2 MB spec is some 150,000 values).
_PLAIN = frozenset((str, int, float, bool, type(None)))
_FIELD_NAMES: Mapping[type, tuple[str, ...]] = {
    t: tuple(f.name for f in dataclasses.fields(t)) for t in _TYPES.values()
}
_ENUM_TYPES = frozenset(_ENUMS.values())


def _encode(value: Any) -> Any:
    """A report as JSON: dataclasses and enums by type name, mappings with string keys."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind in _ENUM_TYPES:
        return {"@e": kind.__name__, "v": value.value}
    names = _FIELD_NAMES.get(kind)
    if names is not None:
        return {"@t": kind.__name__, "f": {n: _encode(getattr(value, n)) for n in names}}
    if kind is tuple or kind is list:
        return [_encode(v) for v in value]
    if isinstance(value, enum.Enum):
        return {"@e": type(value).__name__, "v": value.value}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if _TYPES.get(name) is not type(value):
            raise TypeError(f"not stored: {name}")
        fields = {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"@t": name, "f": fields}
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("a mapping with keys other than strings")
        return {"@m": {k: _encode(v) for k, v in value.items()}}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"not stored: {type(value).__name__}")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)  # every sequence of a report is a tuple
    if not isinstance(value, dict):
        return value
    if "@e" in value:
        return _ENUMS[value["@e"]](value["v"])
    if "@m" in value:
        return {k: _decode(v) for k, v in value["@m"].items()}
    cls = _TYPES[value["@t"]]
    return cls(**{k: _decode(v) for k, v in value["f"].items()})
