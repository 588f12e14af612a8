"""The dependency chain of ARCHITECTURE.md: each package imports only from below, at module level.

The test reads every module of ``govbot/`` (no import runs) and fails on

* an import of a module of a higher layer (``TYPE_CHECKING`` imports included: a cycle
  in the types is a cycle in the design);
* an import inside a function, except in the command line (``govbot.cli``), which
  imports lazily to start fast;
* an import cycle among modules, even inside one layer.

The few exceptions are listed in :data:`EXCEPTIONS`, each with its reason, and each must
still occur: when the code it excuses is fixed, the entry goes too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

GOVBOT = Path(__file__).resolve().parents[1] / "govbot"

# Bottom up. A module belongs to the first layer with a prefix of its name (the longest
# prefix wins); it may import its own layer and the ones below it.
LAYERS: Sequence[tuple[str, tuple[str, ...]]] = (
    ("values", ("govbot", "govbot.errors", "govbot.findings", "govbot.paths")),
    # Boundaries to the outside world; they depend on values only.
    (
        "boundaries",
        (
            "govbot.settings",
            "govbot.db",
            "govbot.migrations",
            "govbot.gerrit",
            "govbot.sources",
        ),
    ),
    ("surface", ("govbot.surface",)),
    ("readers", ("govbot.openapi", "govbot.apiref", "govbot.blueprints")),
    ("audience", ("govbot.audience",)),
    ("diff", ("govbot.diff",)),
    ("registry", ("govbot.rules.registry",)),
    (
        "rule families",
        (
            "govbot.rules.loading",
            "govbot.rules.apiref",
            "govbot.rules.microversions",
            "govbot.rules.access",
            "govbot.rules.consistency",
            "govbot.rules.deprecation",
            "govbot.rules.cross",
            "govbot.rules.policy_rules",
            "govbot.rules.blueprints",
        ),
    ),
    ("catalogue", ("govbot.rules", "govbot.rules.catalog")),
    ("policy", ("govbot.policy",)),
    ("evaluate", ("govbot.evaluate",)),
    ("render", ("govbot.render",)),
    # What a change's files are read through (Gerrit REST, a git mirror) is wiring of
    # the services, not a boundary: it reads specs with the OpenAPI reader.
    ("services", ("govbot.services", "govbot.gerrit.sources")),
    ("faces", ("govbot.cli", "govbot.web", "govbot.jobs", "govbot.sandbox", "govbot.__main__")),
)

LAZY_FACES = ("govbot.cli",)

# (importer, imported) -> why it is allowed for now. Temporary: other branches of this
# restructure remove them, and the integrator removes the entries with them.
EXCEPTIONS: Mapping[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    local: bool  # inside a function
    typing_only: bool  # under ``if TYPE_CHECKING:``


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(root: Path) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _targets(node: ast.Import | ast.ImportFrom, importer: str, known: set[str]) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (a.name for a in node.names)
        return
    base = node.module or ""
    if node.level:  # relative: resolve against the importer's package
        package = importer.split(".")
        is_package = importer in known and any(m.startswith(importer + ".") for m in known)
        keep = len(package) - node.level + (1 if is_package else 0)
        base = ".".join([*package[:keep], *([base] if base else [])])
    for alias in node.names:
        sub = f"{base}.{alias.name}"
        yield sub if sub in known else base


def imports(root: Path) -> list[Import]:
    """Every import of a govbot module by a govbot module."""
    known = set(modules(root))
    found = []
    for name, path in modules(root).items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        found.extend(_walk(tree, name, known, local=False, typing_only=False))
    return found


def _walk(node: ast.AST, importer: str, known: set[str], *, local: bool, typing_only: bool):
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            for target in _targets(child, importer, known):
                if target == "govbot" or target.startswith("govbot."):
                    yield Import(importer, target, child.lineno, local, typing_only)
            continue
        inner_local = local or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
        inner_typing = typing_only or (
            isinstance(child, ast.If) and "TYPE_CHECKING" in ast.dump(child.test)
        )
        yield from _walk(child, importer, known, local=inner_local, typing_only=inner_typing)


def layer_of(module: str) -> int:
    best, best_len = -1, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def violations(found: Sequence[Import]) -> list[str]:
    """Upward and function-local imports, one line each (exceptions not applied)."""
    out = []
    for imp in found:
        where = f"{imp.importer}:{imp.line} imports {imp.imported}"
        mine, theirs = layer_of(imp.importer), layer_of(imp.imported)
        if mine < 0:
            out.append(f"{where}: {imp.importer} is in no layer (add it to LAYERS)")
        elif theirs > mine:
            out.append(f"{where}: upward ({LAYERS[mine][0]} -> {LAYERS[theirs][0]})")
        elif imp.local and not imp.importer.startswith(LAZY_FACES):
            out.append(f"{where}: inside a function")
    return out


def cycles(found: Sequence[Import]) -> list[list[str]]:
    """The strongly connected components (of more than one module) of the import graph."""
    graph: dict[str, set[str]] = {}
    for imp in found:
        if imp.importer != imp.imported:
            graph.setdefault(imp.importer, set()).add(imp.imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _excused(found: Sequence[Import]) -> list[Import]:
    return [i for i in found if (i.importer, i.imported) not in EXCEPTIONS]


def test_every_module_imports_only_from_below_at_module_level() -> None:
    """No upward import, and no import inside a function below the command line."""
    assert violations(_excused(imports(GOVBOT))) == []


def test_there_is_no_import_cycle() -> None:
    """Modules form a directed acyclic graph, inside each layer too."""
    assert cycles(_excused(imports(GOVBOT))) == []


def test_every_exception_is_still_needed() -> None:
    """An exception whose import is gone is removed from the list."""
    found = imports(GOVBOT)
    assert sorted(set(EXCEPTIONS) - {(i.importer, i.imported) for i in found}) == []


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"govbot/surface.py": "from govbot import evaluate\n"}, "upward (surface -> evaluate)"),
        (
            {"govbot/evaluate.py": "def f():\n    from govbot import surface\n"},
            "inside a function",
        ),
        (
            {
                "govbot/evaluate.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                "    from govbot.render import x\n"
            },
            "upward (evaluate -> render)",
        ),
        ({"govbot/cli/__init__.py": "def f():\n    from govbot import evaluate\n"}, None),
    ],
)
def test_the_checker_sees_violations(tmp_path: Path, files: dict[str, str], expected) -> None:
    """The checks themselves fail on an upward import, a lazy import, a typing-only one."""
    for name, text in {
        "govbot/__init__.py": "",
        "govbot/surface.py": "",
        "govbot/evaluate.py": "",
        "govbot/render.py": "",
        **files,
    }.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = violations(imports(tmp_path / "govbot"))
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and expected in found[0], found


def test_the_checker_sees_a_cycle(tmp_path: Path) -> None:
    """Two modules of one layer that import each other are a cycle."""
    root = tmp_path / "govbot"
    (root / "diff").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "diff" / "__init__.py").write_text("")
    (root / "diff" / "a.py").write_text("from govbot.diff import b\n")
    (root / "diff" / "b.py").write_text("from govbot.diff.a import x\n")
    assert cycles(imports(root)) == [["govbot.diff.a", "govbot.diff.b"]]
