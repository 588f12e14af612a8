"""Data for the dashboard tests: a small world seeded straight into the database (fast,
run on SQLite and PostgreSQL), and the sandbox's ``demo`` seed indexed, reviewed,
escalated and digested for real (the browser tests)."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import Engine, select

from govbot.db.models import (
    ApiSpec,
    Change,
    DigestRecord,
    Escalation,
    EscalationStage,
    Evaluation,
    EvaluationStatus,
    FindingRecord,
    PatchSet,
    Project,
    QueueState,
    TCMember,
)
from govbot.db.session import session_scope
from govbot.findings import Audience, Severity
from govbot.policy import Policy
from govbot.sandbox import lifecycle
from govbot.services.index import index_commit, refresh_cross_findings
from govbot.settings import Settings
from govbot.web import create_app

NOW = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple"
SETTINGS = Settings(web_url="http://dashboard.example.org", gerrit_url="https://review.example.org")
DAY = dt.timedelta(days=1)
UNSAFE_SUBJECT = '<script>alert("pwned")</script> Add <b>bold</b> servers'
COMPUTE = "openstack/compute-api"
BLOCK = "openstack/block-storage-api"
IMAGE = "openstack/image-api"
PLACEMENT = "openstack/placement-api"
SPECS = "openstack/compute-specs"
COMPUTE_FILE = "api-specs/compute.yaml"


def make_app(engine: Engine, policy: Policy, *, password: str = PASSWORD, **overrides) -> Flask:
    """The web app with the tests' overrides: their policy, admin password, fixed clock."""
    return create_app(
        SETTINGS,
        engine,
        policy=policy,
        admin_password=password,
        now=lambda: NOW,
        testing=True,
        **overrides,
    )


class MemoryTree:
    """A commit's files in memory: the reader ``index_commit`` needs."""

    def __init__(self, files: Mapping[str, str]) -> None:
        self._files = {k: textwrap.dedent(v).lstrip().encode() for k, v in files.items()}

    def read(self, relpath: str) -> bytes:
        try:
            return self._files[relpath]
        except KeyError:
            raise FileNotFoundError(relpath) from None

    def exists(self, relpath: str) -> bool:
        return relpath in self._files

    def files(self) -> Iterator[str]:
        yield from self._files


def compute_spec(version: str, *, with_admin: bool = True, extra_field: str = "") -> str:
    admin = (
        """
  /os-hosts:
    get:
      operationId: list-hosts
      summary: List hosts
      responses:
        "200":
          description: The hosts.
          content:
            application/json:
              schema:
                type: object
                properties:
                  hosts:
                    type: array
                    items: {type: string}
"""
        if with_admin
        else ""
    )
    return f"""
openapi: 3.0.3
info:
  title: Compute API
  version: "{version}"
paths:
  /servers:
    get:
      operationId: list-servers
      summary: List servers
      parameters:
        - {{name: limit, in: query, schema: {{type: integer}}}}
        - {{name: marker, in: query, schema: {{type: string}}}}
      responses:
        "200":
          description: The servers.
          content:
            application/json:
              schema:
                type: object
                properties:
                  servers:
                    type: array
                    items: {{$ref: '#/components/schemas/Server'}}
  /servers/{{server_id}}:
    get:
      operationId: show-server
      summary: Show a server
      parameters:
        - {{name: server_id, in: path, required: true, schema: {{type: string}}}}
      responses:
        "200":
          description: The server.
          content:
            application/json:
              schema:
                type: object
                properties:
                  server: {{$ref: '#/components/schemas/Server'}}
    delete:
      operationId: delete-server
      summary: Delete a server
      deprecated: true
      x-sunset: "2026-04-01"
      description: "Deprecated: use DELETE /v2/servers/{{server_id}} instead."
      parameters:
        - {{name: server_id, in: path, required: true, schema: {{type: string}}}}
      responses:
        "204": {{description: Deleted.}}
  /os-keypairs:
    get:
      operationId: list-keypairs
      summary: List keypairs
      deprecated: true
      x-sunset: "2027-01-15"
      responses:
        "200":
          description: The keypairs.
          content:
            application/json:
              schema:
                type: object
                properties:
                  keypairs:
                    type: array
                    items: {{type: string}}
{admin}
components:
  schemas:
    Server:
      type: object
      properties:
        id: {{type: string, format: uuid}}
        project_id: {{type: string}}
        created_at: {{type: string, format: date-time}}
        <script>alert(1)</script>: {{type: string}}{extra_field}
"""


