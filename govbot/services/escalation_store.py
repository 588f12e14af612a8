"""What an escalation pass reads from and writes to the database: one store object.

:class:`EscalationStore` owns every database write of a pass: ending an episode,
reserving a step before Gerrit is touched (unique per change, episode and stage, so a
step happens once across processes and restarts), freeing a step Gerrit refused, and
recording a step Gerrit accepted. :class:`DryRunStore` reads the same and writes
nothing: ``govbot escalate --dry-run`` and the digest's live pass use it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, delete, select, update

from govbot.db.models import Escalation, EscalationStage, TCMember
from govbot.db.session import insert_ignore, session_scope
from govbot.services.escalation_members import MemberLoad
from govbot.services.escalation_plan import RECLAIM_AFTER, EpisodeKey, EpisodeStep
from govbot.services.staleness import Assessment

_ORDER = {EscalationStage.ESCALATE: 0, EscalationStage.REMIND: 1, EscalationStage.HANDOFF: 2}


def _step(row: Escalation) -> EpisodeStep:
    return EpisodeStep(
        row.change_number,
        row.episode_start,
        row.stage,
        row.assignee,
        row.assignee_account_id,
        row.created_at,
        row.acted_at,
    )


class EscalationStore:
    """The ``escalations`` and ``tc_members`` tables as one pass sees and changes them."""

    writes = True

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, now: dt.datetime) -> tuple[MemberLoad, dict[EpisodeKey, list[EpisodeStep]]]:
        """Member loads and the open episodes (change, episode start) -> steps in order."""
        episodes: dict[EpisodeKey, list[EpisodeStep]] = defaultdict(list)
        today: Counter[str] = Counter()
        with session_scope(self.engine) as session:
            for row in session.scalars(select(Escalation).where(Escalation.resolved_at.is_(None))):
                episodes[(row.change_number, row.episode_start)].append(_step(row))
            since = now - dt.timedelta(days=1)
            for row in session.scalars(
                select(Escalation).where(
                    Escalation.created_at > since,
                    Escalation.stage.in_([EscalationStage.ESCALATE, EscalationStage.HANDOFF]),
                )
            ):
                today[row.assignee] += 1
            members = list(session.scalars(select(TCMember)))
        open_: Counter[str] = Counter()
        for steps in episodes.values():
            steps.sort(key=lambda r: _ORDER[r.stage])
            open_[steps[-1].assignee] += 1
        load = MemberLoad(
            open=dict(open_),
            today=dict(today),
            away_until={m.username: m.away_until for m in members if m.away_until is not None},
            capacity={m.username: m.capacity for m in members if m.capacity is not None},
        )
        return load, dict(episodes)

    def resolve(self, key: EpisodeKey, resolution: str, when: dt.datetime, by: str | None) -> None:
        """End the episode ``key`` on every one of its rows."""
        number, start = key
        with session_scope(self.engine) as session:
            session.execute(
                update(Escalation)
                .where(
                    Escalation.change_number == number,
                    Escalation.episode_start == start,
                    Escalation.resolved_at.is_(None),
                )
                .values(resolved_at=when, resolution=resolution, resolved_by=by)
            )

    def reserve(
        self,
        a: Assessment,
        stage: EscalationStage,
        assignee: str,
        account_id: int | None,
        reason: str,
        now: dt.datetime,
    ) -> bool:
        """Claim the step before Gerrit is touched; False when another process holds it.

        A reservation left by a process that died before acting (older than
        ``RECLAIM_AFTER``) is taken over, atomically."""
        values = {
            "change_number": a.number,
            "project": a.project,
            "branch": a.branch,
            "subject": a.subject,
            "owner": a.owner,
            "episode_start": a.clock_start,
            "stage": stage,
            "assignee": assignee,
            "assignee_account_id": account_id,
            "reason": reason,
            "waited_days": a.waited_days,
            "created_at": now,
            "detail": {},
        }
        with session_scope(self.engine) as session:
            if insert_ignore(
                session, Escalation, values, conflict=["change_number", "episode_start", "stage"]
            ):
                return True
            taken = session.execute(
                update(Escalation)
                .where(*_identity(a, stage), Escalation.acted_at.is_(None))
                .where(Escalation.created_at <= now - RECLAIM_AFTER)
                .values(created_at=now, assignee=assignee, reason=reason)
            )
            return taken.rowcount == 1  # type: ignore[attr-defined]

    def release(self, a: Assessment, stage: EscalationStage) -> None:
        """Free a reserved step Gerrit refused, for the next pass."""
        with session_scope(self.engine) as session:
            session.execute(
                delete(Escalation).where(*_identity(a, stage), Escalation.acted_at.is_(None))
            )

    def record(
        self,
        a: Assessment,
        stage: EscalationStage,
        now: dt.datetime,
        attention_reason: str,
        detail: Mapping[str, Any],
    ) -> None:
        """Mark a reserved step done: Gerrit accepted it at ``now``."""
        with session_scope(self.engine) as session:
            session.execute(
                update(Escalation)
                .where(*_identity(a, stage))
                .values(acted_at=now, attention_reason=attention_reason, detail=dict(detail))
            )


class DryRunStore(EscalationStore):
    """Reads like :class:`EscalationStore`, writes nothing: a dry run's store."""

    writes = False

    def resolve(self, key: EpisodeKey, resolution: str, when: dt.datetime, by: str | None) -> None:
        return None

    def reserve(
        self,
        a: Assessment,
        stage: EscalationStage,
        assignee: str,
        account_id: int | None,
        reason: str,
        now: dt.datetime,
    ) -> bool:
        return False  # nothing is claimed, so nothing may be written to Gerrit either

    def release(self, a: Assessment, stage: EscalationStage) -> None:
        return None

    def record(
        self,
        a: Assessment,
        stage: EscalationStage,
        now: dt.datetime,
        attention_reason: str,
        detail: Mapping[str, Any],
    ) -> None:
        return None


def _identity(a: Assessment, stage: EscalationStage) -> tuple[Any, ...]:
    return (
        Escalation.change_number == a.number,
        Escalation.episode_start == a.clock_start,
        Escalation.stage == stage,
    )


__all__ = ["DryRunStore", "EscalationStore"]
