"""Blueprint references in commit messages, and whether a change needs one.

:func:`find_references` reads ``Implements: blueprint NAME`` and its kin;
:func:`classify_change` decides whether a change touches an external API (and so must
reference a justified blueprint); :func:`spec_candidates` and :func:`resolve_specs`
find a blueprint's spec files in a specs repository and judge them; :func:`assess_change`
puts it together into the one status of a change the BPR010-BPR013 rules read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from govbot.blueprints.config import BlueprintConfig
from govbot.blueprints.document import parse_spec
from govbot.blueprints.justify import justify
from govbot.blueprints.templates import template_in_listing
from govbot.blueprints.verdict import RestApiImpact, Verdict


class RefKind(StrEnum):
    IMPLEMENTS = "implements"
    PARTIAL = "partial"
    BLUEPRINT = "blueprint"
    TOPIC = "topic"
    URL = "url"


_SLUG = re.compile(r"^[a-z0-9][a-z0-9+._-]*$")
_FOOTER = re.compile(
    r"^\s*(?P<key>partial(?:ly)?[- ]implements|implements(?:[- ]blueprint)?|blueprints?|"
    r"related[- ]blueprint|bp)\s*:\s*(?P<rest>.+)$",
    re.I,
)
_IMPLEMENTS_PROSE = re.compile(
    r"^\s*(?P<key>partial(?:ly)?[- ]implements|implements)\s+(?:blueprint|bp)\b[\s:#]*(?P<rest>\S.*)$",
    re.I,
)
_BP_WORD = re.compile(r"^(?:blueprint|bp)\b[\s:#]*", re.I)
_BP_URL = re.compile(
    r"(?:https?://)?blueprints\.launchpad\.net/(?P<project>[^/\s]+)/\+spec/(?P<name>[^/\s?#)\]>]+)",
    re.I,
)
_TOPIC = re.compile(r"^(?:bp|blueprint)/(?P<name>.+)$", re.I)
_TRAILING = ".,;:)]}>'\"`!?*"
_LEADING = "(<[{'\"`#*"


@dataclass(frozen=True, slots=True)
class BlueprintRef:
    """One blueprint a change says it implements."""

    name: str
    kind: RefKind
    line: int | None  # line in the commit message (1-based); None for the topic
    text: str  # what was matched, for the evidence
    project: str | None = None  # from a Launchpad URL

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "line": self.line,
            "text": self.text,
            "project": self.project,
        }


def clean_name(token: str) -> str | None:
    """A blueprint name from a token: punctuation around it stripped, lower-cased, or None."""
    name = token.strip().lstrip(_LEADING).rstrip(_TRAILING).lower()
    name = _BP_WORD.sub("", name) if name.startswith(("blueprint", "bp")) and ":" in name else name
    return name if name and _SLUG.match(name) and len(name) <= 100 else None


def find_references(message: str, topic: str | None = None) -> tuple[BlueprintRef, ...]:
    """Every blueprint reference of a commit message (and its Gerrit topic), in order.

    Recognised: footers ``Implements: blueprint X``, ``Partial-Implements:``,
    ``Partially-Implements:`` (also with a space), ``Implements-blueprint: X``,
    ``Blueprint: X``, ``bp: X``; a line ``Implements blueprint X``; Launchpad URLs
    ``blueprints.launchpad.net/<project>/+spec/<name>``; the topic ``bp/X``. Keys are
    case-insensitive, trailing punctuation is stripped. A blueprint merely mentioned in
    prose ("this blueprint is ...") is not a reference: jeepyb's looser pattern would
    read "is" as a name.
    """
    refs: list[BlueprintRef] = []
    for number, line in enumerate(message.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue  # git's comment lines
        m = _FOOTER.match(line) or _IMPLEMENTS_PROSE.match(line)
        if m:
            key = m.group("key").lower()
            kind = (
                RefKind.PARTIAL
                if key.startswith("partial")
                else RefKind.IMPLEMENTS
                if key.startswith("implements")
                else RefKind.BLUEPRINT
            )
            for token in _footer_tokens(m.group("rest")):
                name = clean_name(token)
                if name:
                    refs.append(BlueprintRef(name, kind, number, line.strip()))
        for url in _BP_URL.finditer(line):
            name = clean_name(url.group("name"))
            if name:
                refs.append(
                    BlueprintRef(
                        name, RefKind.URL, number, url.group(0), url.group("project").lower()
                    )
                )
    if topic:
        t = _TOPIC.match(topic.strip())
        if t:
            name = clean_name(t.group("name").rsplit("/", 1)[-1])
            if name:
                refs.append(BlueprintRef(name, RefKind.TOPIC, None, f"topic {topic.strip()}"))
    unique: dict[str, BlueprintRef] = {}
    for ref in refs:
        unique.setdefault(ref.name, ref)
    return tuple(unique.values())


_BP_NAMED = re.compile(r"(?<![\w-])(?:blueprint|bp)(?![\w-])[\s:#]+(\S+)", re.I)


def _footer_tokens(rest: str) -> Iterator[str]:
    """The names of a footer's value: comma-separated, each "blueprint X" or a bare "X".

    Only the first word of each comma-separated part is a name, so that prose after it
    ("blueprint foo-bar to add the field") is not read as more names.
    """
    for part in rest.split(","):
        if _BP_URL.search(part):
            continue  # URLs are read separately, with their project
        named = _BP_NAMED.findall(part)
        if named:
            yield from named
            continue
        first = part.split()[:1]
        if first and first[0].lower().strip(":#") not in ("and", "&", "blueprint", "bp"):
            yield first[0]


def api_impact_flag(message: str, flags: Sequence[str] = ("APIImpact",)) -> int | None:
    """The line of the first ``APIImpact`` flag in the message (as nova's dashboard finds it), or None."""
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in flags) + r")\b", re.I)
    for number, line in enumerate(message.splitlines(), start=1):
        if line.lstrip().startswith("#"):
            continue
        if pattern.search(line):
            return number
    return None