BLOCK_SPEC = """
openapi: 3.0.3
info:
  title: Block Storage API
  version: "3.70"
paths:
  /volumes:
    get:
      operationId: list-volumes
      summary: List volumes
      responses:
        "200":
          description: The volumes.
          content:
            application/json:
              schema:
                type: object
                properties:
                  volumes:
                    type: array
                    items:
                      type: object
                      properties:
                        id: {type: string, format: uuid}
                        projectId: {type: string}
                        created_at: {type: integer}
"""

IMAGE_SPEC = """
openapi: 3.0.3
info:
  title: Image API
  version: "2.16"
paths:
  /images:
    get:
      operationId: list-images
      summary: List images
      responses:
        "200":
          description: The images.
          content:
            application/json:
              schema:
                type: object
                properties:
                  images:
                    type: array
                    items:
                      type: object
                      properties:
                        id: {type: string, format: uuid}
                        project_id: {type: string}
                        created_at: {type: string, format: date-time}
"""

PLACEMENT_SPEC = """
openapi: 3.0.3
info:
  title: Placement API
  version: "1.39"
paths:
  /resource_providers:
    get:
      operationId: list-resource-providers
      summary: List resource providers
      responses:
        "200":
          description: The providers.
          content:
            application/json:
              schema:
                type: object
                properties:
                  resource_providers:
                    type: array
                    items: {type: object, properties: {uuid: {type: string}}}
"""

BLUEPRINT_GOOD = """
==================================
Report when a keypair was last used
==================================

Problem description
===================

Operators cannot tell which keypairs are still in use.

Use Cases
---------

As an operator, I want to see when each keypair was last used to boot a server, so
that I can clean up keypairs nobody has used for a year without breaking a user's
workflow. As a user, I want to know which of my keypairs are stale, so that I can
rotate them before they become a security risk.

REST API impact
===============

A new ``last_used_at`` field in the keypair show response.
"""

BLUEPRINT_NONE = """
==============================
Flavor description <i>search</i>
==============================

Problem description
===================

Flavors have descriptions.

Use Cases
---------

None

REST API impact
===============

A new query parameter.
"""


@dataclass(frozen=True)
class Seeded:
    api_ids: dict[str, int]
    unsafe_change: int
    escalation_id: int
    digest_id: int


