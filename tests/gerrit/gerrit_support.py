"""Helpers shared by the Gerrit client and sources tests (this directory is on sys.path)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from govbot.sandbox import Change, Sandbox

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
SPEC_V2 = SPEC_TEXT.replace("listPets", "listAllPets")


def new_change(
    sandbox: Sandbox,
    subject: str = "Rename the pet listing",
    *,
    hours_ago: float = 1,
    files: dict[str, str | bytes | None] | None = None,
    **kwargs: object,
) -> Change:
    """A change of alice's on ``demo/api``, uploaded ``hours_ago``."""
    return sandbox.create_change(
        PROJECT,
        subject=subject,
        files=files if files is not None else {SPEC: SPEC_V2},
        owner="alice",
        created=sandbox.now() - timedelta(hours=hours_ago),
        **kwargs,  # type: ignore[arg-type]
    )
