"""What govbot knows of an API beyond its surface model: the project's facts.

An api-ref API comes with its reader's facts (lines of ``parameters.yaml`` entries,
the evidence of each mark), the project's microversion ledger and its policy defaults;
an OpenAPI spec may come with policy defaults too (``--policy-defaults``). They travel
on the :class:`~govbot.surface.Spec` (``Spec.facts``), their problems in its
``problems``, so that classification and rules read them like the rest of the spec.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from govbot.apiref import problems
from govbot.apiref.facts import ApiRef, Where
from govbot.apiref.ledger import Ledger
from govbot.apiref.policies import PolicyDefaults
from govbot.apiref.surface import Problem, Spec


@dataclass(frozen=True)
class ProjectFacts:
    api: ApiRef | None = None  # None: the spec is not an api-ref tree
    ledger: Ledger | None = None  # None: the project keeps no microversion ledger
    policies: PolicyDefaults | None = None  # None: no policy defaults were read

    @property
    def problems(self) -> tuple[Problem, ...]:
        """What the readers met: their problems, and what they skipped, as problems."""
        found: list[Problem] = []
        if self.api is not None:
            found.extend(self.api.problems)
            for skip in self.api.skipped:
                message = f"not understood, so not read: {skip.reason}"
                found.append(problems.problem(problems.SKIPPED, message, *_at(skip.where)))
        if self.ledger is not None:
            found.extend(self.ledger.problems)
        if self.policies is not None:
            found.extend(self.policies.problems)
            for skip in self.policies.unresolved:
                code = problems.POLICY_UNRESOLVED
                found.append(problems.problem(code, skip.reason, *_at(skip.where)))
        return tuple(dict.fromkeys(found))


def facts_of(spec: Spec) -> ProjectFacts | None:
    """The project facts a spec carries, or None."""
    facts = spec.facts
    return facts if isinstance(facts, ProjectFacts) else None


def attach(spec: Spec, facts: ProjectFacts) -> Spec:
    """``spec`` with ``facts`` (and their problems, once each)."""
    problems = tuple(dict.fromkeys((*spec.problems, *facts.problems)))
    return dataclasses.replace(spec, facts=facts, problems=problems)


def with_policies(spec: Spec, defaults: PolicyDefaults) -> Spec:
    """``spec`` whose audience also comes from ``defaults`` (added to what it carries)."""
    current = facts_of(spec) or ProjectFacts()
    if current.policies is not None:
        defaults = PolicyDefaults(
            policies={**current.policies.policies, **defaults.policies},
            files=(*current.policies.files, *defaults.files),
            problems=(*current.policies.problems, *defaults.problems),
            unresolved=(*current.policies.unresolved, *defaults.unresolved),
        )
    return attach(spec, dataclasses.replace(current, policies=defaults))


def _at(where: Where) -> tuple[str, int]:
    return where.file, where.line
