"""Who each operation is for: external, external-admin or internal, and why (design.md §4.1).

The order is fixed:

1. explicit markers in the spec win: ``x-audience`` (Zalando's vocabulary, rule 219) and
   ``x-internal`` (Redocly), on the operation, else its path item, else the document
   (``info`` or the root). An operation-level marker is final. A path-item or document
   level marker that says *internal* is final too; one that says *external* still lets the
   admin rules below narrow an operation to ``external-admin`` (Zalando asks for one
   ``x-audience`` per API, which says nothing about which operations need an admin);
2. then the policy's rules, in this order, the first match deciding (inside one kind,
   the internal rule before the admin one): spec file globs, URL path regexes, tags,
   server URLs, security scopes/roles, description regexes (the operation's description
   and summary, its path item's, and the descriptions of its tags in the top-level
   ``tags`` list: OpenStack's api-refs say "Administrator only." there);
3. otherwise **external**: unknown is treated as user-facing, because calling an external
   interface internal would let a breaking change through.

Every decision carries a sentence of evidence and where it was found (file and JSON
pointer), so that ``govbot classify`` can explain itself and a finding can cite a line.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from govbot.errors import PolicyError
from govbot.findings import Audience
from govbot.openapi.model import Operation, Spec, join, operations
from govbot.policy import AudienceConfig, glob_match

# Zalando RESTful API guidelines, rule 219 ("Provide API audience"), plus govbot's own
# three level names so that a spec can say exactly what it means.
X_AUDIENCE: Mapping[str, Audience] = {
    "external-public": Audience.EXTERNAL,
    "external-partner": Audience.EXTERNAL,
    "company-internal": Audience.INTERNAL,
    "business-unit-internal": Audience.INTERNAL,
    "component-internal": Audience.INTERNAL,
    "external": Audience.EXTERNAL,
    "external-admin": Audience.EXTERNAL_ADMIN,
    "internal": Audience.INTERNAL,
}

# Wider audiences first: when two operations share a key, the wider one is kept.
_WIDTH = {Audience.EXTERNAL: 3, Audience.EXTERNAL_ADMIN: 2, Audience.INTERNAL: 1}

# Evidence quotes at most this much of a matched description.
_QUOTE = 100


@dataclass(frozen=True, slots=True)
class Decision:
    """The audience of one operation, the evidence for it, and where that evidence is."""

    audience: Audience
    evidence: str
    source: str  # "x-audience" | "x-internal" | "policy:<key>" | "default"
    label: str = ""  # the operation as written: "GET /servers/{server_id}"
    file: str = ""  # where the deciding evidence is (the operation itself when it has none)
    pointer: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "operation": self.label,
            "audience": str(self.audience),
            "source": self.source,
            "evidence": self.evidence,
            "file": self.file,
            "pointer": self.pointer,
        }


@dataclass(frozen=True)
class Classification:
    """The audience of a spec and of each of its operations (keyed by ``Operation.key``)."""

    spec_audience: Audience
    spec_evidence: str
    operations: Mapping[str, Decision]
    # "x-audience" | "x-internal" | "policy:<key>" | "spec" (summed up from its
    # operations) | "default" (no operations at all).
    spec_source: str = "default"
    file: str = ""

    def of(self, op_key: str | None) -> Audience:
        """Audience of an operation; the spec's own for None or an unknown key."""
        if op_key is None:
            return self.spec_audience
        decision = self.operations.get(op_key)
        return decision.audience if decision is not None else self.spec_audience

    def decision(self, op_key: str) -> Decision:
        """The decision for an operation; for an unknown key, the spec's own."""
        found = self.operations.get(op_key)
        if found is not None:
            return found
        return Decision(self.spec_audience, self.spec_evidence, self.spec_source, file=self.file)

    def counts(self) -> dict[str, int]:
        """Number of operations per audience, every audience present."""
        out = {str(a): 0 for a in Audience}
        for d in self.operations.values():
            out[str(d.audience)] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "audience": str(self.spec_audience),
            "source": self.spec_source,
            "evidence": self.spec_evidence,
            "counts": self.counts(),
            "operations": [
                {"key": key, **d.to_json()}
                for key, d in sorted(
                    self.operations.items(), key=lambda kv: _path_then_method(kv[0])
                )
            ],
        }


def _path_then_method(key: str) -> tuple[str, str]:
    method, _, path = key.partition(" ")
    return (path, method)


