"""What ``govbot serve`` checks on Gerrit at start-up, besides the credentials.

Gerrit answers 404 both for a group that does not exist and for one the caller may not
see (a group is visible to its members and owners, and to everyone only when "visible to
all" is set). An escalation that cannot read the technical committee's group picks nobody,
and one that cannot read a project's core group loses its preference for cores, each
only with a line in the job's log: :func:`group_problems` says so once, at start-up,
naming the group, what govbot needs it for and how to fix it (gerrit-fidelity #10).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from govbot.errors import GerritError
from govbot.gerrit.client import GerritClient
from govbot.gerrit.errors import GerritNotFound
from govbot.policy import Policy

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroupProblem:
    """A group govbot needs and cannot read; ``required`` when escalation cannot work."""

    group: str
    role: str
    message: str
    required: bool


def group_problems(
    client: GerritClient, policy: Policy, watched: Sequence[tuple[str, str | None]]
) -> list[GroupProblem]:
    """The escalation groups (the TC's; the core group of each watched project) the bot
    cannot read. Nothing when escalation is off; an outage is not a problem of the group."""
    cfg = policy.escalation
    if not cfg.enabled:
        return []
    wanted: list[tuple[str, str, bool]] = [
        (cfg.tc.group, "the technical committee (policy escalation.tc.group)", True)
    ]
    if cfg.tc.prefer_core:
        projects = list(cfg.projects) or [project for project, _ in watched]
        for project in dict.fromkeys(projects):
            group = cfg.tc.core_group(project)
            if group and group not in (g for g, _, _ in wanted):
                wanted.append((group, f"the core group of {project}", False))
    bot = client.username or "the bot"
    problems = []
    for group, role, required in wanted:
        try:
            client.group_members(group)
        except GerritNotFound:
            effect = "escalation picks nobody" if required else "cores are not preferred"
            problems.append(
                GroupProblem(
                    group,
                    role,
                    f"Gerrit group {group!r} ({role}) does not exist or is not visible to "
                    f"{bot}: {effect}. Make it visible to all registered users, or make "
                    f"{bot} a member or owner of it.",
                    required,
                )
            )
        except GerritError as exc:
            LOG.warning("could not check Gerrit group %r (%s): %s", group, role, exc)
    return problems


def log_group_problems(
    client: GerritClient, policy: Policy, watched: Sequence[tuple[str, str | None]]
) -> list[GroupProblem]:
    """:func:`group_problems`, each logged (an error when escalation cannot work)."""
    problems = group_problems(client, policy, watched)
    for problem in problems:
        LOG.log(logging.ERROR if problem.required else logging.WARNING, "%s", problem.message)
    return problems


__all__ = ["GroupProblem", "group_problems", "log_group_problems"]