def seed_world(engine: Engine, policy: Policy, now: dt.datetime = NOW) -> Seeded:
    """Four APIs (two versions of compute), blueprints, changes, findings, the review
    queue, escalations, a TC member and a digest: every page has something to show."""
    day0 = now - 20 * DAY
    index_commit(
        engine,
        MemoryTree({COMPUTE_FILE: compute_spec("2.95", with_admin=False), "README.rst": "x"}),
        COMPUTE,
        "master",
        "c0" * 20,
        policy=policy,
        now=now,
        merged_at=day0,
        change_number=101,
    )
    index_commit(
        engine,
        MemoryTree({COMPUTE_FILE: compute_spec("2.96")}),
        COMPUTE,
        "master",
        "c1" * 20,
        policy=policy,
        now=now,
        merged_at=day0 + 10 * DAY,
        change_number=102,
    )
    for project, file, text, offset in (
        (BLOCK, "api-specs/block-storage.yaml", BLOCK_SPEC, 3),
        (IMAGE, "api-specs/image.yaml", IMAGE_SPEC, 5),
        (PLACEMENT, "api-specs/placement/placement.yaml", PLACEMENT_SPEC, 7),
    ):
        index_commit(
            engine,
            MemoryTree({file: text}),
            project,
            "master",
            (project[-4:].encode().hex() * 10)[:40],
            policy=policy,
            now=now,
            merged_at=day0 + offset * DAY,
        )
    index_commit(
        engine,
        MemoryTree(
            {
                "specs/2026.2/approved/keypair-last-used.rst": BLUEPRINT_GOOD,
                "specs/2027.1/approved/flavor-description-search.rst": BLUEPRINT_NONE,
            }
        ),
        SPECS,
        "master",
        "b1" * 20,
        policy=policy,
        now=now,
        merged_at=day0 + DAY,
    )
    refresh_cross_findings(engine, policy=policy, now=now)

    with session_scope(engine) as s:
        projects = {}
        for name in (COMPUTE, BLOCK, SPECS):
            p = Project(name=name, created_at=day0)
            s.add(p)
            s.flush()
            projects[name] = p.id
        changes = [
            (1, COMPUTE, "Add last_used_at to the keypair show response", 1, "alice"),
            (2, COMPUTE, "Remove the delete keypair API", 3, "bob"),
            (3, BLOCK, "Add a volume labels API", 3, "carol"),
            (4, COMPUTE, UNSAFE_SUBJECT, 2, "mallory"),
            (5, SPECS, "Propose flavor description search", 2, "bob"),
        ]
        for number, project, subject, age, owner in changes:
            created = now - age * DAY
            s.add(
                Change(
                    number=number,
                    project_id=projects[project],
                    branch="master",
                    change_id=f"I{number:040x}",
                    subject=subject,
                    owner_name=owner,
                    status="NEW",
                    current_patch_set=1,
                    created=created,
                    updated=created,
                    synced_at=now,
                )
            )
            s.flush()
            s.add(
                PatchSet(
                    change_number=number,
                    number=1,
                    revision=f"{number:040x}",
                    uploaded=created,
                )
            )
            s.flush()
            evaluation = Evaluation(
                change_number=number,
                patch_set_number=1,
                policy_digest=policy.digest,
                purpose="api-review",
                status=EvaluationStatus.SUCCEEDED,
                started_at=created,
                finished_at=created,
            )
            s.add(evaluation)
            s.flush()
            findings = {
                2: [("DEP001", "removed-without-deprecation", Severity.ERROR, COMPUTE_FILE)],
                3: [
                    (
                        "CON081",
                        "field-name-variant",
                        Severity.WARNING,
                        "api-specs/block-storage.yaml",
                    )
                ],
                4: [("CON001", "snake-case-fields", Severity.WARNING, COMPUTE_FILE)],
                5: [
                    (
                        "BPR002",
                        "use-case-empty",
                        Severity.ERROR,
                        "specs/2027.1/approved/flavor-description-search.rst",
                    )
                ],
            }.get(number, [])
            for rule, name, severity, file in findings:
                s.add(
                    FindingRecord(
                        evaluation_id=evaluation.id,
                        rule=rule,
                        name=name,
                        severity=severity,
                        audience=Audience.EXTERNAL,
                        file=file,
                        line=12,
                        pointer="/paths",
                        message=f"{name} <img src=x onerror=alert(2)>",
                        fingerprint=f"{number:016x}",
                    )
                )
                if severity is Severity.ERROR:
                    evaluation.error_count += 1
                else:
                    evaluation.warning_count += 1
        queue = [
            (2, COMPUTE, "Remove the delete keypair API", "stale", 3.0, "ben"),
            (3, BLOCK, "Add a volume labels API", "stale", 3.0, "chen"),
            (4, COMPUTE, UNSAFE_SUBJECT, "at-risk", 1.9, None),
            (1, COMPUTE, "Add last_used_at to the keypair show response", "waiting", 1.0, None),
            (5, SPECS, "Propose flavor description search", "skipped", 0.0, None),
        ]
        for number, project, subject, state, waited, assignee in queue:
            s.add(
                QueueState(
                    change_number=number,
                    project=project,
                    branch="master",
                    subject=subject,
                    owner="someone",
                    state=state,
                    skip_reason="waiting-on-owner" if state == "skipped" else None,
                    waited_days=waited,
                    clock_start=now - waited * DAY,
                    due_at=now + DAY if state == "at-risk" else None,
                    action="escalate" if assignee else "none",
                    assignee=assignee,
                    reason=f"waited {waited} days",
                    assessed_at=now,
                )
            )
        first = Escalation(
            change_number=2,
            project=COMPUTE,
            branch="master",
            subject="Remove the delete keypair API",
            owner="bob",
            episode_start=now - 3 * DAY,
            stage=EscalationStage.ESCALATE,
            assignee="ben",
            reason="core on openstack/compute-api",
            waited_days=2.1,
            created_at=now - DAY,
            acted_at=now - DAY,
        )
        s.add(first)
        s.add(
            Escalation(
                change_number=3,
                project=BLOCK,
                branch="master",
                subject=UNSAFE_SUBJECT,
                owner="carol",
                episode_start=now - 3 * DAY,
                stage=EscalationStage.ESCALATE,
                assignee="chen",
                reason="least loaded",
                waited_days=2.1,
                created_at=now - DAY,
                acted_at=now - DAY,
            )
        )
        s.add(TCMember(username="ana", away_until=now + 5 * DAY, updated_at=now))
        digest = DigestRecord(
            period_start=now - 7 * DAY,
            period_end=now - DAY,
            created_at=now - DAY,
            sent_at=now - DAY,
            recipients="tc@example.org",
            text=f"govbot TC digest\n\n#3 {UNSAFE_SUBJECT}\n",
            html=f"<html><body><p>#3 {UNSAFE_SUBJECT}</p><script>alert(3)</script></body></html>",
            data={"headline": {"stale": {"label": "stale", "value": 2}}},
        )
        s.add(digest)
        s.flush()
        escalation_id, digest_id = first.id, digest.id
    with session_scope(engine) as s:
        api_ids = {
            project: api_id for project, api_id in s.execute(select(ApiSpec.project, ApiSpec.id))
        }
    return Seeded(api_ids, 4, escalation_id, digest_id)