# --- resolving a name to a spec file ---------------------------------------------------------

_SPEC_PATH = re.compile(
    r"^(?:.*/)?specs/(?P<release>[^/]+)/(?P<state>approved|implemented)/(?P<name>[^/]+)\.(?:rst|md)$"
)


def spec_candidates(name: str, paths: Iterable[str]) -> list[str]:
    """The spec files of blueprint ``name`` among ``paths`` (a specs repository's listing).

    Matches ``specs/<release>/{approved,implemented}/<name>.rst|.md`` (the file name is
    the blueprint name, compared case-insensitively). Implemented specs first, then
    approved; within each, later paths (newer releases sort later by name in most
    repositories) first.
    """
    wanted = name.lower()
    found = []
    for path in paths:
        m = _SPEC_PATH.match(path.replace("\\", "/"))
        if m and m.group("name").lower() == wanted:
            found.append((m.group("state") != "implemented", path))
    implemented = sorted((p for late, p in found if not late), reverse=True)
    approved = sorted((p for late, p in found if late), reverse=True)
    return implemented + approved


# --- is this change an external API change? ----------------------------------------------


@dataclass(frozen=True, slots=True)
class SpecChange:
    """A changed OpenAPI spec of the change, as the OpenAPI pipeline classified it."""

    file: str
    external: bool  # some added/changed/removed operation is external
    summary: str = ""


@dataclass(frozen=True)
class ApiChange:
    """Why a change does or does not need a blueprint (B9 step 1)."""

    external: bool
    signals: tuple[str, ...] = ()  # evidence for an external API change
    internal: tuple[str, ...] = ()  # API signals that were internal only
    exempt: str = ""  # why an API-looking change is not asked (revert, tests only)

    @property
    def needs_blueprint(self) -> bool:
        return self.external and not self.exempt


def classify_change(
    files: Iterable[str],
    message: str = "",
    *,
    spec_changes: Iterable[SpecChange] = (),
    config: BlueprintConfig | None = None,
) -> ApiChange:
    """Decide whether a change touches an **external** API (signals strongest first).

    S1: an OpenAPI diff with external surface (``spec_changes``, from the OpenAPI
    pipeline); S2: files under ``api_paths`` that are not tests nor ``internal_api_paths``;
    S3: an ``APIImpact`` flag. Internal-only API changes are recorded but need no
    blueprint. Reverts are exempt.
    """
    config = config or BlueprintConfig()
    signals: list[str] = []
    internal: list[str] = []
    for change in spec_changes:
        what = f"{change.file}: {change.summary}" if change.summary else change.file
        (signals if change.external else internal).append(
            f"{'external' if change.external else 'internal'} API spec changed ({what})"
        )
    for path in files:
        if not config.is_api_path(path):
            continue
        if config.is_internal_api_path(path):
            internal.append(f"internal API file changed: {path}")
        else:
            signals.append(f"API file changed: {path}")
    flag = api_impact_flag(message, config.api_flags)
    if flag is not None:
        signals.append(f"{config.api_flags[0]} flag in the commit message (line {flag})")
    exempt = ""
    if re.search(r"^This reverts commit [0-9a-f]{7,40}", message, re.M):
        exempt = "a revert"
    return ApiChange(bool(signals), tuple(signals), tuple(internal), exempt)


# --- a blueprint's specs, and the status of a change ------------------------------------------


@dataclass(frozen=True)
class ResolvedSpec:
    """A blueprint's spec file, read from the specs repository and judged."""

    name: str
    path: str
    verdict: Verdict
    merged: bool = True  # False: the spec is still in review

    @property
    def rest_api(self) -> RestApiImpact:
        return self.verdict.rest_api


