"""The JSON API's contract, read from its description, and the parameters checked against it.

The description (``api-specs/govbot.yaml``, shipped in this package as ``govbot.yaml``) is
the only statement of what each operation accepts: its routes are made from its paths,
and every path and query parameter is parsed by the type, bounds, pattern and format it
declares, with the default it declares. The implementation and the description therefore
cannot drift apart: a parameter the description does not allow never reaches a query,
and one it allows is never refused.

A query parameter that does not conform is a 400; a path parameter that does not is a
404 (no such item). Parameters the description does not name are ignored, and never
echoed in links (:attr:`Arguments.query` holds the normalised ones that were given).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DESCRIPTION = "govbot.yaml"
URN = "urn:govbot:api-description"
PREFIX = "/api"  # where the description's server URL puts the paths
_INTEGER = re.compile(r"^-?[0-9]{1,40}$")
# RFC 3339 date-time (section 5.6), which JSON Schema's "date-time" format means.
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_SCALARS = ("integer", "number", "boolean", "string")


class InvalidParameter(ValueError):
    """A parameter that does not conform to the description."""

    def __init__(self, location: str, name: str, detail: str) -> None:
        super().__init__(f"{name}: {detail}")
        self.location, self.name, self.detail = location, name, detail


def parse_time(text: str) -> dt.datetime:
    """An RFC 3339 date-time as an aware UTC datetime; ValueError when it is not one.

    Whatever RFC 3339 allows is accepted: a leap second (``:60``) counts as ``:59``, and
    a time beyond Python's range (year 0000, or 9999-12-31 with an offset) is clamped
    to it, which compares the same against any stored time.
    """
    found = _RFC3339.match(text)
    if not found:
        raise ValueError(f"not an RFC 3339 date-time: {text!r}")
    year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
    fraction, offset = found.group(7) or "", found.group(8).upper()
    dt.date(max(year, 1), month, day)  # day within the month (year 0000: as year 1)
    if hour > 23 or minute > 59 or second > 60:
        raise ValueError(f"time out of range: {text!r}")
    zone = dt.UTC
    if offset != "Z":
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(f"offset out of range: {text!r}")
        sign = -1 if offset[0] == "-" else 1
        zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    if year == 0:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    micro = int((fraction[1:] + "000000")[:6]) if fraction else 0
    local = dt.datetime(year, month, day, hour, minute, min(second, 59), micro, tzinfo=zone)
    try:
        return local.astimezone(dt.UTC)
    except OverflowError:
        edge = dt.datetime.min if year == 1 else dt.datetime.max
        return edge.replace(tzinfo=dt.UTC)


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checks("date-time", raises=ValueError)(lambda value: _checked_time(value))
    return checker


def _checked_time(value: object) -> bool:
    if isinstance(value, str):
        parse_time(value)
    return True


@dataclass(frozen=True)
class Parameter:
    """One described parameter and how to read it from a request."""

    name: str
    location: str  # "path" or "query"
    required: bool
    kind: str  # integer, number, boolean, string, or array (form style, comma-separated)
    items: str  # the kind of an array's items
    explode: bool
    time: bool  # format date-time: parsed into a datetime
    default: Any
    validator: Draft202012Validator

    def parse(self, raw: list[str]) -> Any:
        """The value of ``raw`` (the strings given for this name); InvalidParameter if bad."""
        if len(raw) > 1 and not (self.kind == "array" and self.explode):
            raise InvalidParameter(self.location, self.name, "given more than once")
        if self.kind == "array":
            parts = raw if self.explode else raw[0].split(",")
            value: Any = [self._scalar(self.items, part) for part in parts]
        else:
            value = self._scalar(self.kind, raw[0])
        problem = next(iter(self.validator.iter_errors(value)), None)
        if problem is not None:
            raise InvalidParameter(self.location, self.name, problem.message)
        return parse_time(value) if self.time else value

    def _scalar(self, kind: str, text: str) -> Any:
        if kind == "integer":
            if not _INTEGER.match(text):
                raise InvalidParameter(self.location, self.name, f"not an integer: {text!r}")
            return int(text)
        if kind == "number":
            try:
                return float(text)
            except ValueError:
                raise InvalidParameter(
                    self.location, self.name, f"not a number: {text!r}"
                ) from None
        if kind == "boolean":
            if text not in ("true", "false"):
                raise InvalidParameter(self.location, self.name, f"not true or false: {text!r}")
            return text == "true"
        return text


def normalised(value: Any) -> str:
    """A parsed value as it is written in a URL (the links' query)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, list):
        return ",".join(normalised(v) for v in value)
    return str(value)


@dataclass(frozen=True)
class Arguments(Mapping[str, Any]):
    """One request's parameters: each described one's value (given or default)."""

    parsed: Mapping[str, Any]
    path: Mapping[str, str]  # path parameters, normalised
    query: Mapping[str, str]  # the query parameters given, normalised

    def __getitem__(self, name: str) -> Any:
        return self.parsed[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.parsed)

    def __len__(self) -> int:
        return len(self.parsed)


@dataclass(frozen=True)
class Operation:
    """One described operation: where it is served and what it accepts."""

    id: str
    method: str
    path: str  # the description's template, e.g. /v1/apis/{api_id}
    parameters: tuple[Parameter, ...]

    @property
    def endpoint(self) -> str:
        return self.id.replace("-", "_")

    @property
    def rule(self) -> str:
        """The Flask URL rule: ``/api/v1/apis/<api_id>``."""
        return PREFIX + re.sub(r"\{(\w+)\}", r"<\1>", self.path)

    def parse(self, path: Mapping[str, str], query: Any) -> Arguments:
        """``path`` (the URL's variables) and ``query`` (a MultiDict) checked and parsed."""
        values: dict[str, Any] = {}
        given_path: dict[str, str] = {}
        given_query: dict[str, str] = {}
        for p in self.parameters:
            raw = [path[p.name]] if p.location == "path" else query.getlist(p.name)
            if not raw:
                if p.required:
                    raise InvalidParameter(p.location, p.name, "required")
                values[p.name] = p.default
                continue
            values[p.name] = p.parse(raw)
            target = given_path if p.location == "path" else given_query
            target[p.name] = normalised(values[p.name])
        return Arguments(values, given_path, given_query)


@dataclass(frozen=True)
class Contract:
    """Every operation of the description, by operationId."""

    operations: Mapping[str, Operation]
    document: Mapping[str, Any]


@functools.cache
def load_contract() -> Contract:
    """The packaged description, read and compiled once per process."""
    text = (resources.files(__package__) / DESCRIPTION).read_text(encoding="utf-8")
    return build_contract(yaml.safe_load(text))


def build_contract(document: Mapping[str, Any]) -> Contract:
    """The contract of ``document``; ValueError for a parameter this module cannot read."""
    registry = Registry().with_resource(
        URN, Resource.from_contents(document, default_specification=DRAFT202012)
    )
    checker = _format_checker()
    operations: dict[str, Operation] = {}
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method, spec in item.items():
            if method not in ("get", "put", "post", "delete", "patch"):
                continue
            base = f"/paths/{_escape(path)}"
            found = [_deref(document, p, f"{base}/parameters/{i}") for i, p in enumerate(shared)]
            found += [
                _deref(document, p, f"{base}/{method}/parameters/{i}")
                for i, p in enumerate(spec.get("parameters", []))
            ]
            mine = {(p["name"], p["in"]): (p, ptr) for p, ptr in found}  # the operation's win
            params = tuple(
                _parameter(document, p, ptr, registry, checker) for p, ptr in mine.values()
            )
            operations[spec["operationId"]] = Operation(spec["operationId"], method, path, params)
    return Contract(operations, document)


def _parameter(
    document: Mapping[str, Any],
    spec: Mapping[str, Any],
    pointer: str,
    registry: Registry,
    checker: FormatChecker,
) -> Parameter:
    where = f"parameter {spec['name']!r} ({pointer})"
    if spec["in"] not in ("path", "query"):
        raise ValueError(f"{where}: only path and query parameters are read")
    schema, _ = _deref(document, spec["schema"], f"{pointer}/schema")
    kind = schema.get("type")
    items = ""
    if kind == "array":
        items = _deref(document, schema.get("items", {}), "")[0].get("type", "")
        if spec.get("style", "form") != "form" or items not in _SCALARS:
            raise ValueError(f"{where}: only form-style arrays of scalars are read")
    elif kind not in _SCALARS:
        raise ValueError(f"{where}: type {kind!r} is not read")
    validator = Draft202012Validator(
        {"$ref": f"{URN}#{pointer}/schema"}, registry=registry, format_checker=checker
    )
    return Parameter(
        name=spec["name"],
        location=spec["in"],
        required=bool(spec.get("required")),
        kind=kind,
        items=items,
        explode=bool(spec.get("explode", spec.get("style", "form") == "form")),
        time=schema.get("format") == "date-time",
        default=schema.get("default"),
        validator=validator,
    )


def _deref(
    document: Mapping[str, Any], node: Mapping[str, Any], pointer: str
) -> tuple[Mapping[str, Any], str]:
    """``node`` with its local ``$ref`` chain followed, and the JSON pointer it ends at."""
    while "$ref" in node:
        pointer = node["$ref"].removeprefix("#")
        node = document
        for token in pointer.strip("/").split("/"):
            node = node[token.replace("~1", "/").replace("~0", "~")]
    return node, pointer


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


__all__ = [
    "Arguments",
    "Contract",
    "InvalidParameter",
    "Operation",
    "Parameter",
    "build_contract",
    "load_contract",
    "normalised",
    "parse_time",
]
