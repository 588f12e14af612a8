"""The safe subset of Python that policy modules are read in: evaluated from the AST, never run.

Text and number literals, ``+`` on text and sequences, ``%`` and ``str.format`` with
plain fields only (no widths, so the output stays bounded), f-strings without format
specifications, and functions whose whole body joins their arguments. Anything else is
:class:`Unresolved`, which the reader (:mod:`govbot.apiref.policies`) records, never guesses.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_STRING = 100_000


class Unresolved(Exception):
    """An expression outside the safe subset; its text says which part."""


@dataclass(frozen=True, slots=True)
class Joiner:
    """A function whose whole body is ``return "<separator>".join(args)`` of its ``*args``
    (neutron-lib's ``policy_or`` / ``policy_and``): evaluated as that join, nothing run."""

    name: str
    separator: str


def joiner(func: ast.FunctionDef) -> Joiner | None:
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
        return Joiner(func.name, call.func.value.value)
    return None


def callee(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def arguments(call: ast.Call, positional: Sequence[str]) -> dict[str, ast.expr]:
    out: dict[str, ast.expr] = {}
    for name, arg in zip(positional, call.args, strict=False):
        if not isinstance(arg, ast.Starred):
            out[name] = arg
    for kw in call.keywords:
        if kw.arg:
            out[kw.arg] = kw.value
    return out


def as_text(value: Any) -> str:
    if isinstance(value, str | int | float | bool) or value is None:
        return str(value)
    raise Unresolved("a formatted value that is not text or a number")


def bounded(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise Unresolved("text longer than the limit")
    return value


_PERCENT = re.compile(r"%(?:\((?P<key>[^)]*)\))?(?P<conv>[sdr%])")
_BRACES = re.compile(r"\{(?P<field>[^{}!:]*)\}|\{\{|\}\}")


def percent(template: str, args: Any) -> str:
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
                raise Unresolved("a %(name)s without its value")
            out.append(as_text(mapping[m.group("key")]))
        else:
            if mapping is not None or i >= len(positional):
                raise Unresolved("a % with too few values")
            out.append(as_text(positional[i]))
            i += 1
    if "%" in template[pos:]:
        raise Unresolved("a % conversion outside %s and %(name)s")
    out.append(template[pos:])
    return "".join(out)


def braces(template: str, args: list[Any], kwargs: Mapping[str, Any]) -> str:
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
                raise Unresolved("a {} without its value")
            out.append(as_text(args[auto]))
            auto += 1
        elif name.isdigit() and int(name) < len(args):
            out.append(as_text(args[int(name)]))
        elif name in kwargs:
            out.append(as_text(kwargs[name]))
        else:
            raise Unresolved("a {field} without its value")
    rest = template[pos:]
    if "{" in rest or "}" in rest:
        raise Unresolved("a format field with a conversion or specification")
    out.append(rest)
    return "".join(out)
