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
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from govbot.apiref import problems
from govbot.apiref.facts import Skip, Where
from govbot.apiref.source import Tree, tree_of
from govbot.apiref.surface import Problem

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_STRING = 100_000
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


class _Unresolved(Exception):
    pass


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
            except _Unresolved:
                value = _Unresolved
            for target in targets:
                if isinstance(target, ast.Name):
                    mod.env[target.id] = value
        elif isinstance(stmt, ast.FunctionDef):
            joiner = _joiner(stmt)
            if joiner is not None:
                mod.env[stmt.name] = joiner

    # -- expressions ---------------------------------------------------------------------

    def lookup(self, mod: _Module, name: str) -> Any:
        value = self.environment(mod).get(name, _Unresolved)
        if isinstance(value, tuple) and len(value) == 3 and value[0] == "from":
            other = self.module(value[1])
            if other is None:
                raise _Unresolved(f"{name} comes from {value[1]}, which is not in the trees")
            value = self.lookup(other, value[2])
        if value is _Unresolved:
            raise _Unresolved(f"{name} is not a constant of {mod.display}")
        return value

    def evaluate(self, node: ast.expr, mod: _Module, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _Unresolved("expression nested too deep")
        ev = self.evaluate
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str | int | float | bool) or node.value is None:
                return node.value
            raise _Unresolved("a constant that is not text or a number")
        if isinstance(node, ast.Name):
            return self.lookup(mod, node.id)
        if isinstance(node, ast.Attribute):
            owner = ev(node.value, mod, depth + 1)
            if isinstance(owner, _ModuleRef):
                known = self.known(f"{owner.name}.{node.attr}")
                if known is not None:
                    return _ModuleRef(known)
                other = self.module(owner.name)
                if other is None:
                    raise _Unresolved(f"{owner.name} is not in the trees")
                return self.lookup(other, node.attr)
            raise _Unresolved(f"attribute {node.attr} of a value")
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                if isinstance(part, ast.Constant):
                    parts.append(str(part.value))
                elif isinstance(part, ast.FormattedValue) and part.format_spec is None:
                    parts.append(_text(ev(part.value, mod, depth + 1)))
                else:
                    raise _Unresolved("an f-string with a format specification")
            return _bounded("".join(parts))
        if isinstance(node, ast.BinOp):
            left, right = ev(node.left, mod, depth + 1), ev(node.right, mod, depth + 1)
            same = type(left) is type(right) and isinstance(left, str | list | tuple)
            if isinstance(node.op, ast.Add) and same:
                return _bounded(left + right)
            if isinstance(node.op, ast.Mod) and isinstance(left, str):
                return _bounded(_percent(left, right))
            raise _Unresolved("an operator outside + and % on text")
        if isinstance(node, ast.List | ast.Tuple):
            items = [ev(e, mod, depth + 1) for e in node.elts]
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Dict):
            out = {}
            for k, v in zip(node.keys, node.values, strict=True):
                if k is None:
                    raise _Unresolved("a ** in a dict")
                out[ev(k, mod, depth + 1)] = ev(v, mod, depth + 1)
            return out
        # oslo.policy's DeprecatedRule, or a project's subclass of it (cinder's
        # CinderDeprecatedRule), named so by convention; (name, check_str) come first.
        if isinstance(node, ast.Call) and _callee(node.func).endswith("DeprecatedRule"):
            args = _arguments(node, ("name", "check_str"))
            name = ev(args["name"], mod, depth + 1) if "name" in args else None
            check = ev(args["check_str"], mod, depth + 1) if "check_str" in args else None
            if isinstance(name, str) and isinstance(check, str):
                return _DeprecatedRule(name, check)
            raise _Unresolved("a DeprecatedRule without a text name and check_str")
        if isinstance(node, ast.Call) and not node.keywords:
            function = self._function(node.func, mod, depth)
            if function is not None:
                args = [ev(a, mod, depth + 1) for a in node.args]
                if all(isinstance(a, str) for a in args):
                    return _bounded(function.separator.join(args))
                raise _Unresolved(f"{function.name} of values that are not text")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
        ):
            template = ev(node.func.value, mod, depth + 1)
            if isinstance(template, str):
                args = [ev(a, mod, depth + 1) for a in node.args]
                kwargs = {k.arg: ev(k.value, mod, depth + 1) for k in node.keywords if k.arg}
                return _bounded(_braces(template, args, kwargs))
        raise _Unresolved(f"a {type(node).__name__} expression")

    def _function(self, func: ast.expr, mod: _Module, depth: int) -> _Joiner | None:
        """The joining function a call names (neutron-lib's ``policy_or``), if it is one."""
        if not isinstance(func, ast.Name | ast.Attribute):
            return None
        try:
            value = self.evaluate(func, mod, depth + 1)
        except _Unresolved:
            return None
        return value if isinstance(value, _Joiner) else None

    # -- rule defaults -------------------------------------------------------------------

    def collect(self, mod: _Module) -> None:
        if mod.tree is None:
            return
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.Call) and _callee(node.func) in _RULE_CLASSES:
                self._rule(mod, node)

    def _rule(self, mod: _Module, call: ast.Call) -> None:
        where = Where(mod.display, call.lineno)
        args = _arguments(call, ("name", "check_str", "description", "operations"))
        try:
            name = self.evaluate(args["name"], mod, 0) if "name" in args else None
            check = self.evaluate(args["check_str"], mod, 0) if "check_str" in args else None
        except _Unresolved as exc:
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
            except _Unresolved as exc:
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
            except _Unresolved:
                scopes = ()
        deprecated: str | None = None
        if "deprecated_rule" in args:
            try:
                old = self.evaluate(args["deprecated_rule"], mod, 0)
            except _Unresolved as exc:
                self.unresolved.append(Skip(f"deprecated_rule of {name} unresolved: {exc}", where))
            else:
                deprecated = old.check_str if isinstance(old, _DeprecatedRule) else None
        self.policies[name] = PolicyDefault(name, check, tuple(ops), where, scopes, deprecated)


