"""The microversion ledger of a project, as facts with lines: what changed when.

Where OpenStack keeps it (read with :mod:`ast` or as text; nothing is imported):

* ``<pkg>/api/openstack/api_version_request.py``: ``_MIN_API_VERSION``,
  ``_MAX_API_VERSION`` and the ``REST_API_VERSION_HISTORY`` text (``* 2.87 - ...``)
  (nova, cinder, manila);
* cinder's ``<pkg>/api/microversions.py``: one constant per version;
* placement's ``<pkg>/microversion.py``: the ``VERSIONS`` list;
* ``rest_api_version_history.rst``: one section per version;
* ``releasenotes/notes/*.yaml``: reno notes, by section (``features``, ``upgrade``,
  ``deprecations`` ...).

A project without any of these (neutron, glance) has no ledger: :func:`read_ledger`
returns None and no microversion rule asks anything of it.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from govbot.apiref import problems
from govbot.apiref.facts import Where
from govbot.apiref.operations import version_key
from govbot.apiref.rst import Title, scan
from govbot.apiref.surface import Finding, parse_yaml_document

MAX_BYTES = 4 * 1024 * 1024
_ENTRY = re.compile(r"^\s*\*\s*(\d+\.\d+)\s*-\s*(.*)$")
_TITLE_VERSION = re.compile(r"^(\d+\.\d+)\b")
_SKIP_DIRS = frozenset({"tests", "test", "node_modules", "__pycache__", "build", "dist", "api-ref"})


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    version: str
    text: str
    where: Where


@dataclass(frozen=True, slots=True)
class ReleaseNote:
    file: str
    sections: Mapping[str, tuple[tuple[str, int], ...]]  # section -> (text, line) items


@dataclass(frozen=True)
class Ledger:
    max_version: str | None = None
    min_version: str | None = None
    max_where: Where | None = None
    code_entries: tuple[LedgerEntry, ...] = ()  # the history kept in the code
    history_entries: tuple[LedgerEntry, ...] = ()  # rest_api_version_history.rst
    notes: tuple[ReleaseNote, ...] = ()
    files: tuple[str, ...] = ()
    problems: tuple[Finding, ...] = field(default=())

    def entry(self, version: str) -> LedgerEntry | None:
        return next((e for e in self.history_entries if e.version == version), None)


@dataclass
class _Acc:
    root: Path
    max_version: str | None = None
    min_version: str | None = None
    max_where: Where | None = None
    code: list[LedgerEntry] = field(default_factory=list)
    history: list[LedgerEntry] = field(default_factory=list)
    notes: list[ReleaseNote] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)

    def display(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def read(self, path: Path) -> bytes | None:
        display = self.display(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.problem(f"{display}: cannot read: {exc.strerror or exc}", Where(display, 1))
            return None
        if len(data) > MAX_BYTES:
            self.problem(f"{display}: {len(data)} bytes, over the limit", Where(display, 1))
            return None
        self.files.append(display)
        return data

    def problem(self, message: str, where: Where) -> None:
        self.problems.append(
            problems.problem(problems.LEDGER_UNREADABLE, message, where.file, where.line)
        )

    def set_max(self, version: str, where: Where) -> None:
        if version_key(version) is None:
            return
        if self.max_version is None or version_key(version) > version_key(self.max_version):  # type: ignore[operator]
            self.max_version, self.max_where = version, where


def ledger_files(tree: Path) -> dict[str, list[Path]]:
    """The ledger files under ``tree`` by kind."""
    found: dict[str, list[Path]] = {}
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS)
        here = Path(dirpath)
        for name in sorted(filenames):
            path = here / name
            kind = None
            if name == "api_version_request.py":
                kind = "version"
            elif name == "microversions.py" and here.name == "api":
                kind = "constants"
            elif name == "microversion.py":
                kind = "versions"
            elif name == "rest_api_version_history.rst":
                kind = "history"
            elif (
                name.endswith(".yaml")
                and here.name == "notes"
                and here.parent.name == "releasenotes"
            ):
                kind = "note"
            if kind:
                found.setdefault(kind, []).append(path)
    return found


def read_ledger(tree: str | Path, *, notes: bool = True) -> Ledger | None:
    """The ledger of the project at ``tree``; None when the project keeps none."""
    root = Path(tree).resolve()
    files = ledger_files(root)
    if not any(k in files for k in ("version", "constants", "versions", "history")):
        return None
    acc = _Acc(root)
    for path in files.get("version", []):
        _version_module(acc, path)
    for path in files.get("constants", []):
        _constants(acc, path)
    for path in files.get("versions", []):
        _versions_list(acc, path)
    for path in files.get("history", []):
        _history(acc, path)
    if notes:
        for path in files.get("note", []):
            _note(acc, path)
    return Ledger(
        max_version=acc.max_version,
        min_version=acc.min_version,
        max_where=acc.max_where,
        code_entries=tuple(acc.code),
        history_entries=tuple(acc.history),
        notes=tuple(acc.notes),
        files=tuple(acc.files),
        problems=tuple(acc.problems),
    )


def _module(acc: _Acc, path: Path) -> ast.Module | None:
    data = acc.read(path)
    if data is None:
        return None
    display = acc.display(path)
    try:
        return ast.parse(data, filename=display)
    except SyntaxError as exc:
        line = exc.lineno or 1
        acc.problem(
            f"{display}: Python syntax error at line {line}: {exc.msg}", Where(display, line)
        )
    except (ValueError, RecursionError, MemoryError) as exc:
        acc.problem(f"{display}: cannot be parsed: {type(exc).__name__}", Where(display, 1))
    return None


def _assignments(tree: ast.Module) -> Iterable[tuple[str, ast.expr, int]]:
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target = stmt.targets[0]
            if isinstance(target, ast.Name):
                yield target.id, stmt.value, stmt.lineno


def _version_module(acc: _Acc, path: Path) -> None:
    tree = _module(acc, path)
    if tree is None:
        return
    display = acc.display(path)
    for name, value, line in _assignments(tree):
        text = (
            value.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str)
            else None
        )
        if text is None:
            continue
        if name == "_MAX_API_VERSION":
            acc.set_max(text.strip(), Where(display, line))
        elif name == "_MIN_API_VERSION":
            acc.min_version = text.strip()
        elif name == "REST_API_VERSION_HISTORY":
            acc.code.extend(_docstring_entries(text, display, value.lineno))


def _docstring_entries(text: str, file: str, first_line: int) -> list[LedgerEntry]:
    out: list[LedgerEntry] = []
    current: list[str] = []
    start = 0
    version = ""
    for offset, line in enumerate(text.splitlines()):
        m = _ENTRY.match(line)
        if m is not None:
            if version:
                out.append(LedgerEntry(version, " ".join(current), Where(file, start)))
            version, current, start = m.group(1), [m.group(2).strip()], first_line + offset
        elif version and line.strip():
            current.append(line.strip())
    if version:
        out.append(LedgerEntry(version, " ".join(current), Where(file, start)))
    return out


def _constants(acc: _Acc, path: Path) -> None:
    tree = _module(acc, path)
    if tree is None:
        return
    display = acc.display(path)
    for name, value, line in _assignments(tree):
        is_text = isinstance(value, ast.Constant) and isinstance(value.value, str)
        if is_text and version_key(value.value) is not None:
            acc.code.append(LedgerEntry(value.value.strip(), name, Where(display, line)))


def _versions_list(acc: _Acc, path: Path) -> None:
    tree = _module(acc, path)
    if tree is None:
        return
    display = acc.display(path)
    for name, value, _ in _assignments(tree):
        if name != "VERSIONS" or not isinstance(value, ast.List):
            continue
        for item in value.elts:
            if isinstance(item, ast.Constant) and isinstance(item.value, str):
                where = Where(display, item.lineno)
                acc.code.append(LedgerEntry(item.value, "", where))
                acc.set_max(item.value, where)
                if acc.min_version is None:
                    acc.min_version = item.value


def _history(acc: _Acc, path: Path) -> None:
    data = acc.read(path)
    if data is None:
        return
    display = acc.display(path)
    try:
        blocks = scan(data.decode("utf-8", errors="replace"))
    except RecursionError:
        return
    for block in blocks:
        if isinstance(block, Title):
            m = _TITLE_VERSION.match(block.text)
            if m is not None:
                acc.history.append(LedgerEntry(m.group(1), block.text, Where(display, block.line)))


def _note(acc: _Acc, path: Path) -> None:
    data = acc.read(path)
    if data is None:
        return
    display = acc.display(path)
    parsed = parse_yaml_document(display, data)
    if isinstance(parsed, str):
        acc.problem(parsed, Where(display, 1))
        return
    value, lines = parsed
    if not isinstance(value, Mapping):
        return
    sections: dict[str, tuple[tuple[str, int], ...]] = {}
    for section, items in value.items():
        entries = items if isinstance(items, list) else [items]
        kept = []
        for i, item in enumerate(entries):
            if isinstance(item, str):
                pointer = f"/{section}/{i}" if isinstance(items, list) else f"/{section}"
                kept.append((item, lines(pointer) or 1))
        sections[str(section)] = tuple(kept)
    acc.notes.append(ReleaseNote(display, sections))
