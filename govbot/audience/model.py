"""What an audience classification is: the policy's rules, and a decision per operation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from govbot.findings import Audience


@dataclass(frozen=True)
class AudienceConfig:
    """The policy's ``audience`` section: step 2 of the order in :mod:`govbot.audience`.

    Explicit markers in the spec come first; these rules apply where a spec says nothing.
    """

    internal_files: tuple[str, ...] = ()  # spec path globs, e.g. "api-specs/internal/**"
    admin_files: tuple[str, ...] = ()
    internal_paths: tuple[str, ...] = ()  # URL path regexes
    admin_paths: tuple[str, ...] = ()
    internal_tags: tuple[str, ...] = ()  # case-insensitive tag names
    admin_tags: tuple[str, ...] = ()
    internal_servers: tuple[str, ...] = ()  # server URL regexes
    admin_scopes: tuple[str, ...] = ()  # security scopes/roles that mean admin-only
    admin_descriptions: tuple[str, ...] = ()  # description regexes ("only ... administrative role")
    internal_descriptions: tuple[str, ...] = ()  # description regexes ("for internal use only")


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


@dataclass(frozen=True, slots=True)
class Access:
    """Whether a project user (reader, member or manager), a service user and a cloud
    admin may call an operation; None: the check string depends on what govbot cannot
    know (a deployment's settings, the resource)."""

    project: bool | None = None
    service: bool | None = None
    admin: bool | None = None

    def to_json(self) -> dict[str, bool | None]:
        return {"project": self.project, "service": self.service, "admin": self.admin}


@dataclass(frozen=True, slots=True)
class PolicyEvidence:
    """One policy default that names an operation: its name, default check string, where
    it is defined, whom it alone lets call the operation (audience None: undecided), and
    who may call it by the default (``allows``) and meanwhile, while a deprecated rule
    still lets its callers in too (``allows_now``)."""

    name: str
    check_str: str
    file: str
    line: int
    audience: Audience | None
    allows: Access = Access()
    allows_now: Access = Access()
    deprecated_check_str: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "check_str": self.check_str,
            "file": self.file,
            "line": self.line,
            "audience": str(self.audience) if self.audience is not None else None,
            "allows": self.allows.to_json(),
        }
        if self.deprecated_check_str is not None:
            out["deprecated_check_str"] = self.deprecated_check_str
            out["allows_while_deprecated"] = self.allows_now.to_json()
        return out


@dataclass(frozen=True, slots=True)
class Decision:
    """The audience of one operation, the evidence for it, and where that evidence is."""

    audience: Audience
    evidence: str
    # "x-audience" | "x-internal" | "policy-defaults" | "policy:<key>" | "default"
    source: str
    label: str = ""  # the operation as written: "GET /servers/{server_id}"
    file: str = ""  # where the deciding evidence is (the operation itself when it has none)
    pointer: str = ""
    line: int | None = None  # known without a pointer (a policy default's line)
    # The policy defaults that name the operation (source "policy-defaults"; also kept
    # when they were undecided and something else decided).
    policies: tuple[PolicyEvidence, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "operation": self.label,
            "audience": str(self.audience),
            "source": self.source,
            "evidence": self.evidence,
            "file": self.file,
            "pointer": self.pointer,
        }
        if self.line is not None:
            out["line"] = self.line
        if self.policies:
            out["policies"] = [p.to_json() for p in self.policies]
        return out


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