def resolve_specs(
    name: str,
    paths: Iterable[str],
    read: Callable[[str], bytes],
    config: BlueprintConfig | None = None,
    *,
    merged: bool = True,
) -> list[ResolvedSpec]:
    """Find and judge the spec files of ``name`` in a specs repository.

    ``paths`` lists the repository's files and ``read(path)`` returns one file's bytes
    (a git reader of a mirror gives both). The template is the policy's or any
    ``template_names`` file in the spec's directory or a parent, read the same way.
    """
    config = config or BlueprintConfig()
    all_paths = list(paths)
    out = []
    for path in spec_candidates(name, all_paths):
        doc = parse_spec(path, read(path), max_bytes=config.max_bytes)
        template = template_in_listing(path, all_paths, read, config)
        out.append(ResolvedSpec(name, path, justify(doc, config, template), merged=merged))
    return out


class ChangeStatus(StrEnum):
    """Where a change stands with its blueprint (the first failing step wins)."""

    NOT_API = "not-api"  # no external API change (or exempt): nothing to ask
    NO_BLUEPRINT = "no-blueprint"  # BPR010
    NOT_FOUND = "not-found"  # BPR011
    UNJUSTIFIED = "unjustified"  # BPR012
    NO_REST_API_IMPACT = "no-rest-api-impact"  # BPR013
    UNVERIFIED = "unverified"  # references found, but no specs repository to look them up in
    OK = "ok"


# Which status is better when a change references several blueprints (worst first).
_PROGRESS: tuple[ChangeStatus, ...] = (
    ChangeStatus.NO_BLUEPRINT,
    ChangeStatus.NOT_FOUND,
    ChangeStatus.UNJUSTIFIED,
    ChangeStatus.NO_REST_API_IMPACT,
    ChangeStatus.UNVERIFIED,
    ChangeStatus.OK,
)


@dataclass(frozen=True)
class ChangeAssessment:
    """One change: its API signals, blueprint references, their specs and its status."""

    message: str
    api: ApiChange
    references: tuple[BlueprintRef, ...] = ()
    # name -> its spec files, judged; a name missing here was not looked up.
    resolved: Mapping[str, tuple[ResolvedSpec, ...]] = field(default_factory=dict)
    status: ChangeStatus = ChangeStatus.NOT_API
    subject: BlueprintRef | None = None  # the reference the status is about
    spec: ResolvedSpec | None = None  # and its best spec

    def signals(self, shown: int = 3) -> str:
        """The API signals, in a few words."""
        text = "; ".join(self.api.signals[:shown])
        more = len(self.api.signals) - shown
        return text + (f" (+{more} more)" if more > 0 else "")


def assess_change(
    message: str,
    files: Sequence[str],
    *,
    topic: str | None = None,
    spec_changes: Sequence[SpecChange] = (),
    lookup: Callable[[str], Sequence[ResolvedSpec]] | None = None,
    config: BlueprintConfig | None = None,
) -> ChangeAssessment:
    """Detect the API change, find the references, resolve them and decide the status.

    ``lookup(name)`` gives the specs of a blueprint in the project's specs repository
    (merged or in review); without one, references cannot be verified and the change
    is only asked to have one.
    """
    config = config or BlueprintConfig()
    api = classify_change(files, message, spec_changes=spec_changes, config=config)
    refs = find_references(message, topic)
    if not api.needs_blueprint:
        return ChangeAssessment(message, api, refs, status=ChangeStatus.NOT_API)
    if not refs:
        return ChangeAssessment(message, api, refs, status=ChangeStatus.NO_BLUEPRINT)
    if lookup is None:
        return ChangeAssessment(message, api, refs, status=ChangeStatus.UNVERIFIED, subject=refs[0])
    resolved = {ref.name: tuple(lookup(ref.name)) for ref in refs}
    ranked = [(_status_of(resolved[ref.name]), ref) for ref in refs]
    (status, spec), subject = max(ranked, key=lambda item: _PROGRESS.index(item[0][0]))
    return ChangeAssessment(message, api, refs, resolved, status, subject, spec)


def _status_of(specs: Sequence[ResolvedSpec]) -> tuple[ChangeStatus, ResolvedSpec | None]:
    if not specs:
        return ChangeStatus.NOT_FOUND, None
    justified = [s for s in specs if s.verdict.justified]
    if not justified:
        return ChangeStatus.UNJUSTIFIED, specs[0]
    with_api = [s for s in justified if s.rest_api.declared]
    if not with_api:
        return ChangeStatus.NO_REST_API_IMPACT, justified[0]
    return ChangeStatus.OK, with_api[0]
