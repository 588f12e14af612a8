"""Policy defaults (policy-in-code) read from Python source with :mod:`ast`, never imported.

OpenStack services declare who may call what as ``RuleDefault`` /
``DocumentedRuleDefault`` objects in ``<package>/policies/*.py`` (neutron's base rules
live in neutron-lib's ``policy`` package). This module parses those files and evaluates
only a small, safe subset of Python expressions to recover each default: string
literals, module constants (also across the policy modules' imports, e.g.
``base.PROJECT_READER_OR_ADMIN``), ``+`` concatenation, ``%`` and ``str.format`` with
plain ``%s`` / ``%(name)s`` / ``{}`` / ``{name}`` fields, f-strings, lists, tuples and
dicts, ``DeprecatedRule(name, check_str)`` (and a project's subclass of it), and calls
of a function whose whole body joins its arguments (neutron-lib's ``policy_or``). Nothing is executed, so module-level code in a policy file never runs; what the
subset cannot express is recorded as unresolved, never guessed.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govbot.apiref import problems
from govbot.apiref.facts import Skip, Where
from govbot.apiref.pysafe import (
    Joiner,
    Unresolved,
    arguments,
    as_text,
    bounded,
    braces,
    callee,
    joiner,
    percent,
)
from govbot.apiref.source import Tree, tree_of
from govbot.apiref.surface import Problem

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_DEPTH = 60
_RULE_CLASSES = frozenset({"RuleDefault", "DocumentedRuleDefault"})
_PACKAGE_DIRS = frozenset({"policies", "policy"})
_ACTION = re.compile(r"^(?P<path>.*?)\s*\((?P<action>[^()]+)\)\s*$")


@dataclass(frozen=True, slots=True)
class PolicyOperation:
    method: str
    path: str
    action: str = ""

    @property
    def label(self) -> str:
        base = f"{self.method} {self.path}"
        return f"{base} ({self.action})" if self.action else base


@dataclass(frozen=True, slots=True)
class PolicyDefault:
    name: str
    check_str: str
    operations: tuple[PolicyOperation, ...]
    where: Where
    scope_types: tuple[str, ...] = ()
    # The check string of its ``deprecated_rule``: while a default is deprecated,
    # oslo.policy lets in whoever the old string lets in too (None: there is none; ""
    # is a check string that lets anyone in).
    deprecated_check_str: str | None = None


@dataclass(frozen=True, slots=True)
class _DeprecatedRule:
    """An ``oslo_policy.policy.DeprecatedRule(name, check_str)``, as a value."""

    name: str
    check_str: str


@dataclass(frozen=True)
class PolicyDefaults:
    """Every default found in the trees, by name (a later definition of a name wins)."""

    policies: Mapping[str, PolicyDefault]
    files: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    unresolved: tuple[Skip, ...] = ()

    def naming(self) -> Iterator[PolicyDefault]:
        """The defaults that name API operations."""
        return (p for p in self.policies.values() if p.operations)


@dataclass(frozen=True, slots=True)
class _ModuleRef:
    name: str


@dataclass(frozen=True, slots=True)
class _File:
    tree: int  # index of its tree in the loader's trees
    path: str  # relative to that tree's root


@dataclass
class _Module:
    name: str
    file: _File
    display: str
    tree: ast.Module | None = None
    env: dict[str, Any] = field(default_factory=dict)
    done: bool = False
    busy: bool = False


class _Loader:
    def __init__(self, trees: Sequence[Tree]) -> None:
        self.trees = trees
        self.index: dict[str, _File] = {}  # dotted module name -> file
        self.modules: dict[str, _Module] = {}
        self.policies: dict[str, PolicyDefault] = {}
        self.problems: list[Problem] = []
        self.unresolved: list[Skip] = []
        self.files: list[str] = []

    # -- discovery -----------------------------------------------------------------------

    def discover(self) -> list[tuple[str, _File]]:
        """Index every module of the trees; return the files of policy packages."""
        wanted: list[tuple[str, _File]] = []
        for i, tree in enumerate(self.trees):
            listed = [f for f in tree.files() if f.endswith(".py")]
            present = set(listed)
            for path in listed:
                dotted = _dotted(path, present)
                file = _File(i, path)
                self.index.setdefault(dotted, file)
                parent = posixpath.basename(posixpath.dirname(path))
                if parent in _PACKAGE_DIRS or len(listed) == 1:
                    wanted.append((dotted, file))
        return wanted

    # -- modules ---------------------------------------------------------------------------

    def known(self, name: str) -> str | None:
        """The indexed module ``name`` stands for: itself, or, for a tree given without its
        top package, the one indexed name it ends with."""
        if name in self.index:
            return name
        parts = name.split(".")
        for start in range(1, len(parts)):
            suffix = ".".join(parts[start:])
            matches = [k for k in self.index if k == suffix or k.endswith("." + suffix)]
            if len(matches) == 1:
                return matches[0]
            if matches:
                return None
        return None

    def module(self, name: str) -> _Module | None:
        resolved = self.known(name)
        if resolved is None:
            return None
        name = resolved
        if name in self.modules:
            return self.modules[name]
        mod = self.load(name, self.index[name])
        self.modules[name] = mod
        return mod

    def load(self, name: str, file: _File) -> _Module:
        mod = _Module(name, file, file.path)
        mod.tree = self.parse(mod)
        return mod

    def parse(self, mod: _Module) -> ast.Module | None:
        at = Where(mod.display, 1)
        try:
            data = self.trees[mod.file.tree].read(mod.file.path)
        except OSError as exc:
            self.problem(f"{mod.display}: cannot read: {exc.strerror or exc}", at)
            return None
        if len(data) > MAX_FILE_BYTES:
            self.problem(f"{mod.display}: {len(data)} bytes, over the limit; not read", at)
            return None
        try:
            tree = ast.parse(data, filename=mod.display)
        except SyntaxError as exc:
            line = exc.lineno or 1
            self.problem(
                f"{mod.display}: Python syntax error at line {line}: {exc.msg}",
                Where(mod.display, line),
            )
            return None
        except (ValueError, RecursionError, MemoryError) as exc:
            self.problem(f"{mod.display}: cannot be parsed: {type(exc).__name__}", at)
            return None
        self.files.append(mod.display)
        return tree

    def problem(self, message: str, where: Where) -> None:
        self.problems.append(
            problems.problem(problems.POLICY_UNREADABLE, message, where.file, where.line)
        )

    def environment(self, mod: _Module) -> dict[str, Any]:
        """Module constants, evaluated once, in statement order (imports included)."""
        if mod.done or mod.busy or mod.tree is None:
            return mod.env
        mod.busy = True
        for stmt in mod.tree.body:
            self._statement(mod, stmt)
        mod.busy = False
        mod.done = True
        return mod.env

    def _statement(self, mod: _Module, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    mod.env[alias.asname] = _ModuleRef(alias.name)
                else:
                    top = alias.name.split(".")[0]
                    mod.env[top] = _ModuleRef(top)
        elif isinstance(stmt, ast.ImportFrom):
            base = _absolute(mod.name, stmt.module or "", stmt.level, mod.file.path)
            for alias in stmt.names:
                local = alias.asname or alias.name
                full = f"{base}.{alias.name}" if base else alias.name
                known = self.known(full)
                if known is not None:
                    mod.env[local] = _ModuleRef(known)
                else:
                    mod.env[local] = ("from", base, alias.name)
        elif isinstance(stmt, ast.Assign | ast.AnnAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if stmt.value is None:
                return
            try:
                value = self.evaluate(stmt.value, mod, 0)
            except Unresolved:
                value = Unresolved
            for target in targets:
                if isinstance(target, ast.Name):
                    mod.env[target.id] = value
        elif isinstance(stmt, ast.FunctionDef):
            joins = joiner(stmt)
            if joins is not None:
                mod.env[stmt.name] = joins

    # -- expressions ---------------------------------------------------------------------

    def lookup(self, mod: _Module, name: str) -> Any:
        value = self.environment(mod).get(name, Unresolved)
        if isinstance(value, tuple) and len(value) == 3 and value[0] == "from":
            other = self.module(value[1])
            if other is None:
                raise Unresolved(f"{name} comes from {value[1]}, which is not in the trees")
            value = self.lookup(other, value[2])
        if value is Unresolved:
            raise Unresolved(f"{name} is not a constant of {mod.display}")
        return value

    def evaluate(self, node: ast.expr, mod: _Module, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise Unresolved("expression nested too deep")
        for kind, method in self._EXPRESSIONS:
            if isinstance(node, kind):
                return method(self, node, mod, depth + 1)
        raise Unresolved(f"a {type(node).__name__} expression")

    def _constant(self, node: ast.Constant, mod: _Module, depth: int) -> Any:
        if isinstance(node.value, str | int | float | bool) or node.value is None:
            return node.value
        raise Unresolved("a constant that is not text or a number")

    def _name(self, node: ast.Name, mod: _Module, depth: int) -> Any:
        return self.lookup(mod, node.id)

    def _attribute(self, node: ast.Attribute, mod: _Module, depth: int) -> Any:
        owner = self.evaluate(node.value, mod, depth)
        if not isinstance(owner, _ModuleRef):
            raise Unresolved(f"attribute {node.attr} of a value")
        known = self.known(f"{owner.name}.{node.attr}")
        if known is not None:
            return _ModuleRef(known)
        other = self.module(owner.name)
        if other is None:
            raise Unresolved(f"{owner.name} is not in the trees")
        return self.lookup(other, node.attr)

    def _joined(self, node: ast.JoinedStr, mod: _Module, depth: int) -> Any:
        parts = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
            elif isinstance(part, ast.FormattedValue) and part.format_spec is None:
                parts.append(as_text(self.evaluate(part.value, mod, depth)))
            else:
                raise Unresolved("an f-string with a format specification")
        return bounded("".join(parts))

    def _operator(self, node: ast.BinOp, mod: _Module, depth: int) -> Any:
        left, right = self.evaluate(node.left, mod, depth), self.evaluate(node.right, mod, depth)
        same = type(left) is type(right) and isinstance(left, str | list | tuple)
        if isinstance(node.op, ast.Add) and same:
            return bounded(left + right)
        if isinstance(node.op, ast.Mod) and isinstance(left, str):
            return bounded(percent(left, right))
        raise Unresolved("an operator outside + and % on text")

    def _sequence(self, node: ast.List | ast.Tuple, mod: _Module, depth: int) -> Any:
        items = [self.evaluate(e, mod, depth) for e in node.elts]
        return items if isinstance(node, ast.List) else tuple(items)

    def _mapping(self, node: ast.Dict, mod: _Module, depth: int) -> Any:
        out = {}
        for k, v in zip(node.keys, node.values, strict=True):
            if k is None:
                raise Unresolved("a ** in a dict")
            out[self.evaluate(k, mod, depth)] = self.evaluate(v, mod, depth)
        return out

    def _call(self, node: ast.Call, mod: _Module, depth: int) -> Any:
        ev = self.evaluate
        # oslo.policy's DeprecatedRule, or a project's subclass of it (cinder's
        # CinderDeprecatedRule), named so by convention; (name, check_str) come first.
        if callee(node.func).endswith("DeprecatedRule"):
            args = arguments(node, ("name", "check_str"))
            name = ev(args["name"], mod, depth) if "name" in args else None
            check = ev(args["check_str"], mod, depth) if "check_str" in args else None
            if isinstance(name, str) and isinstance(check, str):
                return _DeprecatedRule(name, check)
            raise Unresolved("a DeprecatedRule without a text name and check_str")
        function = None if node.keywords else self._function(node.func, mod, depth - 1)
        if function is not None:
            values = [ev(a, mod, depth) for a in node.args]
            if all(isinstance(a, str) for a in values):
                return bounded(function.separator.join(values))
            raise Unresolved(f"{function.name} of values that are not text")
        if isinstance(node.func, ast.Attribute) and node.func.attr == "format":
            template = ev(node.func.value, mod, depth)
            if isinstance(template, str):
                values = [ev(a, mod, depth) for a in node.args]
                kwargs = {k.arg: ev(k.value, mod, depth) for k in node.keywords if k.arg}
                return bounded(braces(template, values, kwargs))
        raise Unresolved(f"a {type(node).__name__} expression")

    def _function(self, func: ast.expr, mod: _Module, depth: int) -> Joiner | None:
        """The joining function a call names (neutron-lib's ``policy_or``), if it is one."""
        if not isinstance(func, ast.Name | ast.Attribute):
            return None
        try:
            value = self.evaluate(func, mod, depth + 1)
        except Unresolved:
            return None
        return value if isinstance(value, Joiner) else None

    # -- rule defaults -------------------------------------------------------------------

    def collect(self, mod: _Module) -> None:
        if mod.tree is None:
            return
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.Call) and callee(node.func) in _RULE_CLASSES:
                self._rule(mod, node)

    def _rule(self, mod: _Module, call: ast.Call) -> None:
        where = Where(mod.display, call.lineno)
        args = arguments(call, ("name", "check_str", "description", "operations"))
        try:
            name = self.evaluate(args["name"], mod, 0) if "name" in args else None
            check = self.evaluate(args["check_str"], mod, 0) if "check_str" in args else None
        except Unresolved as exc:
            self.unresolved.append(
                Skip(f"a policy default whose name or check_str is unresolved: {exc}", where)
            )
            return
        if not isinstance(name, str) or not isinstance(check, str):
            self.unresolved.append(
                Skip("a policy default without a text name and check_str", where)
            )
            return
        ops: list[PolicyOperation] = []
        if "operations" in args:
            try:
                ops = _operations(self.evaluate(args["operations"], mod, 0))
            except Unresolved as exc:
                self.unresolved.append(Skip(f"operations of {name} unresolved: {exc}", where))
        scopes: tuple[str, ...] = ()
        if "scope_types" in args:
            try:
                raw = self.evaluate(args["scope_types"], mod, 0)
                scopes = (
                    tuple(s for s in raw if isinstance(s, str))
                    if isinstance(raw, list | tuple)
                    else ()
                )
            except Unresolved:
                scopes = ()
        deprecated: str | None = None
        if "deprecated_rule" in args:
            try:
                old = self.evaluate(args["deprecated_rule"], mod, 0)
            except Unresolved as exc:
                self.unresolved.append(Skip(f"deprecated_rule of {name} unresolved: {exc}", where))
            else:
                deprecated = old.check_str if isinstance(old, _DeprecatedRule) else None
        self.policies[name] = PolicyDefault(name, check, tuple(ops), where, scopes, deprecated)

    # The node types of the safe subset, and what evaluates each.
    _EXPRESSIONS: tuple[tuple[type | tuple[type, ...], Callable[..., Any]], ...] = (
        (ast.Constant, _constant),
        (ast.Name, _name),
        (ast.Attribute, _attribute),
        (ast.JoinedStr, _joined),
        (ast.BinOp, _operator),
        ((ast.List, ast.Tuple), _sequence),
        (ast.Dict, _mapping),
        (ast.Call, _call),
    )


