"""The review queue, escalation episodes, TC members and digests."""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, literal, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from govbot.db.models import (
    DigestRecord,
    Escalation,
    EscalationAck,
    QueueState,
    TCMember,
)
from govbot.web.queries.common import (
    QUEUE_STATES,
)
from govbot.web.queries.paging import (
    BadQuery,
    Page,
    int_marker,
    lookup,
    make_page,
    marked,
)


@functools.cache
def _queue_statement(project: bool, after: bool) -> Select[Any]:
    """Built once, values bound at execution (see govbot.web.queries.common)."""
    q = select(QueueState).where(QueueState.state.in_(bindparam("states", expanding=True)))
    if project:
        q = q.where(QueueState.project == bindparam("project", type_=QueueState.project.type))
    if after:
        waited = bindparam("waited_days", type_=QueueState.waited_days.type)
        number = bindparam("change_number", type_=QueueState.change_number.type)
        q = q.where(
            or_(
                QueueState.waited_days < waited,
                and_(QueueState.waited_days == waited, QueueState.change_number > number),
            )
        )
    order = (QueueState.waited_days.desc(), QueueState.change_number)
    return q.order_by(*order).limit(bindparam("limit"))


def queue_page(
    s: Session,
    *,
    limit: int,
    marker: str | None,
    states: Sequence[str] = ("stale", "at-risk"),
    project: str | None = None,
) -> Page:
    """Changes of the review queue in ``states``, longest waiting first."""
    for state in states:
        if state not in QUEUE_STATES:
            raise BadQuery(f"state must be one of {', '.join(QUEUE_STATES)}, not {state!r}")
    values: dict[str, Any] = {"states": list(states), "project": project, "limit": limit + 1}
    m = marked(s, QueueState, marker, QueueState.change_number)
    if m is not None:
        values.update(waited_days=m.waited_days, change_number=m.change_number)
    rows = s.scalars(_queue_statement(bool(project), m is not None), values).all()
    return make_page(rows, limit, lambda r: r.change_number)


@dataclass
class EscalationRow:
    step: Escalation  # the episode's latest step
    first: dt.datetime  # when the episode was escalated first
    steps: list[Escalation]
    ack: EscalationAck | None

    @property
    def state(self) -> str:
        if self.step.resolved_at is not None:
            return "resolved"
        return {"escalate": "open", "remind": "reminded", "handoff": "handed_off"}[
            str(self.step.stage)
        ]


def escalations_page(
    s: Session, *, limit: int, marker: str | None, state: str | None = "open"
) -> Page:
    """Escalation episodes (their latest step), newest first; ``state`` open or resolved."""
    later = aliased(Escalation)
    newer_step = (
        select(literal(1))
        .where(
            later.change_number == Escalation.change_number,
            later.episode_start == Escalation.episode_start,
            later.id > Escalation.id,
        )
        .exists()
    )
    q = select(Escalation).where(~newer_step)
    if state == "open":
        q = q.where(Escalation.resolved_at.is_(None))
    elif state == "resolved":
        q = q.where(Escalation.resolved_at.is_not(None))
    elif state not in (None, "", "all"):
        raise BadQuery(f"state must be open, resolved or all, not {state!r}")
    after = int_marker(marker, Escalation.id)
    if after is not None:
        q = q.where(Escalation.id < after)
    latest = s.scalars(q.order_by(Escalation.id.desc()).limit(limit + 1)).all()
    page = make_page(latest, limit, lambda e: e.id)
    items = page.items
    episodes: dict[tuple[int, dt.datetime], list[Escalation]] = defaultdict(list)
    acks: dict[int, EscalationAck] = {}
    if items:
        keys = [(e.change_number, e.episode_start) for e in items]
        for step in s.scalars(
            select(Escalation)
            .where(tuple_(Escalation.change_number, Escalation.episode_start).in_(keys))
            .order_by(Escalation.id)
        ):
            episodes[(step.change_number, step.episode_start)].append(step)
        ids = [st.id for steps in episodes.values() for st in steps]
        acks = {
            a.escalation_id: a
            for a in s.scalars(select(EscalationAck).where(EscalationAck.escalation_id.in_(ids)))
        }
    rows = []
    for e in items:
        steps = episodes.get((e.change_number, e.episode_start), [e])
        ack = next((acks[st.id] for st in reversed(steps) if st.id in acks), None)
        first = steps[0].acted_at or steps[0].created_at
        rows.append(EscalationRow(e, first, steps, ack))
    return Page(rows, page.limit, page.next_marker)


def escalation(s: Session, escalation_id: int) -> EscalationRow | None:
    step = lookup(s, Escalation, escalation_id)
    if step is None:
        return None
    steps = list(
        s.scalars(
            select(Escalation)
            .where(
                Escalation.change_number == step.change_number,
                Escalation.episode_start == step.episode_start,
            )
            .order_by(Escalation.id)
        )
    )
    acks = {
        a.escalation_id: a
        for a in s.scalars(
            select(EscalationAck).where(EscalationAck.escalation_id.in_([x.id for x in steps]))
        )
    }
    ack = next((acks[x.id] for x in reversed(steps) if x.id in acks), None)
    return EscalationRow(steps[-1], steps[0].acted_at or steps[0].created_at, steps, ack)


def tc_members(s: Session) -> list[tuple[str, int, TCMember | None]]:
    """TC members govbot knows (escalated to, or with a record): (name, open escalations, record)."""
    open_load = dict(
        s.execute(
            select(Escalation.assignee, func.count(func.distinct(Escalation.change_number)))
            .where(Escalation.resolved_at.is_(None))
            .group_by(Escalation.assignee)
        ).all()
    )
    records = {m.username: m for m in s.scalars(select(TCMember))}
    names = set(open_load) | set(records)
    names |= set(s.scalars(select(Escalation.assignee).distinct().limit(200)))
    return [(n, open_load.get(n, 0), records.get(n)) for n in sorted(names)]


def digests_page(s: Session, *, limit: int, marker: str | None) -> Page:
    q = select(
        DigestRecord.id,
        DigestRecord.period_start,
        DigestRecord.period_end,
        DigestRecord.created_at,
        DigestRecord.sent_at,
        DigestRecord.recipients,
        DigestRecord.data,
    )
    after = int_marker(marker, DigestRecord.id)
    if after is not None:
        q = q.where(DigestRecord.id < after)
    rows = s.execute(q.order_by(DigestRecord.id.desc()).limit(limit + 1)).all()
    return make_page(rows, limit, lambda r: r[0])
