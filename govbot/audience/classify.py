"""Classifying one spec: every operation's audience with its evidence, then the spec's.

The order of :mod:`govbot.audience` is applied per operation by :class:`_Context`,
which memoises what operations share (a file, a path, a path item, tags, security).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from govbot.apiref.project import facts_of
from govbot.audience.model import X_AUDIENCE, AudienceConfig, Classification, Decision
from govbot.audience.patterns import CompiledRules, Pattern, compile_rules
from govbot.audience.policies import SOURCE as POLICY_DEFAULTS
from govbot.audience.policies import PolicyDecision, audience_from_policies
from govbot.findings import Audience
from govbot.paths import glob_match
from govbot.surface import Operation, Spec, is_mapping, join, operations, reusable_lineage

# Wider audiences first: when two operations share a key, the wider one is kept.
_WIDTH = {Audience.EXTERNAL: 3, Audience.EXTERNAL_ADMIN: 2, Audience.INTERNAL: 1}

# Evidence quotes at most this much of a matched description.
_QUOTE = 100


def classify(
    spec: Spec, config: AudienceConfig, ops: Sequence[Operation] | None = None
) -> Classification:
    """Classify every operation of ``spec`` and the spec itself.

    ``ops`` saves recomputing :func:`~govbot.surface.operations` when the caller
    already has them.
    """
    if not spec.ok:
        return Classification(
            Audience.EXTERNAL,
            "the spec could not be loaded: default external",
            {},
            "default",
            spec.file,
        )
    data = spec.data
    assert data is not None
    ops = operations(spec) if ops is None else ops
    facts = facts_of(spec)
    defaults = facts.policies if facts is not None else None
    by_policy = audience_from_policies(ops, defaults) if defaults is not None else {}
    ctx = _Context(spec, compile_rules(config), data, by_policy)
    known = _previous_decisions(spec, config) if facts is None else {}
    decided: dict[int, tuple[Operation, Decision]] = {}
    decisions: dict[str, Decision] = {}
    for op in ops:
        kept = known.get(id(op))
        decision = kept[1] if kept is not None and kept[0] is op else ctx.decide(op)
        decided[id(op)] = (op, decision)
        previous = decisions.get(op.key)
        if previous is None or _WIDTH[decision.audience] > _WIDTH[previous.audience]:
            decisions[op.key] = decision
    audience, evidence, source = ctx.spec_level(decisions)
    spec.__dict__[_DECIDED] = (config, decided)
    return Classification(audience, evidence, decisions, source, spec.file)


_DECIDED = "_govbot_decided"
# What a decision reads of the document besides its operation (tag descriptions, the
# servers, the document's markers).
_DOCUMENT_KEYS = (
    "tags",
    "info",
    "servers",
    "host",
    "basePath",
    "schemes",
    "x-audience",
    "x-internal",
)


def _previous_decisions(
    spec: Spec, config: AudienceConfig
) -> Mapping[int, tuple[Operation, Decision]]:
    """The decisions of the previous version of the spec (:class:`~govbot.surface.Lineage`)
    by operation, when they hold for this one: same configuration, same document parts
    read (the very objects). An operation it reused (the same object) is decided alike."""
    lineage = reusable_lineage(spec, _DOCUMENT_KEYS)
    found = lineage.previous.__dict__.get(_DECIDED) if lineage is not None else None
    if found is None or found[0] is not config:
        return {}
    return found[1]  # type: ignore[no-any-return]


def classify_many(specs: Iterable[Spec], config: AudienceConfig) -> dict[str, Classification]:
    """Classification of each spec, keyed by its file."""
    return {spec.file: classify(spec, config) for spec in specs}


def _norm_file(file: str) -> str:
    file = file.replace("\\", "/")
    while file.startswith("./"):
        file = file[2:]
    return file


def _text(value: Any) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def _quote(text: str, match: re.Match[str]) -> str:
    start = max(0, match.start() - 20)
    end = min(len(text), max(match.end(), start + _QUOTE))
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


# --- one spec -------------------------------------------------------------------------

# A verdict before it is attached to an operation: audience, evidence, source, file, pointer.
_Verdict = tuple[Audience, str, str, str, str]
# What the description patterns found in one text: (internal hit, admin hit), each a
# (policy key, quoted match) pair or None.
_Scan = tuple[tuple[str, str] | None, tuple[str, str] | None]
_NOTHING: _Scan = (None, None)
_OPERATION_TEXT = {k: f"the operation's {k}" for k in ("description", "summary")}
_PATH_ITEM_TEXT = {k: f"the path item's {k}" for k in ("description", "summary")}


@dataclass(frozen=True, slots=True)
class _Marker:
    verdict: _Verdict
    level: str  # "operation" | "path" | "document"


def _final(marker: _Marker | None) -> bool:
    """A marker nothing overrides: on the operation, or one saying internal."""
    return marker is not None and (
        marker.level == "operation" or marker.verdict[0] is not Audience.EXTERNAL
    )


_WHERE = {
    "operation": "on the operation",
    "path": "on the path item",
    "document": "on the document",
}


class _Context:
    """What every operation of one spec shares: compiled rules, memos, tag descriptions."""

    def __init__(
        self,
        spec: Spec,
        rules: CompiledRules,
        data: Mapping[str, Any],
        by_policy: Mapping[str, PolicyDecision],
    ) -> None:
        self.spec = spec
        self.rules = rules
        self.data = data
        self.by_policy = by_policy
        self.spec_file = _norm_file(spec.file)
        self.notes: list[str] = []
        # Memos: most operations share a file, a path, a path item, tags and the
        # document's security, so each is judged once.
        self._files: dict[tuple[str, bool], _Verdict | None] = {}
        self._paths: dict[tuple[str, bool], tuple[Audience, Pattern] | None] = {}
        self._item_servers: dict[tuple[str, str], _Verdict | None] = {}
        self._scopes: dict[int, tuple[Any, tuple[str, str, Pattern] | None]] = {}
        self._scans: dict[tuple[str, str], _Scan] = {}
        # casefolded tag name -> (pointer of its description, normalised description)
        self.tag_docs: dict[str, tuple[str, str]] = {}
        tags = data.get("tags")
        if isinstance(tags, list):
            for i, tag in enumerate(tags):
                if isinstance(tag, Mapping) and isinstance(tag.get("name"), str):
                    text = _text(tag.get("description"))
                    if text:
                        self.tag_docs.setdefault(
                            tag["name"].casefold(), (f"/tags/{i}/description", text)
                        )
        self.doc_servers = self._servers_of(data, "")
        self.doc_server_verdict = self._all_internal(self.doc_servers, spec.file)
        info = data.get("info")
        self.doc_marker = self.marker(info, spec.file, "/info", "document") or self.marker(
            data, spec.file, "", "document"
        )
        self.doc_notes = list(self.notes)

    # -- markers --

    def marker(self, value: Any, file: str, pointer: str, level: str) -> _Marker | None:
        if not isinstance(value, Mapping):
            return None
        where = _WHERE[level]
        if "x-audience" in value:
            raw = value["x-audience"]
            audience = X_AUDIENCE.get(raw.strip().lower()) if isinstance(raw, str) else None
            if audience is not None:
                evidence = f"x-audience: {raw} {where}"
                return _Marker(
                    (audience, evidence, "x-audience", file, join(pointer, "x-audience")), level
                )
            self.notes.append(f"x-audience {raw!r} {where} is not a known audience: ignored")
        raw = value.get("x-internal")
        if raw is True or (raw is False and level != "document"):
            audience = Audience.INTERNAL if raw else Audience.EXTERNAL
            evidence = f"x-internal: {'true' if raw else 'false'} {where}"
            return _Marker(
                (audience, evidence, "x-internal", file, join(pointer, "x-internal")), level
            )
        return None

    # -- one operation --

    def decide(self, op: Operation) -> Decision:
        seen = len(self.notes)
        marker = self._marker(op)
        by_policy = self.by_policy.get(op.key)
        if not _final(marker) and by_policy is not None and by_policy.audience is not None:
            return self._by_policy(op, by_policy)
        audience, evidence, source, file, pointer = self._decide(op, marker)
        if len(self.notes) > seen:
            evidence = f"{evidence} ({'; '.join(self.notes[seen:])})"
        cited = by_policy.cited() if by_policy is not None else ()
        if by_policy is not None and not _final(marker):
            evidence = f"{evidence}; the policy defaults do not decide: {by_policy.evidence}"
        return Decision(audience, evidence, source, op.label, file, pointer, policies=cited)

    def _by_policy(self, op: Operation, decision: PolicyDecision) -> Decision:
        """Who may call it, by the project's own defaults (the code enforces them)."""
        assert decision.audience is not None
        deciding = decision.deciding
        where = deciding.policy.where if deciding is not None else None
        return Decision(
            decision.audience,
            decision.evidence,
            POLICY_DEFAULTS,
            op.label,
            where.file if where is not None else op.node.file,
            "" if where is not None else op.node.pointer,
            line=where.line if where is not None else None,
            policies=decision.cited(),
        )

    def _marker(self, op: Operation) -> _Marker | None:
        value, item = op.value, op.path_node.value
        marker = None
        if "x-audience" in value or "x-internal" in value:
            marker = self.marker(value, op.node.file, op.node.pointer, "operation")
        if marker is None and is_mapping(item) and ("x-audience" in item or "x-internal" in item):
            marker = self.marker(item, op.path_node.file, op.path_node.pointer, "path")
        return marker or self.doc_marker

    def _decide(self, op: Operation, marker: _Marker | None) -> _Verdict:
        if marker is not None:
            verdict = marker.verdict
            if _final(marker):
                return verdict
            # One "external" for a whole API still leaves room for admin-only operations.
            admin = self.policy(op, admin_only=True)
            if admin is None:
                return verdict
            return (admin[0], f"{verdict[1]}; admin-only: {admin[1]}", *admin[2:])
        found = self.policy(op, admin_only=False)
        if found is not None:
            return found
        return (
            Audience.EXTERNAL,
            "no marker or policy rule matched: default external",
            "default",
            op.node.file,
            op.node.pointer,
        )

    def policy(self, op: Operation, *, admin_only: bool) -> _Verdict | None:
        return (
            self.by_file(op, admin_only)
            or self.by_path(op, admin_only)
            or self.by_tag(op, admin_only)
            or (None if admin_only else self.by_server(op))
            or self.by_scope(op)
            or self.by_description(op, admin_only)
        )

    def by_file(self, op: Operation, admin_only: bool) -> _Verdict | None:
        rules = self.rules
        if not (rules.admin_files or (rules.internal_files and not admin_only)):
            return None
        for file in dict.fromkeys((self.spec.file, op.path_node.file, op.node.file)):
            memo = (file, admin_only)
            if memo not in self._files:
                self._files[memo] = self._file_verdict(_norm_file(file), admin_only)
            verdict = self._files[memo]
            if verdict is not None:
                return (*verdict[:3], op.node.file, op.node.pointer)
        return None

    def _file_verdict(self, file: str, admin_only: bool) -> _Verdict | None:
        kinds = [(Audience.EXTERNAL_ADMIN, self.rules.admin_files)]
        if not admin_only:
            kinds.insert(0, (Audience.INTERNAL, self.rules.internal_files))
        for audience, patterns in kinds:
            for key, glob in patterns:
                if glob_match(glob, file):
                    what = "spec file" if file == self.spec_file else "file"
                    evidence = f"{what} '{file}' matches {key} '{glob}'"
                    return (audience, evidence, f"policy:{key}", "", "")
        return None

    def by_path(self, op: Operation, admin_only: bool) -> _Verdict | None:
        memo = (op.path, admin_only)
        if memo not in self._paths:
            found = None
            if not admin_only:
                hit = self.rules.internal_paths.search(op.path)
                found = (Audience.INTERNAL, hit[0]) if hit else None
            if found is None:
                hit = self.rules.admin_paths.search(op.path)
                found = (Audience.EXTERNAL_ADMIN, hit[0]) if hit else None
            self._paths[memo] = found
        found = self._paths[memo]
        if found is None:
            return None
        audience, p = found
        evidence = f"path '{op.path}' matches {p.key} '{p.text}'"
        return (audience, evidence, f"policy:{p.key}", op.path_node.file, op.path_node.pointer)

    def by_tag(self, op: Operation, admin_only: bool) -> _Verdict | None:
        tags = op.value.get("tags")
        if not isinstance(tags, list) or not tags:
            return None
        kinds = [(Audience.EXTERNAL_ADMIN, "admin_tags", self.rules.admin_tags)]
        if not admin_only:
            kinds.insert(0, (Audience.INTERNAL, "internal_tags", self.rules.internal_tags))
        for audience, key, names in kinds:
            if not names:
                continue
            for i, tag in enumerate(tags):
                if isinstance(tag, str) and tag.casefold() in names:
                    pointer = join(op.node.pointer, "tags", i)
                    return (
                        audience,
                        f"tag '{tag}' matches {key}",
                        f"policy:{key}",
                        op.node.file,
                        pointer,
                    )
        return None

    def by_server(self, op: Operation) -> _Verdict | None:
        if not self.rules.internal_servers:
            return None
        if "servers" in op.value:
            return self._all_internal(self._servers_of(op.value, op.node.pointer), op.node.file)
        item = op.path_node
        if is_mapping(item.value) and "servers" in item.value:
            memo = (item.file, item.pointer)
            if memo not in self._item_servers:
                servers = self._servers_of(item.value, item.pointer)
                self._item_servers[memo] = self._all_internal(servers, item.file)
            return self._item_servers[memo]
        return self.doc_server_verdict

    def _all_internal(self, servers: list[tuple[str, str]], file: str) -> _Verdict | None:
        """Internal when every server URL matches ``internal_servers``."""
        if not servers or not self.rules.internal_servers:
            return None
        hits = []
        for url, _pointer in servers:
            hit = self.rules.internal_servers.search(url)
            if hit is None:
                return None
            hits.append(hit[0])
        url, p = servers[0][0], hits[0]
        what = (
            f"server '{url}' matches"
            if len(servers) == 1
            else f"all {len(servers)} servers (first '{url}') match"
        )
        evidence = f"{what} internal_servers '{p.text}'"
        return (Audience.INTERNAL, evidence, "policy:internal_servers", file, servers[0][1])

    def _servers_of(self, value: Any, pointer: str) -> list[tuple[str, str]]:
        if not isinstance(value, Mapping):
            return []
        servers = value.get("servers")
        if isinstance(servers, list):
            return [
                (s["url"], join(pointer, "servers", i, "url"))
                for i, s in enumerate(servers)
                if isinstance(s, Mapping) and isinstance(s.get("url"), str)
            ]
        host = value.get("host")
        if pointer == "" and self.spec.is_swagger and isinstance(host, str):
            base = value.get("basePath")
            base = base if isinstance(base, str) else ""
            schemes = value.get("schemes")
            schemes = (
                [s for s in schemes if isinstance(s, str)] if isinstance(schemes, list) else []
            )
            return [(f"{s}://{host}{base}", "/host") for s in schemes] or [
                (f"//{host}{base}", "/host")
            ]
        return []

    def by_scope(self, op: Operation) -> _Verdict | None:
        """Admin-only when every alternative security requirement needs an admin scope/role."""
        security = op.security
        if not self.rules.admin_scopes or not isinstance(security, list) or not security:
            return None
        memo = self._scopes.get(id(security))
        if memo is None or memo[0] is not security:
            memo = (security, self._admin_scope(security))
            self._scopes[id(security)] = memo
        hit = memo[1]
        if hit is None:
            return None
        scheme, scope, p = hit
        own = "security" in op.value
        file = op.node.file if own else self.spec.file
        pointer = join(op.node.pointer, "security") if own else "/security"
        evidence = f"security requires {scheme} scope/role '{scope}' (admin_scopes '{p.text}')"
        return (Audience.EXTERNAL_ADMIN, evidence, "policy:admin_scopes", file, pointer)

    def _admin_scope(self, security: list[Any]) -> tuple[str, str, Pattern] | None:
        first = None
        for requirement in security:
            hit = None
            if isinstance(requirement, Mapping):
                for scheme, scopes in requirement.items():
                    for scope in scopes if isinstance(scopes, list) else ():
                        if not isinstance(scope, str):
                            continue
                        p = next((p for p in self.rules.admin_scopes if p.regex.match(scope)), None)
                        if p is not None:
                            hit = (str(scheme), scope, p)
                            break
                    if hit is not None:
                        break
            if hit is None:
                return None  # this alternative lets a caller in without an admin scope
            first = first or hit
        return first

    def by_description(self, op: Operation, admin_only: bool) -> _Verdict | None:
        rules = self.rules
        if not (rules.admin_descriptions or (rules.internal_descriptions and not admin_only)):
            return None
        # (scan, what, file, pointer) of each text: the operation's, its path item's, its tags'.
        scans: list[tuple[_Scan, str, str, str]] = []
        node, value = op.node, op.value
        for key in ("description", "summary"):
            raw = value.get(key)
            if raw:
                scan = self._scan(raw)
                if scan is not _NOTHING:
                    scans.append((scan, _OPERATION_TEXT[key], node.file, join(node.pointer, key)))
        item = op.path_node
        if is_mapping(item.value) and ("description" in item.value or "summary" in item.value):
            for key in ("description", "summary"):
                memo = (item.file, join(item.pointer, key))
                if memo not in self._scans:
                    self._scans[memo] = self._scan(item.value.get(key))
                scans.append((self._scans[memo], _PATH_ITEM_TEXT[key], *memo))
        tags = value.get("tags")
        for tag in tags if isinstance(tags, list) and self.tag_docs else ():
            doc = self.tag_docs.get(tag.casefold()) if isinstance(tag, str) else None
            if doc is not None:
                memo = (self.spec.file, doc[0])
                if memo not in self._scans:
                    self._scans[memo] = self._scan(doc[1])
                scans.append((self._scans[memo], f"the description of tag '{tag}'", *memo))
        for index in (1,) if admin_only else (0, 1):
            for scan, what, file, pointer in scans:
                hit = scan[index]
                if hit is not None:
                    key, quote = hit
                    audience = Audience.INTERNAL if index == 0 else Audience.EXTERNAL_ADMIN
                    evidence = f"{what} matches {key}: “{quote}”"
                    return (audience, evidence, f"policy:{key}", file, pointer)
        return None

    def _scan(self, raw: Any) -> _Scan:
        """Which description patterns (internal, admin) ``raw`` matches, whitespace folded."""
        if not isinstance(raw, str) or not raw:
            return _NOTHING
        low = raw.lower() if raw.isascii() else None
        text = ""
        found: list[tuple[str, str] | None] = [None, None]
        for index, patterns in enumerate(
            (self.rules.internal_descriptions, self.rules.admin_descriptions)
        ):
            for p in patterns.items:
                # The needle has no whitespace, so folding whitespace cannot change its presence.
                if low is not None and p.needle and p.needle not in low:
                    continue
                text = text or " ".join(raw.split())
                m = p.regex.search(text)
                if m is not None:
                    found[index] = (p.key, _quote(text, m))
                    break
        return _NOTHING if found == [None, None] else (found[0], found[1])

    # -- the spec as a whole --

    def spec_level(self, decisions: Mapping[str, Decision]) -> tuple[Audience, str, str]:
        if self.doc_marker is not None:
            audience, evidence, source, _, _ = self.doc_marker.verdict
            return audience, evidence, source
        verdict = self._file_verdict(self.spec_file, admin_only=False) or self.doc_server_verdict
        if verdict is not None:
            return verdict[0], verdict[1], verdict[2]
        note = f" ({'; '.join(self.doc_notes)})" if self.doc_notes else ""
        total = len(decisions)
        if not total:
            return (
                Audience.EXTERNAL,
                f"no operations and no marker: default external{note}",
                "default",
            )
        counts = dict.fromkeys(Audience, 0)
        for d in decisions.values():
            counts[d.audience] += 1
        for audience in (Audience.EXTERNAL, Audience.EXTERNAL_ADMIN):
            if counts[audience]:
                return (
                    audience,
                    f"{counts[audience]} of {total} operations are {audience}{note}",
                    "spec",
                )
        return Audience.INTERNAL, f"all {total} operations are internal{note}", "spec"
