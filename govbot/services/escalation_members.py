"""Choosing the technical-committee member for a stale change (README.md, Stale reviews).

:func:`pick_member` is pure: the members, their load and the caps in, one :class:`Pick`
out, with why every other member was not chosen. :class:`TCDirectory` reads the TC and
the projects' core groups from Gerrit, each once per pass.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from govbot.errors import GerritError
from govbot.gerrit.accounts import AccountInfo
from govbot.policy import CapsConfig, EscalationConfig

LOG = logging.getLogger(__name__)


class GroupReader(Protocol):
    """The part of :class:`govbot.gerrit.client.GerritClient` that reads group members."""

    def group_members(self, group: str, *, recursive: bool = ...) -> list[AccountInfo]: ...


def member_key(account: AccountInfo) -> str:
    """How govbot names a member in its records: the username (else the account id)."""
    return account.username or (str(account.account_id) if account.account_id else account.label)


def _tie_break(change_number: int, key: str) -> str:
    """A stable pseudo-random order of members per change (rendezvous hashing)."""
    return hashlib.sha256(f"{change_number}:{key}".encode()).hexdigest()


@dataclass(frozen=True)
class MemberLoad:
    """What the database says about TC members right now."""

    open: Mapping[str, int] = field(default_factory=dict)  # open escalations held
    today: Mapping[str, int] = field(default_factory=dict)  # assignments in the last 24 h
    away_until: Mapping[str, dt.datetime] = field(default_factory=dict)
    capacity: Mapping[str, int] = field(default_factory=dict)  # per-member overrides


@dataclass(frozen=True)
class Pick:
    """The chosen member (None: nobody eligible) and why; why each other one was not."""

    member: AccountInfo | None
    reason: str
    excluded: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str | None:
        return member_key(self.member) if self.member is not None else None


@dataclass(frozen=True)
class _Rules:
    """What rules a member out for one change (the inputs of :func:`pick_member`)."""

    side: frozenset[int]
    owner: AccountInfo | None
    skipped: frozenset[str]
    load: MemberLoad
    caps: CapsConfig
    now: dt.datetime
    away_policy: Mapping[str, dt.date]

    def why_not(self, account: AccountInfo) -> str | None:
        """Why ``account`` cannot take the change (None: it can)."""
        key = member_key(account)
        load = self.load
        if account.inactive:
            return "inactive"
        if account.is_service_user:
            return "a Service User"
        if (account.account_id is not None and account.account_id in self.side) or (
            self.owner is not None and account.same_as(self.owner)
        ):
            return "owns or uploaded the change"
        if key in self.skipped:
            return "already had this escalation"
        if key in load.away_until and load.away_until[key] > self.now:
            return f"away until {load.away_until[key]:%Y-%m-%d}"
        if key in self.away_policy and self.now.date() <= self.away_policy[key]:
            return f"away until {self.away_policy[key]:%Y-%m-%d} (policy)"
        if load.open.get(key, 0) >= load.capacity.get(key, self.caps.open_per_member):
            return f"at capacity ({load.open.get(key, 0)} open escalations)"
        if load.today.get(key, 0) >= self.caps.per_member_per_day:
            return f"at the daily cap ({load.today.get(key, 0)} new today)"
        return None


def pick_member(
    *,
    change_number: int,
    project: str,
    members: Sequence[AccountInfo],
    owner_side: Iterable[int] = (),
    owner: AccountInfo | None = None,
    exclude: Iterable[str] = (),
    liaison: str | None = None,
    cores: Iterable[int] = (),
    load: MemberLoad,
    caps: CapsConfig,
    now: dt.datetime,
    away_policy: Mapping[str, dt.date] | None = None,
) -> Pick:
    """Choose the TC member for a change: liaison, else core TC member, else least loaded.

    Never the owner side, never a member who is inactive, away, at capacity or at the
    daily cap, never one in ``exclude`` (earlier assignees, for a hand-off). Ties go to a
    hash of (change number, member), so the same inputs always choose the same member and
    different changes spread over the committee.
    """
    rules = _Rules(
        frozenset(owner_side), owner, frozenset(exclude), load, caps, now, away_policy or {}
    )
    eligible: list[AccountInfo] = []
    excluded: list[tuple[str, str]] = []
    for account in members:
        why = rules.why_not(account)
        if why is None:
            eligible.append(account)
        else:
            excluded.append((member_key(account), why))
    if not eligible:
        return Pick(None, "no eligible TC member", tuple(excluded))
    chosen, reason = _choose(eligible, change_number, project, liaison, set(cores), load)
    return Pick(chosen, reason, tuple(excluded))


def _choose(
    eligible: list[AccountInfo],
    change_number: int,
    project: str,
    liaison: str | None,
    core_ids: set[int],
    load: MemberLoad,
) -> tuple[AccountInfo, str]:
    """The liaison, else the least loaded core, else the least loaded member; and why."""

    def least_loaded(pool: list[AccountInfo]) -> AccountInfo:
        return min(
            pool,
            key=lambda a: (
                load.open.get(member_key(a), 0),
                _tie_break(change_number, member_key(a)),
            ),
        )

    if liaison:
        match = [a for a in eligible if member_key(a) == liaison]
        if match:
            return match[0], f"TC liaison for {project}"
    core_pool = [a for a in eligible if a.account_id is not None and a.account_id in core_ids]
    if core_pool:
        chosen = least_loaded(core_pool)
        return chosen, (
            f"TC member and core reviewer on {project} "
            f"({load.open.get(member_key(chosen), 0)} open escalations)"
        )
    chosen = least_loaded(eligible)
    return chosen, (
        f"least loaded TC member ({load.open.get(member_key(chosen), 0)} open escalations; "
        "ties broken by a hash of the change number)"
    )


class TCDirectory:
    """TC and core group members read from Gerrit, each group once per pass."""

    def __init__(self, client: GroupReader, cfg: EscalationConfig) -> None:
        self.client = client
        self.cfg = cfg
        self._tc: list[AccountInfo] | None = None
        self._cores: dict[str, set[int]] = {}

    def tc(self) -> list[AccountInfo]:
        if self._tc is None:
            self._tc = list(self.client.group_members(self.cfg.tc.group))
        return self._tc

    def cores(self, project: str) -> set[int]:
        if not self.cfg.tc.prefer_core:
            return set()
        if project not in self._cores:
            group = self.cfg.tc.core_group(project)
            ids: set[int] = set()
            if group:
                try:
                    ids = {
                        a.account_id
                        for a in self.client.group_members(group)
                        if a.account_id is not None
                    }
                except GerritError as exc:  # no such group: nobody is core for the pass
                    LOG.info("core group %s of %s not readable: %s", group, project, exc)
            self._cores[project] = ids
        return self._cores[project]


__all__ = ["MemberLoad", "Pick", "TCDirectory", "member_key", "pick_member"]
