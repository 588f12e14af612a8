"""Stream events (SSH ``stream-events``, the webhooks plugin, events-log) as one flat type."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from govbot.gerrit.accounts import AccountInfo, account_or_none
from govbot.gerrit.changes import ChangeInfo
from govbot.gerrit.errors import GerritDataError
from govbot.gerrit.reviews import ApprovalInfo
from govbot.gerrit.revisions import RevisionInfo
from govbot.gerrit.scalars import as_list, as_mapping, as_str, parse_timestamp, required_str

# Gerrit's change numbers are Java ints from 1 (and so is govbot's column): an event
# naming another number is not an event of any change.
MAX_CHANGE_NUMBER = 2**31 - 1

# Which field names the account that caused each event (Zuul maps them the same way).
ACTOR_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "patchset-created": "uploader",
        "comment-added": "author",
        "change-merged": "submitter",
        "change-abandoned": "abandoner",
        "change-restored": "restorer",
        "change-deleted": "deleter",
        "reviewer-added": "adder",
        "reviewer-deleted": "remover",
        "vote-deleted": "remover",
        "wip-state-changed": "changer",
        "private-state-changed": "changer",
        "topic-changed": "changer",
        "hashtags-changed": "editor",
        "ref-updated": "submitter",
    }
)


@dataclass(frozen=True, slots=True)
class GerritEvent:
    """A stream event (SSH ``stream-events``, webhooks plugin, events-log), any type.

    govbot treats events as hints ("re-check change N"), so one flat type covers all of
    them; type-specific fields are ``None`` when absent.
    """

    type: str
    created_on: datetime | None = None
    project: str | None = None
    ref_name: str | None = None
    change: ChangeInfo | None = None
    patch_set: RevisionInfo | None = None
    actor: AccountInfo | None = None  # uploader / author / submitter / abandoner / changer ...
    comment: str | None = None
    approvals: tuple[ApprovalInfo, ...] = ()
    reviewer: AccountInfo | None = None
    reason: str | None = None
    new_rev: str | None = None
    old_topic: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GerritEvent:
        data = as_mapping(data, "event")
        kind = required_str(data, "type")
        change = ChangeInfo.from_attribute(data["change"]) if data.get("change") else None
        if change is not None and not 0 < change.number <= MAX_CHANGE_NUMBER:
            raise GerritDataError(f"{kind} event: no change has number {change.number}")
        patch_set = None
        if data.get("patchSet"):
            message = None
            if change is not None and data["change"].get("commitMessage"):
                message = as_str(data["change"]["commitMessage"])
            patch_set = RevisionInfo.from_attribute(data["patchSet"], message)
        project = data.get("project")
        if isinstance(project, Mapping):  # the webhooks plugin may serialise it as an object
            project = project.get("name")
        if project is None and change is not None:
            project = change.project
        if project is None and data.get("refUpdate"):
            project = as_mapping(data["refUpdate"], "refUpdate").get("project")
        ref_name = as_str(data.get("refName"))
        if ref_name is None and data.get("refUpdate"):
            ref_name = as_str(as_mapping(data["refUpdate"], "refUpdate").get("refName"))
        actor_field = ACTOR_FIELDS.get(kind)
        return cls(
            type=kind,
            created_on=parse_timestamp(data.get("eventCreatedOn")),
            project=as_str(project),
            ref_name=ref_name,
            change=change,
            patch_set=patch_set,
            actor=account_or_none(data.get(actor_field)) if actor_field else None,
            comment=as_str(data.get("comment")),
            approvals=tuple(
                ApprovalInfo.from_attribute(a) for a in as_list(data.get("approvals"), "approvals")
            ),
            reviewer=account_or_none(data.get("reviewer")),
            reason=as_str(data.get("reason")),
            new_rev=as_str(data.get("newRev")),
            old_topic=as_str(data.get("oldTopic")),
        )

    @property
    def change_number(self) -> int | None:
        return self.change.number if self.change is not None else None

    @property
    def patch_set_number(self) -> int | None:
        return self.patch_set.number if self.patch_set is not None else None

    @property
    def dedup_key(self) -> tuple[str, int | None, int | None, int | None]:
        """(type, change, patch set, eventCreatedOn): equal for a redelivered event."""
        created = int(self.created_on.timestamp()) if self.created_on is not None else None
        return (self.type, self.change_number, self.patch_set_number, created)


def parse_events(data: str | Iterable[Mapping[str, Any]]) -> list[GerritEvent]:
    """Events from a JSON array, an iterable of dicts, or JSON lines (stream-events output)."""
    if isinstance(data, str):
        text = data.strip()
        if text.startswith("["):
            items: Iterable[Mapping[str, Any]] = json.loads(text)
        else:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        items = data
    return [GerritEvent.from_json(item) for item in items]
