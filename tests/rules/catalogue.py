"""The breaking-change catalogue: small spec pairs written from the principle, with verdicts.

``tests/data/breaking/catalogue.yaml`` describes each change once; this module turns it
into base/head spec pairs on ``tests/data/breaking/template.yaml``:

* a *schema* entry (``schemas:``) gives a schema before and after and the verdict on each
  side (``request: breaking|fine``, ``response: breaking|fine``, ``except: {place:
  verdict}`` where the wire differs: parameters and headers are text); it is placed where a
  client sends it (a query parameter, a header parameter, a request field, the request
  body) and where it reads it (a response field, a response body, a response header), so
  that every change is judged on both sides of the exchange;
* a *spec* entry (``specs:``) edits the template on each side with JSON pointers
  (``set`` a value or ``remove`` it) and gives one verdict.

A breaking pair must draw at least one error from ``govbot check --base``; a fine pair
none. ``benchmarks/breaking.py`` measures the catalogue through the command line and
``tests/rules/test_breaking_catalogue.py`` through the pipeline in-process.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from govbot.surface import split

DATA = Path(__file__).resolve().parents[1] / "data" / "breaking"
# Where a schema entry is placed: JSON pointers into the template, and the side.
PLACES: Mapping[str, tuple[str, str]] = {
    "query": ("request", "/paths/~1pets/get/parameters/0/schema"),
    "header": ("request", "/paths/~1pets/get/parameters/1/schema"),
    "request-field": (
        "request",
        "/paths/~1pets/post/requestBody/content/application~1json/schema/properties/value",
    ),
    "request-body": ("request", "/paths/~1pets/post/requestBody/content/application~1json/schema"),
    "response-field": (
        "response",
        "/paths/~1pets/get/responses/200/content/application~1json/schema/properties/value",
    ),
    "response-body": (
        "response",
        "/paths/~1pets~1{pet_id}/get/responses/200/content/application~1json/schema",
    ),
    "response-header": ("response", "/paths/~1pets/get/responses/200/headers/Pet-Count/schema"),
}
GROUPS: Mapping[str, tuple[str, ...]] = {
    "scalar": tuple(PLACES),
    "object": ("request-field", "request-body", "response-field", "response-body"),
    "fields": ("request-field", "response-field"),
    "bodies": ("request-body", "response-body"),
}


@dataclass(frozen=True)
class Pair:
    """One change: its kind, where it is, whether it breaks a client, and both specs."""

    kind: str
    where: str
    breaking: bool
    base: dict[str, Any]
    head: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.kind}@{self.where}"


def pairs(path: Path = DATA / "catalogue.yaml", *, fast: bool = False) -> list[Pair]:
    """Every pair of the catalogue, in order. ``fast``: each schema entry placed once on
    each side (the place rotating from one entry to the next), and where its verdict
    differs by wire (``except``)."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    template = yaml.safe_load((DATA / "template.yaml").read_text(encoding="utf-8"))
    out = list(_schema_pairs(template, raw.get("schemas") or [], fast))
    out.extend(_spec_pairs(template, raw.get("specs") or []))
    return out


def _chosen(names: tuple[str, ...], entry: Mapping[str, Any], i: int) -> tuple[str, ...]:
    """One place per side (the ``i``-th, rotating), plus the exceptions."""
    out = []
    for side in ("request", "response"):
        mine = [n for n in names if PLACES[n][0] == side]
        if mine:
            out.append(mine[i % len(mine)])
    out.extend(n for n in names if n in (entry.get("except") or {}) and n not in out)
    return tuple(n for n in names if n in out)


def _schema_pairs(
    template: dict[str, Any], entries: list[dict[str, Any]], fast: bool
) -> Iterator[Pair]:
    for i, entry in enumerate(entries):
        places = entry.get("places", "scalar")
        names = GROUPS[places] if isinstance(places, str) else tuple(places)
        if fast:
            names = _chosen(names, entry, i)
        for where in names:
            side, pointer = PLACES[where]
            verdict = (entry.get("except") or {}).get(where, entry[side])
            assert verdict in ("breaking", "fine"), f"{entry['kind']}: {side}: {verdict}"
            base = _prepared(template, entry)
            head = _prepared(template, entry)
            _set(base, pointer, copy.deepcopy(entry["base"]))
            _set(head, pointer, copy.deepcopy(entry["head"]))
            yield Pair(entry["kind"], where, verdict == "breaking", base, head)


def _spec_pairs(template: dict[str, Any], entries: list[dict[str, Any]]) -> Iterator[Pair]:
    for entry in entries:
        base = _prepared(template, entry)
        head = _prepared(template, entry)
        for doc, key in ((base, "base"), (head, "head")):
            for edit in entry.get(key) or []:
                if edit.get("remove"):
                    _remove(doc, edit["at"])
                else:
                    _set(doc, edit["at"], copy.deepcopy(edit["set"]))
        yield Pair(entry["kind"], "spec", bool(entry["breaking"]), base, head)


def _prepared(template: dict[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(template)
    if "openapi" in entry:
        doc["openapi"] = entry["openapi"]
    for name, schema in (entry.get("components") or {}).items():
        doc["components"]["schemas"][name] = copy.deepcopy(schema)
    return doc


def _parent(doc: Any, pointer: str) -> tuple[Any, str | int]:
    tokens = split(pointer)
    node = doc
    for token in tokens[:-1]:
        node = node[int(token)] if isinstance(node, list) else node.setdefault(token, {})
    last = tokens[-1]
    return node, int(last) if isinstance(node, list) else last


def _set(doc: Any, pointer: str, value: Any) -> None:
    node, key = _parent(doc, pointer)
    if isinstance(node, list) and key == len(node):
        node.append(value)
    else:
        node[key] = value


def _remove(doc: Any, pointer: str) -> None:
    node, key = _parent(doc, pointer)
    del node[key]


def write(pair: Pair, folder: Path) -> tuple[Path, Path]:
    """The pair as ``base.yaml`` and ``head.yaml`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    base, head = folder / "base.yaml", folder / "head.yaml"
    base.write_text(yaml.safe_dump(pair.base, sort_keys=False), encoding="utf-8")
    head.write_text(yaml.safe_dump(pair.head, sort_keys=False), encoding="utf-8")
    return base, head
