"""Gerrit accounts: REST ``AccountInfo`` and the stream events' ``AccountAttribute``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from govbot.gerrit.scalars import as_bool, as_int, as_list, as_mapping, as_str


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """A Gerrit account: REST ``AccountInfo`` or a stream-event ``AccountAttribute``.

    Events carry no numeric id, only name/email/username, so ``account_id`` may be ``None``.
    """

    account_id: int | None = None
    name: str | None = None
    display_name: str | None = None
    email: str | None = None
    username: str | None = None
    tags: tuple[str, ...] = ()
    inactive: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AccountInfo:
        data = as_mapping(data, "account")
        return cls(
            account_id=as_int(data.get("_account_id"), "_account_id"),
            name=as_str(data.get("name")),
            display_name=as_str(data.get("display_name")),
            email=as_str(data.get("email")),
            username=as_str(data.get("username")) or None,
            tags=tuple(str(t) for t in as_list(data.get("tags"), "tags")),
            inactive=as_bool(data.get("inactive")),
        )

    @property
    def is_service_user(self) -> bool:
        """Member of Gerrit's "Service Users" group (shown only with detailed accounts)."""
        return "SERVICE_USER" in self.tags

    @property
    def label(self) -> str:
        """A human-readable name for logs and messages."""
        return (
            self.display_name
            or self.name
            or self.username
            or self.email
            or (f"account {self.account_id}" if self.account_id is not None else "Gerrit")
        )

    def same_as(self, other: AccountInfo | None) -> bool:
        """Whether both describe one account: by id when both have one, else username, else email."""
        if other is None:
            return False
        if self.account_id is not None and other.account_id is not None:
            return self.account_id == other.account_id
        if self.username and other.username:
            return self.username == other.username
        if self.email and other.email:
            return self.email.lower() == other.email.lower()
        return False


def account_or_none(value: object) -> AccountInfo | None:
    return None if value is None else AccountInfo.from_json(as_mapping(value, "account"))
