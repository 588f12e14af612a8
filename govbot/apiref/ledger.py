"""The microversion ledger of a project, as facts with lines: what changed when.

Where OpenStack keeps it (read with :mod:`ast` or as text; nothing is imported):

* ``<pkg>/api/openstack/api_version_request.py``: ``_MIN_API_VERSION``,
  ``_MAX_API_VERSION`` and the ``REST_API_VERSION_HISTORY`` text (``* 2.87 - ...``)
  (nova, cinder, manila);
* cinder's ``<pkg>/api/microversions.py``: one constant per version;
* placement's ``<pkg>/microversion.py``: the ``VERSIONS`` list;
* ``rest_api_version_history.rst``: one section per version;
* ``releasenotes/notes/*.yaml``: reno notes (listed: a change that adds a
  microversion adds one).

A project without any of these (neutron, glance) has no ledger: :func:`read_ledger`
returns None and no microversion rule asks anything of it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from govbot.apiref import problems
from govbot.apiref.facts import Where
from govbot.apiref.operations import version_key
from govbot.apiref.rst import Title, scan
from govbot.apiref.source import FileTree, Tree
from govbot.apiref.surface import Problem

MAX_BYTES = 4 * 1024 * 1024
_ENTRY = re.compile(r"^\s*\*\s*(\d+\.\d+)\s*-\s*(.*)$")
_TITLE_VERSION = re.compile(r"^(\d+\.\d+)\b")
_SKIP_DIRS = frozenset({"tests", "test", "node_modules", "__pycache__", "build", "dist", "api-ref"})


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    version: str
    text: str
    where: Where


@dataclass(frozen=True)
class Ledger:
    max_version: str | None = None
    min_version: str | None = None
    max_where: Where | None = None
    code_entries: tuple[LedgerEntry, ...] = ()  # the history kept in the code
    history_entries: tuple[LedgerEntry, ...] = ()  # rest_api_version_history.rst
    history_files: tuple[str, ...] = ()
    notes: frozenset[str] = frozenset()  # release note files (releasenotes/notes/*.yaml)
    files: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = field(default=())

    def entry(self, version: str) -> LedgerEntry | None:
        """The history entry of ``version`` (the .rst history, else the code's)."""
        for entries in (self.history_entries, self.code_entries):
            found = next((e for e in entries if e.version == version), None)
            if found is not None:
                return found
        return None


@dataclass
class _Acc:
    tree: Tree
    max_version: str | None = None
    min_version: str | None = None
    max_where: Where | None = None
    code: list[LedgerEntry] = field(default_factory=list)
    history: list[LedgerEntry] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def read(self, path: str) -> bytes | None:
        try:
            data = self.tree.read(path)
        except OSError as exc:
            self.problem(f"{path}: cannot read: {exc.strerror or exc}", Where(path, 1))
            return None
        if len(data) > MAX_BYTES:
            self.problem(f"{path}: {len(data)} bytes, over the limit", Where(path, 1))
            return None
        self.files.append(path)
        return data

    def problem(self, message: str, where: Where) -> None:
        self.problems.append(
            problems.problem(problems.LEDGER_UNREADABLE, message, where.file, where.line)
        )

    def set_max(self, version: str, where: Where) -> None:
        key = version_key(version)
        if key is None:
            return
        current = version_key(self.max_version or "")
        if current is None or key > current:
            self.max_version, self.max_where = version, where


def ledger_kind(path: str) -> str | None:
    """Which part of a ledger ``path`` is (None: none): the files :func:`read_ledger` reads."""
    parts = path.split("/")
    if any(p in _SKIP_DIRS or p.startswith(".") for p in parts[:-1]):
        return None
    name = parts[-1]
    parent = parts[-2] if len(parts) > 1 else ""
    if name == "api_version_request.py":
        return "version"
    if name == "microversions.py" and parent == "api":
        return "constants"
    if name == "microversion.py":
        return "versions"
    if name == "rest_api_version_history.rst":
        return "history"
    if name.endswith(".yaml") and parts[-3:-1] == ["releasenotes", "notes"]:
        return "note"
    return None


def ledger_files(files: Iterable[str]) -> dict[str, list[str]]:
    """The ledger files among ``files``, by kind."""
    found: dict[str, list[str]] = {}
    for path in sorted(files):
        kind = ledger_kind(path)
        if kind is not None:
            found.setdefault(kind, []).append(path)
    return found


def read_ledger(tree: Tree | str | Path) -> Ledger | None:
    """The ledger of the project at ``tree``; None when the project keeps none.

    Release notes are listed, not read: what a change must bring is a new one.
    """
    source = tree if not isinstance(tree, str | Path) else FileTree(tree)
    files = ledger_files(source.files())
    if not any(k in files for k in ("version", "constants", "versions", "history")):
        return None
    acc = _Acc(source)
    for path in files.get("version", []):
        _version_module(acc, path)
    for path in files.get("constants", []):
        _constants(acc, path)
    for path in files.get("versions", []):
        _versions_list(acc, path)
    for path in files.get("history", []):
        _history(acc, path)
    return Ledger(
        max_version=acc.max_version,
        min_version=acc.min_version,
        max_where=acc.max_where,
        code_entries=tuple(acc.code),
        history_entries=tuple(acc.history),
        history_files=tuple(files.get("history", [])),
        notes=frozenset(files.get("note", [])),
        files=tuple(acc.files),
        problems=tuple(acc.problems),
    )


def _module(acc: _Acc, path: str) -> ast.Module | None:
    data = acc.read(path)
    if data is None:
        return None
    display = path
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


def _version_module(acc: _Acc, path: str) -> None:
    tree = _module(acc, path)
    if tree is None:
        return
    display = path
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


def _constants(acc: _Acc, path: str) -> None:
    tree = _module(acc, path)
    if tree is None:
        return
    display = path
    for name, value, line in _assignments(tree):
        is_text = isinstance(value, ast.Constant) and isinstance(value.value, str)
        if is_text and version_key(value.value) is not None:
            acc.code.append(LedgerEntry(value.value.strip(), name, Where(display, line)))


def _versions_list(acc: _Acc, path: str) -> None:
    tree = _module(acc, path)
    if tree is None:
        return
    display = path
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


def _history(acc: _Acc, path: str) -> None:
    data = acc.read(path)
    if data is None:
        return
    display = path
    try:
        blocks = scan(data.decode("utf-8", errors="replace"))
    except RecursionError:
        return
    for block in blocks:
        if isinstance(block, Title):
            m = _TITLE_VERSION.match(block.text)
            if m is not None:
                acc.history.append(LedgerEntry(m.group(1), block.text, Where(display, block.line)))
