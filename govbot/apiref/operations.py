"""From the drafts the walker collected to :class:`~govbot.apiref.facts.ApiOperation` facts.

Parameters are resolved against their parameters file; status codes come from
``rest_status_code`` lists (described by their status file) or from the prose form
"Normal response codes: 200, 202"; a server-style action (``POST .../action``) is named
by its section title "(reboot Action)" when the title names one of its request body
keys, else by its first request body key, which os-api-ref lists first; sections that
document the same operation are merged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from govbot.apiref import problems
from govbot.apiref.facts import ApiOperation, Mark, ParamUse, StatusCode, Where
from govbot.apiref.flatyaml import Entry, FlatYaml

# YAML's "key: value": the separator is a colon followed by a space ("OS-DCF:diskConfig:
# OS-DCF:diskConfig" names OS-DCF:diskConfig).
_USE = re.compile(r"^\s*-\s*(?P<name>\S.*?):\s+(?P<key>\S.*?)\s*$")
_STATUS_USE = re.compile(r"^\s*-\s*(?P<code>\d{3})\s*(?::\s*(?P<key>\S.*?))?\s*$")
_CODE = re.compile(r"(?<![\d.])([1-5]\d\d)(?![\d.])")
_NAMED_CODE = re.compile(r"([A-Za-z][\w -]*?)\s*\(\s*([1-5]\d\d)\s*\)")
_ACTION_TITLE = re.compile(r"\(\s*([\w.:-]+)\s+action\s*\)", re.IGNORECASE)
_VERSION = re.compile(r"^\s*(\d+)\.(\d+)\s*$")
LOCATIONS = ("header", "path", "query", "body")
MAX_DESCRIPTION = 4000

# os-api-ref's types are free-form words; only these map to one JSON type without doubt.
_JSON_TYPES = {
    "string": "string",
    "str": "string",
    "uuid": "string",
    "integer": "integer",
    "int": "integer",
    "float": "number",
    "number": "number",
    "double": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "object": "object",
    "dict": "object",
    # nova documents body keys whose value is always JSON null (forceDelete) as "none".
    "none": "null",
    "null": "null",
}


def json_type(written: str) -> str | None:
    word = written.strip().lower()
    if word in _JSON_TYPES:
        return _JSON_TYPES[word]
    if re.fullmatch(r"list of [\w ]+", word):
        return "array"
    return None


def version_key(text: str) -> tuple[int, int] | None:
    m = _VERSION.match(text or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


@dataclass
class ParamList:
    file: str
    table: FlatYaml | None
    direction: str | None
    content: tuple[tuple[int, str], ...]
    where: Where


@dataclass
class StatusList:
    kind: str
    table: FlatYaml | None
    content: tuple[tuple[int, str], ...]
    where: Where


@dataclass
class OpDraft:
    method: str
    url: str
    title: str
    where: Where
    min_version: str = ""
    max_version: str = ""
    marks: list[Mark] = field(default_factory=list)
    page: str = ""
    paragraphs: list[str] = field(default_factory=list)
    prose_statuses: list[tuple[str, str, Where]] = field(default_factory=list)
    param_lists: list[ParamList] = field(default_factory=list)
    status_lists: list[StatusList] = field(default_factory=list)
    first_block: bool = True


Report = Callable[[str, str, Where], None]  # (code, message, where)
Skipper = Callable[[str, Where], None]


def build_operations(
    drafts: Iterable[OpDraft],
    page_texts: dict[str, str],
    report: Report,
    skip: Skipper,
) -> tuple[tuple[ApiOperation, ...], tuple[ApiOperation, ...]]:
    """(the surface, the obsolete operations), in document order."""
    built: list[ApiOperation] = []
    for draft in drafts:
        op = _build(draft, page_texts, report, skip)
        if op is not None:
            built.append(op)
    merged = _merge_same(built)
    return (
        tuple(op for op in merged if not op.obsolete),
        tuple(op for op in merged if op.obsolete),
    )


def _build(
    draft: OpDraft, page_texts: dict[str, str], report: Report, skip: Skipper
) -> ApiOperation | None:
    path, _, query = draft.url.partition("?")
    if path and not path.startswith(("/", "http:", "https:")):
        path = "/" + path  # os-api-ref renders "v3/x" as it does "/v3/x"
    if not path.startswith("/"):
        skip(f"rest_method URL {draft.url!r} is not a path", draft.where)
        return None
    params = _parameters(draft, report, skip)
    action = ""
    if draft.method == "POST" and path.rstrip("/").rsplit("/", 1)[-1] == "action":
        action = _action(draft, params)
        if not action:
            skip("an action (POST .../action) whose body key is not documented", draft.where)
            return None
    description = " ".join(draft.paragraphs)
    statuses = _statuses(draft, skip)
    if any(p.direction == "response" for p in params) and not any(
        s.kind == "success" for s in statuses
    ):
        skip("response parameters of an operation that lists no success code", draft.where)
    return ApiOperation(
        method=draft.method,
        path=path,
        query=query,
        action=action,
        title=draft.title,
        page=draft.page,
        page_text=page_texts.get(draft.page, ""),
        where=draft.where,
        min_version=draft.min_version if version_key(draft.min_version) else "",
        max_version=draft.max_version if version_key(draft.max_version) else "",
        marks=_unique_marks(draft.marks),
        statuses=statuses,
        parameters=params,
        description=description[:MAX_DESCRIPTION],
    )


def _unique_marks(marks: Iterable[Mark]) -> tuple[Mark, ...]:
    return tuple(dict.fromkeys(marks))


def _parameters(draft: OpDraft, report: Report, skip: Skipper) -> tuple[ParamUse, ...]:
    out: dict[tuple[str, str, str], ParamUse] = {}
    for plist in draft.param_lists:
        for line, text in plist.content:
            if not text.strip():
                continue
            use = Where(plist.where.file, line)
            m = _USE.match(text)
            if m is None:
                skip(f"rest_parameters line {text.strip()!r} is not `- name: key`", use)
                continue
            if plist.table is None:
                continue  # the parameters file itself was reported
            name = m.group("name").strip("'\" ")
            key = m.group("key").strip("'\" ")
            entry = plist.table.entries.get(key)
            if entry is None:
                report(
                    problems.PARAMETER_UNDEFINED,
                    f"parameter {name!r} refers to {key!r}, which {plist.file} does not define",
                    use,
                )
                continue
            param = _param(name, key, entry, plist, use, skip)
            if param is None:
                continue
            ident = (param.direction, param.location, param.name)
            if ident in out:
                skip(f"parameter {name!r} listed twice for the operation", use)
                continue
            out[ident] = param
    return tuple(out.values())


def _param(
    name: str, key: str, entry: Entry, plist: ParamList, use: Where, skip: Skipper
) -> ParamUse | None:
    fields = entry.fields
    location = fields["in"].text if "in" in fields else ""
    if location not in LOCATIONS:
        skip(f"parameter {key!r} has no valid `in` (header, path, query, body)", use)
        return None
    direction = plist.direction
    if location in ("path", "query"):
        if direction == "response":
            skip(f"{location} parameter {name!r} listed among the response parameters", use)
            return None
        direction = "request"
    if direction is None:
        skip(f"{location} parameter {name!r} outside a Request or Response section", use)
        return None
    required = fields["required"].as_bool() if "required" in fields else None
    written = fields["type"].text if "type" in fields else ""

    def text(k: str) -> str:
        return fields[k].text if k in fields else ""

    return ParamUse(
        name=name,
        key=key,
        location=location,
        direction=direction,
        required=bool(required) or location == "path",
        type=written,
        json_type=json_type(written),
        description=text("description").strip()[:MAX_DESCRIPTION],
        min_version=text("min_version").strip() if version_key(text("min_version")) else "",
        max_version=text("max_version").strip() if version_key(text("max_version")) else "",
        format=text("format").strip(),
        use=use,
        definition=Where(plist.file, entry.line),
        field_lines=tuple((k, v.line) for k, v in fields.items()),
    )


def _action(draft: OpDraft, params: tuple[ParamUse, ...]) -> str:
    body = [
        p for p in params if p.direction == "request" and p.location == "body" and "." not in p.name
    ]
    names = [p.name for p in body]
    m = _ACTION_TITLE.search(draft.title)
    if m is not None:
        return m.group(1)
    for p in body:
        if p.json_type in ("object", "null", None):
            return p.name
    return names[0] if names else ""


def _statuses(draft: OpDraft, skip: Skipper) -> tuple[StatusCode, ...]:
    out: dict[str, StatusCode] = {}
    for kind, text, where in draft.prose_statuses:
        named = {code: word.strip() for word, code in _NAMED_CODE.findall(text)}
        for code in _CODE.findall(text):
            out.setdefault(code, StatusCode(code, kind, named.get(code, ""), where))
    for slist in draft.status_lists:
        for line, text in slist.content:
            if not text.strip():
                continue
            where = Where(slist.where.file, line)
            m = _STATUS_USE.match(text)
            if m is None:
                skip(f"rest_status_code line {text.strip()!r} is not `- CODE[: key]`", where)
                continue
            code = m.group("code")
            out.setdefault(code, StatusCode(code, slist.kind, _reason(slist, code, m), where))
    return tuple(out.values())


def _reason(slist: StatusList, code: str, m: re.Match[str]) -> str:
    if slist.table is None:
        return ""
    entry = slist.table.entries.get(code)
    if entry is None:
        return ""
    key = m.group("key") or "default"
    scalar = entry.fields.get(key) or entry.fields.get("default")
    return scalar.text.strip()[:MAX_DESCRIPTION] if scalar is not None else ""


def _merge_same(ops: list[ApiOperation]) -> list[ApiOperation]:
    """One operation per (method, path, action): a later section adds what it documents."""
    first: dict[tuple[str, str, str], ApiOperation] = {}
    order: list[tuple[str, str, str]] = []
    for op in ops:
        ident = op.identity
        if ident not in first:
            first[ident] = op
            order.append(ident)
            continue
        first[ident] = _merge(first[ident], op)
    return [first[i] for i in order]


def _merge(a: ApiOperation, b: ApiOperation) -> ApiOperation:
    if a.where == b.where:  # the same file included twice (nova: main and internal parts)
        return replace(a, marks=_unique_marks((*a.marks, *b.marks)))
    # Two sections documenting one operation (nova's volume-attachment update and its
    # internal swap share PUT .../os-volume_attachments/{id}): a mark holds only when
    # every section carries it, so that a user-facing section is never made internal or
    # deprecated by its neighbour.
    marks = [m for m in a.marks if _has(b, m.kind)]
    marks += [m for m in b.marks if _has(a, m.kind)]
    have = {(p.direction, p.location, p.name) for p in a.parameters}
    params = a.parameters + tuple(
        p for p in b.parameters if (p.direction, p.location, p.name) not in have
    )
    codes = {s.code for s in a.statuses}
    return replace(
        a,
        marks=_unique_marks(marks),
        parameters=params,
        statuses=a.statuses + tuple(s for s in b.statuses if s.code not in codes),
        min_version=_bound(a.min_version, b.min_version, min),
        max_version=_bound(a.max_version, b.max_version, max),
        sections=(*a.sections, b.where),
    )


def _has(op: ApiOperation, kind: str) -> bool:
    return any(m.kind == kind for m in op.marks)


def _bound(a: str, b: str, pick: Callable[[Iterable[tuple[int, int]]], tuple[int, int]]) -> str:
    ka, kb = version_key(a), version_key(b)
    if ka is None or kb is None:
        return ""  # one section has no bound: the operation has none
    return a if pick((ka, kb)) == ka else b