def _operations(value: Any) -> list[PolicyOperation]:
    if not isinstance(value, list | tuple):
        raise Unresolved("operations is not a list")
    out = []
    for item in value:
        if not isinstance(item, Mapping):
            raise Unresolved("an operation that is not a dict")
        method, path = item.get("method"), item.get("path")
        if not isinstance(method, str) or not isinstance(path, str):
            raise Unresolved("an operation without a text method and path")
        m = _ACTION.match(path)
        if m is not None:
            out.append(
                PolicyOperation(method.upper(), m.group("path").strip(), m.group("action").strip())
            )
        else:
            out.append(PolicyOperation(method.upper(), path.strip()))
    return out


def _dotted(path: str, present: set[str]) -> str:
    """The dotted module name of ``path``: up through the packages (``__init__.py``)."""
    stem = posixpath.basename(path)[: -len(".py")]
    parts = [] if stem == "__init__" else [stem]
    parent = posixpath.dirname(path)
    while parent and posixpath.join(parent, "__init__.py") in present:
        parts.insert(0, posixpath.basename(parent))
        parent = posixpath.dirname(parent)
    return ".".join(parts)


def _absolute(current: str, module: str, level: int, path: str) -> str:
    if level == 0:
        return module
    package = current.split(".")
    if posixpath.basename(path) != "__init__.py":
        package = package[:-1]
    package = package[: len(package) - (level - 1)] if level > 1 else package
    return ".".join([*package, module] if module else package)