# --- defaults -------------------------------------------------------------------------


def default_audience_config() -> AudienceConfig:
    """Built-in rules: markers that real APIs use to document admin-only or internal surface.

    Each value is a convention seen in published specs, not a guess about one file:
    ``/admin/`` path segments and an ``admin`` tag (Gitea, Discourse, Apicurio, Pub/Sub
    Lite), ``internal``/``private`` tags and path segments (Airbyte, Open Targets), spec
    files under an ``internal/`` directory, hosts under the reserved ``.internal`` TLD or
    Kubernetes' cluster-local DNS, OAuth scopes or roles named ``admin`` (GitHub
    ``admin:org``, Google ``…/auth/admin.…``), and the sentences with which API
    references say an operation is admin-only or not for outside use. OpenStack's
    api-ref says "Policy defaults enable only users with the administrative role to
    perform this operation" for admin-only operations; "…the administrative role **or
    the owner**…" is user-facing and must not match.
    """
    return AudienceConfig(
        internal_files=("**/internal/**",),
        admin_files=(),
        internal_paths=(r"(?:^|/)(?:internal|private)(?:/|$)",),
        admin_paths=(r"(?:^|/)admin(?:/|\.|$)",),
        internal_tags=("internal", "private"),
        admin_tags=("admin",),
        internal_servers=(
            r"^(?:[a-z][a-z0-9+.-]*:)?//[^/?#]*\.(?:internal|svc\.cluster\.local)\.?(?::\d+)?(?:[/?#]|$)",
        ),
        admin_scopes=(r"(?:.*[^a-z0-9])?admin(?:[^a-z0-9].*)?",),
        admin_descriptions=DEFAULT_ADMIN_DESCRIPTIONS,
        internal_descriptions=DEFAULT_INTERNAL_DESCRIPTIONS,
    )


DEFAULT_ADMIN_DESCRIPTIONS: tuple[str, ...] = (
    # OpenStack api-ref (nova, cinder, …): admin-only, but not "... or the owner ...",
    # and not a restriction on one field ("... to change `volumeId` via this operation").
    r"\bonly users with the administrative role(?: to perform\b|\s*[.;]|\s*$)",
    # "Administrator only.", "Administrators only, depending on policy settings.",
    # "an admin-only action" (not "non-admin only").
    r"(?<![\w-])(?:admin|administrator)s?[ -]only\b",
    # "Only available to the system admin user", "only accessible to admin users".
    r"\bonly (?:available|accessible|allowed|permitted|usable) (?:to|by|for) (?:the )?(?:\w+ )?"
    r"(?:admin|administrator)s?\b",
)

# Phrases with which a publisher disclaims an operation (or a whole tag) for outside use,
# e.g. Airbyte's web_backend tag: "Those APIs should not be called outside the web
# application implementation".
DEFAULT_INTERNAL_DESCRIPTIONS: tuple[str, ...] = (
    r"\bfor internal use only\b",
    r"\b(?:should|must) not be (?:called|used) (?:from )?outside\b",
    r"\bnot (?:intended|meant|supported) for (?:public|external|third[- ]party) use\b",
)

OPENSTACK_ADMIN_PATHS: tuple[str, ...] = (
    # nova: cloud topology, hosts, services, quota classes, legacy nova-network admin APIs
    r"/os-(?:hosts|hypervisors|services|aggregates|migrations|quota-class-sets|agents|cells"
    r"|baremetal-nodes|fixed-ips|floating-ips-bulk|instance_usage_audit_log"
    r"|assisted-volume-snapshots)(?:/|$)",
    # cinder (its v3 API, with or without the project id, since these names are common
    # elsewhere): clusters, workers, back-end capabilities and pools, QoS, unmanaged storage
    r"^/v3/(?:\{[^}/]*\}/)?(?:clusters|workers|capabilities|manageable_volumes"
    r"|manageable_snapshots|qos-specs|scheduler-stats|os-volume-manage|os-snapshot-manage)(?:/|$)",
)

# placement is the service-to-service API that nova and neutron call.
OPENSTACK_INTERNAL_FILES: tuple[str, ...] = ("**/placement/**",)