@dataclass(frozen=True, slots=True)
class _Joiner:
    """A function whose whole body is ``return "<separator>".join(args)`` of its ``*args``
    (neutron-lib's ``policy_or`` / ``policy_and``): evaluated as that join, nothing run."""

    name: str
    separator: str


def _joiner(func: ast.FunctionDef) -> _Joiner | None:
    body = [
        s
        for s in func.body
        if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))  # docstring
    ]
    vararg = func.args.vararg
    plain = func.args
    if (
        vararg is None
        or plain.args
        or plain.posonlyargs
        or plain.kwonlyargs
        or plain.kwarg
        or func.decorator_list
        or len(body) != 1
        or not isinstance(body[0], ast.Return)
    ):
        return None
    call = body[0].value
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "join"
        and isinstance(call.func.value, ast.Constant)
        and isinstance(call.func.value.value, str)
        and len(call.args) == 1
        and not call.keywords
        and isinstance(call.args[0], ast.Name)
        and call.args[0].id == vararg.arg
    ):
        return _Joiner(func.name, call.func.value.value)
    return None


def _callee(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _arguments(call: ast.Call, positional: Sequence[str]) -> dict[str, ast.expr]:
    out: dict[str, ast.expr] = {}
    for name, arg in zip(positional, call.args, strict=False):
        if not isinstance(arg, ast.Starred):
            out[name] = arg
    for kw in call.keywords:
        if kw.arg:
            out[kw.arg] = kw.value
    return out


def _operations(value: Any) -> list[PolicyOperation]:
    if not isinstance(value, list | tuple):
        raise _Unresolved("operations is not a list")
    out = []
    for item in value:
        if not isinstance(item, Mapping):
            raise _Unresolved("an operation that is not a dict")
        method, path = item.get("method"), item.get("path")
        if not isinstance(method, str) or not isinstance(path, str):
            raise _Unresolved("an operation without a text method and path")
        m = _ACTION.match(path)
        if m is not None:
            out.append(
                PolicyOperation(method.upper(), m.group("path").strip(), m.group("action").strip())
            )
        else:
            out.append(PolicyOperation(method.upper(), path.strip()))
    return out


def _text(value: Any) -> str:
    if isinstance(value, str | int | float | bool) or value is None:
        return str(value)
    raise _Unresolved("a formatted value that is not text or a number")


def _bounded(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise _Unresolved("text longer than the limit")
    return value


_PERCENT = re.compile(r"%(?:\((?P<key>[^)]*)\))?(?P<conv>[sdr%])")
_BRACES = re.compile(r"\{(?P<field>[^{}!:]*)\}|\{\{|\}\}")


def _percent(template: str, args: Any) -> str:
    """``template % args`` for %s, %d, %r and %(name)s only (no widths: bounded output)."""
    positional = list(args) if isinstance(args, tuple) else [args]
    mapping = args if isinstance(args, Mapping) else None
    out, pos, i = [], 0, 0
    for m in _PERCENT.finditer(template):
        out.append(template[pos : m.start()])
        pos = m.end()
        if m.group("conv") == "%":
            out.append("%")
        elif m.group("key") is not None:
            if mapping is None or m.group("key") not in mapping:
                raise _Unresolved("a %(name)s without its value")
            out.append(_text(mapping[m.group("key")]))
        else:
            if mapping is not None or i >= len(positional):
                raise _Unresolved("a % with too few values")
            out.append(_text(positional[i]))
            i += 1
    if "%" in template[pos:]:
        raise _Unresolved("a % conversion outside %s and %(name)s")
    out.append(template[pos:])
    return "".join(out)


def _braces(template: str, args: list[Any], kwargs: Mapping[str, Any]) -> str:
    out, pos, auto = [], 0, 0
    for m in _BRACES.finditer(template):
        out.append(template[pos : m.start()])
        pos = m.end()
        text = m.group(0)
        if text in ("{{", "}}"):
            out.append(text[0])
            continue
        name = m.group("field")
        if name == "":
            if auto >= len(args):
                raise _Unresolved("a {} without its value")
            out.append(_text(args[auto]))
            auto += 1
        elif name.isdigit() and int(name) < len(args):
            out.append(_text(args[int(name)]))
        elif name in kwargs:
            out.append(_text(kwargs[name]))
        else:
            raise _Unresolved("a {field} without its value")
    rest = template[pos:]
    if "{" in rest or "}" in rest:
        raise _Unresolved("a format field with a conversion or specification")
    out.append(rest)
    return "".join(out)


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