def read_policy_defaults(trees: Sequence[Tree]) -> PolicyDefaults:
    """The policy defaults of the given trees (a project, a policies package, one file).

    Several trees are read together, so that ``rule:`` references and constants of one
    (neutron's policies) resolve in another (neutron-lib). Unreadable files are problems;
    defaults the safe subset cannot resolve are listed in ``unresolved``.
    """
    loader = _Loader(trees)
    wanted = loader.discover()
    seen: set[_File] = set()
    for dotted, file in wanted:
        mod = loader.module(dotted) if loader.index.get(dotted) == file else None
        if mod is None:
            mod = loader.load(dotted, file)
        seen.add(file)
        loader.collect(mod)
    # Modules the policy files import (neutron-lib's base rules) may define rules too.
    for mod in list(loader.modules.values()):
        if mod.file not in seen:
            loader.collect(mod)
    return PolicyDefaults(
        policies=dict(loader.policies),
        files=tuple(dict.fromkeys(loader.files)),
        problems=tuple(loader.problems),
        unresolved=tuple(loader.unresolved),
    )


def load_policy_defaults(paths: Iterable[str | Path]) -> PolicyDefaults:
    """:func:`read_policy_defaults` of directories or files on disk (``--policy-defaults``)."""
    return read_policy_defaults([tree_of(p) for p in paths])
