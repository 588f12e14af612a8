"""CON082: one vocabulary across the community's APIs, judged one spec at a time.

The glossary rule is a single-spec rule so that it also runs when one spec is checked on
its own; the cross-spec rules of the same vocabulary are in :mod:`govbot.rules.cross`.
"""

from __future__ import annotations

from collections.abc import Iterable

from govbot.findings import Severity
from govbot.rules.consistency.index import (
    Rank,
    Sink,
    max_rank,
    option,
    prepare,
    squash,
    static_segments,
    words,
)
from govbot.rules.consistency.language import plural_of, singular_of
from govbot.rules.registry import API_SIG_ONLY, CrossContext, Hit, Kind, SpecContext, rule
from govbot.surface import join

DEFAULT_GLOSSARY = {"tenant_id": "project_id", "tenant": "project"}


def _glossary(ctx: SpecContext | CrossContext) -> list[tuple[list[str], list[str], str, str]]:
    """(discouraged words, preferred words, discouraged, preferred), longest term first."""
    raw = option(ctx, "glossary", None) or DEFAULT_GLOSSARY
    terms = [(words(k), words(v), k, v) for k, v in raw.items() if words(k)]
    terms.sort(key=lambda t: len(t[0]), reverse=True)
    return terms


def _find_term(
    name: str, terms: list[tuple[list[str], list[str], str, str]]
) -> tuple[str, str, str] | None:
    """(discouraged term, preferred term, suggested name) for the first term ``name`` uses.

    The last word of a term also matches its plural: ``tenant`` finds ``all_tenants``.
    """
    w = words(name)
    for bad, good, bad_text, good_text in terms:
        n = len(bad)
        for i in range(len(w) - n + 1):
            window = w[i : i + n]
            if window[:-1] != bad[:-1]:
                continue
            if window[-1] == bad[-1]:
                return bad_text, good_text, _respell(name, w[:i] + good + w[i + n :])
            if window[-1] != bad[-1] and singular_of(window[-1]) == bad[-1]:
                plural = [*good[:-1], plural_of(good[-1])]
                return bad_text, good_text, _respell(name, w[:i] + plural + w[i + n :])
        if squash(name) == "".join(bad):
            return bad_text, good_text, _respell(name, good)
    return None


def _respell(original: str, parts: list[str]) -> str:
    """``parts`` joined in the style of ``original`` (snake, kebab, camel or Pascal)."""
    if "_" in original:
        return "_".join(parts)
    if "-" in original:
        title = original[:1].isupper()
        return "-".join(p.capitalize() if title else p for p in parts)
    if any(c.isupper() for c in original[1:]):
        head = parts[0].capitalize() if original[:1].isupper() else parts[0]
        return head + "".join(p.capitalize() for p in parts[1:])
    return "_".join(parts)


@rule(
    "CON082",
    "glossary-term",
    kind=Kind.SPEC,
    severity=Severity.WARNING,
    options={"glossary": DEFAULT_GLOSSARY, "paths": True},
    guideline="TC-glossary",
    profiles=API_SIG_ONLY,
)
def glossary_term(ctx: SpecContext) -> Iterable[Hit]:
    """Names use the community's preferred terms (``project``, not ``tenant``).

    What it checks:
        Body field names, parameter names (query, path, header) and, unless the ``paths``
        option is false, literal path segments that contain a term the glossary
        discourages. The ``glossary`` option maps discouraged -> preferred terms and is
        meant to carry the policy's top-level ``glossary``; the default is
        ``tenant_id -> project_id``, ``tenant -> project``. Terms match whole words in any
        casing, the last word also in the plural: ``tenantId``, ``tenant_id``,
        ``X-Tenant-Id`` and ``all_tenants`` all use ``tenant``. A single-spec rule, so
        that it also runs when one spec is checked on its own.

    Why it matters:
        One word for one concept across services: OpenStack renamed tenants to projects
        years ago, and every new use of the old word keeps both alive in docs and SDKs.

    Example:
        ``{"tenant_id": "..."}``, ``GET /servers?all_tenants=1``.

    Fix:
        Use the preferred term (``project_id``, ``all_projects``); on existing surface,
        add the new name in a new version and deprecate the old one.

    References:
        The policy's ``glossary`` section (``policies/default.yaml``); OpenStack
        Keystone terminology (project, formerly tenant).
    """
    terms = _glossary(ctx)
    if not terms:
        return ()
    index, attr = prepare(ctx)
    sink = Sink(ctx)

    found_by_name: dict[str, tuple[str, str, str] | None] = {}

    def report(file: str, pointer: str, what: str, name: str, rank: Rank) -> None:
        if name not in found_by_name:
            found_by_name[name] = _find_term(name, terms)
        found = found_by_name[name]
        if found is not None:
            bad, good, better = found
            hint = f" (`{better}`)" if better != good else ""
            message = f"{what} `{name}` uses the discouraged term `{bad}`: use `{good}`{hint}."
            sink.add(file, pointer, message, rank, name_only=True)

    for sid, info in index.schemas.items():
        for f in info.fields:
            report(f.file, f.pointer, "Field", f.name, attr.schema(sid))
    for i, op in enumerate(index.ops):
        for p in op.parameters:
            report(p.node.file, p.node.pointer, f"The {p.location} parameter", p.name, attr.ops[i])
    if option(ctx, "paths", True):
        for path, idxs in index.paths.items():
            rank: Rank = (0, 0)
            for i in idxs:
                rank = max_rank(rank, attr.ops[i])
            for _, seg in static_segments(path):
                report(ctx.spec.file, join("", "paths", path), "Path segment", seg, rank)
    return sink