# --- the sandbox's demo, indexed, reviewed, escalated and digested for real ----------------------

DEMO_NOW = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
DEMO_ADMIN_PASSWORD = "demo-admin"


@dataclass(frozen=True)
class DemoSite:
    """The demo database served over real HTTP (the ``demo_site`` fixture)."""

    url: str  # the dashboard's base URL
    numbers: dict[str, int]  # change numbers of the demo (build_demo's)


def build_demo(engine: Engine, policy: Policy, mirror_dir: str, docs_base: str) -> dict[str, int]:
    """The design's demo seed as a user of ``govbot demo`` sees it, plus history: every
    project backfilled, one change merged and indexed by the index job, every open change
    reviewed, an escalation pass, the review queue and a digest. Returns change numbers."""
    from govbot.gerrit.client import GerritClient
    from govbot.gerrit.mirror import GitMirror
    from govbot.sandbox import Clock, running_sandbox
    from govbot.sandbox.seed import COMPUTE_SPEC_PATH, compute_add_optional_field
    from govbot.services.digest import build_digest
    from govbot.services.digest_store import DigestStore
    from govbot.services.escalation import escalate
    from govbot.services.index import backfill, index_job, record_queue
    from govbot.services.review import review_change

    numbers: dict[str, int] = {}
    with running_sandbox(seed="demo", clock=Clock(DEMO_NOW)) as demo:
        compute_spec_text = demo.projects[COMPUTE].trees[demo.projects[COMPUTE].branches["master"]][
            COMPUTE_SPEC_PATH
        ]
        if isinstance(compute_spec_text, bytes):
            compute_spec_text = compute_spec_text.decode()
        unsafe = lifecycle.create_change(
            demo,
            COMPUTE,
            subject=UNSAFE_SUBJECT,
            files={COMPUTE_SPEC_PATH: compute_add_optional_field(compute_spec_text)},
            owner="alice",
            created=DEMO_NOW - dt.timedelta(hours=30),
        )
        numbers["unsafe"] = unsafe.number
        for project in sorted(demo.projects):
            backfill(
                engine,
                demo.git_url(project).removeprefix("file://"),
                project,
                policy=policy,
                now=DEMO_NOW - 20 * DAY,
                progress=False,
            )
        lifecycle.merge(demo, 6, date=DEMO_NOW - dt.timedelta(hours=6))
        numbers["merged"] = 6
        mirror = GitMirror(mirror_dir, demo.git_url)

        def client() -> GerritClient:
            return GerritClient(demo.url, "govbot", "govbot-demo", retries=0)

        index_job(
            engine,
            policy=policy,
            now=lambda: DEMO_NOW,
            watched=[(p, "master") for p in demo.projects],
            owner="demo",
            client_factory=client,
            mirror=mirror,
        )
        gerrit = client()
        try:
            for change in gerrit.query_all("status:open"):
                review_change(
                    change.number,
                    client=gerrit,
                    engine_or_session=engine,
                    policy=policy,
                    now=DEMO_NOW,
                    docs_base=docs_base,
                )
            escalate(gerrit, engine, policy, DEMO_NOW)
            record_queue(engine, escalate(gerrit, engine, policy, DEMO_NOW, dry_run=True))
            DigestStore(engine).archive(
                build_digest(engine, gerrit, DEMO_NOW, policy=policy, dashboard_url=docs_base),
            )
        finally:
            gerrit.close()
    return numbers
