"""Helpers shared by the sandbox tests (imported by name: this directory is on sys.path)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pygerrit2 import GerritRestAPI, HTTPBasicAuth

from govbot.sandbox import Change, Sandbox
from govbot.sandbox.seed import BOT_PASSWORD, BOT_USERNAME

NOW = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
PROJECT = "demo/api"
SPEC = "api-specs/pets.yaml"
SPEC_TEXT = """\
openapi: 3.1.0
info:
  title: Pets
  version: '1.0'
paths:
  /pets:
    get:
      operationId: listPets
      responses:
        '200':
          description: Ok
"""
SPEC_V2 = (
    SPEC_TEXT
    + """\
  /pets/{id}:
    get:
      operationId: showPet
      responses:
        '200':
          description: Ok
"""
)


def client(
    sandbox: Sandbox, username: str = BOT_USERNAME, password: str = BOT_PASSWORD
) -> GerritRestAPI:
    """pygerrit2 as govbot uses it: HTTP Basic auth, so every path goes under ``/a/``."""
    return GerritRestAPI(sandbox.url, auth=HTTPBasicAuth(username, password))


def new_change(
    sandbox: Sandbox,
    subject: str = "Add a pet lookup",
    *,
    hours_ago: float = 1,
    files: dict[str, str | None] | None = None,
    **kwargs: object,
) -> Change:
    """A change of alice's on ``demo/api`` touching the spec, uploaded ``hours_ago``."""
    return sandbox.create_change(
        PROJECT,
        subject=subject,
        files=files if files is not None else {SPEC: SPEC_V2},
        owner=kwargs.pop("owner", "alice"),
        created=sandbox.now() - timedelta(hours=hours_ago),
        **kwargs,  # type: ignore[arg-type]
    )