def openstack_audience_config(base: AudienceConfig | None = None) -> AudienceConfig:
    """The built-in rules plus what OpenStack documents outside its specs.

    nova's and cinder's policy defaults make some whole resources admin-only while the
    generated specs do not always say so; placement is internal by its role, which no
    spec can tell. This is what ``policies/default.yaml`` ships.
    """
    base = base or default_audience_config()
    return dataclasses.replace(
        base,
        internal_files=(*base.internal_files, *OPENSTACK_INTERNAL_FILES),
        admin_paths=(*base.admin_paths, *OPENSTACK_ADMIN_PATHS),
    )


# --- the classifier -------------------------------------------------------------------


def classify(
    spec: Spec, config: AudienceConfig, ops: Sequence[Operation] | None = None
) -> Classification:
    """Classify every operation of ``spec`` and the spec itself.

    ``ops`` saves recomputing :func:`~govbot.openapi.model.operations` when the caller
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
    ctx = _Context(spec, _compile(config), data)
    decisions: dict[str, Decision] = {}
    for op in operations(spec) if ops is None else ops:
        decision = ctx.decide(op)
        previous = decisions.get(op.key)
        if previous is None or _WIDTH[decision.audience] > _WIDTH[previous.audience]:
            decisions[op.key] = decision
    audience, evidence, source = ctx.spec_level(decisions)
    return Classification(audience, evidence, decisions, source, spec.file)


def classify_many(specs: Iterable[Spec], config: AudienceConfig) -> dict[str, Classification]:
    """Classification of each spec, keyed by its file."""
    return {spec.file: classify(spec, config) for spec in specs}


# --- compiled policy ------------------------------------------------------------------


@dataclass(frozen=True)
class _Pattern:
    key: str  # policy key, for evidence
    text: str  # as the TC wrote it
    regex: re.Pattern[str]
    # A word every match contains (lower case), or "": a text without it is skipped
    # without running the regex, which keeps long descriptions cheap.
    needle: str = ""


@dataclass(frozen=True)
class _Patterns:
    """The regexes of one policy key, tried in policy order."""

    items: tuple[_Pattern, ...]

    def __bool__(self) -> bool:
        return bool(self.items)

    def search(self, text: str) -> tuple[_Pattern, re.Match[str]] | None:
        """The first pattern (in policy order) found in ``text``, with its match."""
        low = text.lower() if text.isascii() else None
        for p in self.items:
            if low is not None and p.needle and p.needle not in low:
                continue
            m = p.regex.search(text)
            if m is not None:
                return p, m
        return None


_INLINE_FLAGS = re.compile(r"\(\?[aiLmsux-]")
_ESCAPE_TAIL = {"x": 2, "u": 4, "U": 8}


def _needle(pattern: str) -> str:
    """The longest ASCII word that every match of ``pattern`` must contain ("" if unsure).

    Only literal letters and digits outside groups, classes and quantifiers count, and a
    pattern with a top-level ``|`` or inline flags (``(?x)`` changes what a space means)
    has none. Matching is case-insensitive, so the word is lower-cased.
    """
    if _INLINE_FLAGS.search(pattern):
        return ""
    best, run, depth, i, n = "", "", 0, 0, len(pattern)
    while i < n:
        c = pattern[i]
        step = 1
        if c == "\\":
            nxt = pattern[i + 1 : i + 2]
            step = 2 + _ESCAPE_TAIL.get(nxt, 0)
            if nxt == "N":
                step = max(pattern.find("}", i) + 1 - i, 2)
            elif nxt.isdigit():
                while step < 4 and pattern[i + step : i + step + 1].isdigit():
                    step += 1
            c = ""
        elif c == "[":
            j = i + 1
            j += pattern[j : j + 1] == "^"
            j += pattern[j : j + 1] == "]"
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            step = j + 1 - i
            c = ""
        elif c in "?*+{":
            run = run[:-1]  # the quantified character may be absent
            if c == "{":
                step = max(pattern.find("}", i) + 1 - i, 1)
            c = ""
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return ""
        if depth == 0 and c.isascii() and c.isalnum():
            run += c
        else:
            if len(run) > len(best):
                best = run
            run = ""
        i += step
    if len(run) > len(best):
        best = run
    return best.lower()


@dataclass(frozen=True)
class _Rules:
    internal_files: tuple[tuple[str, str], ...]  # (policy key, glob)
    admin_files: tuple[tuple[str, str], ...]
    internal_paths: _Patterns
    admin_paths: _Patterns
    internal_tags: Mapping[str, str]  # casefolded -> as written
    admin_tags: Mapping[str, str]
    internal_servers: _Patterns
    admin_scopes: tuple[_Pattern, ...]
    internal_descriptions: _Patterns
    admin_descriptions: _Patterns


def _compile(config: AudienceConfig) -> _Rules:
    try:
        return _compile_cached(config)
    except TypeError:  # unhashable values (lists) in a hand-built config
        return _compile_uncached(config)


@functools.lru_cache(maxsize=32)
def _compile_cached(config: AudienceConfig) -> _Rules:
    return _compile_uncached(config)


def _compile_uncached(config: AudienceConfig) -> _Rules:
    def values(key: str) -> tuple[str, ...]:
        raw = getattr(config, key) or ()
        if isinstance(raw, str):
            raw = (raw,)
        return tuple(str(v) for v in raw)

    def regexes(key: str, *, full: bool = False) -> tuple[_Pattern, ...]:
        out = []
        for text in values(key):
            try:
                regex = re.compile(rf"(?:{text})\Z" if full else text, re.IGNORECASE)
            except re.error as exc:
                raise PolicyError(
                    f"audience.{key}: {text!r} is not a valid regular expression: {exc}"
                ) from exc
            out.append(_Pattern(key, text, regex, "" if full else _needle(text)))
        return tuple(out)

    def patterns(key: str) -> _Patterns:
        return _Patterns(regexes(key))

    def globs(key: str) -> tuple[tuple[str, str], ...]:
        return tuple((key, g) for g in values(key))

    def names(key: str) -> dict[str, str]:
        return {t.casefold(): t for t in values(key)}

    return _Rules(
        internal_files=globs("internal_files"),
        admin_files=globs("admin_files"),
        internal_paths=patterns("internal_paths"),
        admin_paths=patterns("admin_paths"),
        internal_tags=names("internal_tags"),
        admin_tags=names("admin_tags"),
        internal_servers=patterns("internal_servers"),
        admin_scopes=regexes("admin_scopes", full=True),
        internal_descriptions=patterns("internal_descriptions"),
        admin_descriptions=patterns("admin_descriptions"),
    )


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


_WHERE = {
    "operation": "on the operation",
    "path": "on the path item",
    "document": "on the document",
}


class _Context:
    """What every operation of one spec shares: compiled rules, memos, tag descriptions."""

    def __init__(self, spec: Spec, rules: _Rules, data: Mapping[str, Any]) -> None:
        self.spec = spec
        self.rules = rules
        self.data = data
        self.spec_file = _norm_file(spec.file)
        self.notes: list[str] = []
        # Memos: most operations share a file, a path, a path item, tags and the
        # document's security, so each is judged once.
        self._files: dict[tuple[str, bool], _Verdict | None] = {}
        self._paths: dict[tuple[str, bool], tuple[Audience, _Pattern] | None] = {}
        self._item_servers: dict[tuple[str, str], _Verdict | None] = {}
        self._scopes: dict[int, tuple[Any, tuple[str, str, _Pattern] | None]] = {}
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
        audience, evidence, source, file, pointer = self._decide(op)
        if len(self.notes) > seen:
            evidence = f"{evidence} ({'; '.join(self.notes[seen:])})"
        return Decision(audience, evidence, source, op.label, file, pointer)

    def _decide(self, op: Operation) -> _Verdict:
        value, item = op.value, op.path_node.value
        marker = None
        if "x-audience" in value or "x-internal" in value:
            marker = self.marker(value, op.node.file, op.node.pointer, "operation")
        if (
            marker is None
            and isinstance(item, Mapping)
            and ("x-audience" in item or "x-internal" in item)
        ):
            marker = self.marker(item, op.path_node.file, op.path_node.pointer, "path")
        marker = marker or self.doc_marker
        if marker is not None:
            verdict = marker.verdict
            if marker.level == "operation" or verdict[0] is not Audience.EXTERNAL:
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
        if isinstance(item.value, Mapping) and "servers" in item.value:
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

    def _admin_scope(self, security: list[Any]) -> tuple[str, str, _Pattern] | None:
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
        if isinstance(item.value, Mapping) and (
            "description" in item.value or "summary" in item.value
        ):
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


__all__ = [
    "DEFAULT_ADMIN_DESCRIPTIONS",
    "DEFAULT_INTERNAL_DESCRIPTIONS",
    "OPENSTACK_ADMIN_PATHS",
    "X_AUDIENCE",
    "Classification",
    "Decision",
    "classify",
    "classify_many",
    "default_audience_config",
    "openstack_audience_config",
]
