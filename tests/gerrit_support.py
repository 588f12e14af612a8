"""The small Gerrit world the sandbox, client and sources tests share (imported by name:
``tests/`` is on sys.path).

One project ``demo/api`` with two specs and a README; humans alice (owner), dave (core of
``demo/api``), erin, ana and ben, each with the HTTP password ``<name>-pw``; a
``technical-committee`` group of ana, ben and dave; the bot and zuul from ``seed_empty``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from pygerrit2 import GerritRestAPI, HTTPBasicAuth

from govbot.sandbox import Change, Clock, Sandbox, lifecycle, people
from govbot.sandbox.seed import BOT_PASSWORD, BOT_USERNAME, DEMO_LABELS, seed_empty

NOW = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
PROJECT = "demo/api"
SPEC = "api-specs/pets.yaml"
OLD_SPEC = "api-specs/old.yaml"
HUMANS = ("alice", "dave", "erin", "ana", "ben")
TC = ("ana", "ben", "dave")
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


@contextlib.contextmanager
def small_world(clock: Clock | None = None) -> Iterator[Sandbox]:
    """A started sandbox (frozen at ``NOW`` unless ``clock`` says otherwise) holding the
    world this module describes; closed on exit."""
    sandbox = Sandbox(clock=clock or Clock(NOW)).start()
    try:
        seed_empty(sandbox)
        for name in HUMANS:
            people.add_account(sandbox, name, name.title(), password=f"{name}-pw")
        people.add_group(sandbox, "technical-committee", list(TC))
        lifecycle.add_project(
            sandbox,
            PROJECT,
            {SPEC: SPEC_TEXT, OLD_SPEC: SPEC_TEXT, "README.rst": "Pets\n"},
            labels=DEMO_LABELS,
            cores=["dave"],
        )
        yield sandbox
    finally:
        sandbox.close()


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
    files: dict[str, str | bytes | None] | None = None,
    **kwargs: object,
) -> Change:
    """A change of alice's (unless ``owner=``) on ``demo/api`` touching the spec,
    uploaded ``hours_ago``."""
    return lifecycle.create_change(
        sandbox,
        PROJECT,
        subject=subject,
        files=files if files is not None else {SPEC: SPEC_V2},
        owner=kwargs.pop("owner", "alice"),
        created=sandbox.now() - timedelta(hours=hours_ago),
        **kwargs,  # type: ignore[arg-type]
    )
