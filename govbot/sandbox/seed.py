"""Seeds for the sandbox: ``empty`` (accounts only) and ``demo`` (design.md §6).

Both are deterministic apart from the clock: every time is relative to the sandbox's
``now()`` at seeding. The demo's projects carry real specs (``data/README.md``) and a
real subset of nova's api-ref, policy defaults and microversion ledger
(``data/nova-api/README.md``); its ten open changes edit them in ways the governance
rules should notice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources

from govbot.sandbox import lifecycle, people, reviews, seed_nova
from govbot.sandbox.entities import CODE_REVIEW, VERIFIED, LabelType
from govbot.sandbox.state import GerritState
from govbot.sandbox.textedit import cut_in_block, insert_after, insert_before_in_block

BOT_USERNAME = "govbot"
BOT_PASSWORD = "govbot-demo"
API_REVIEW = LabelType(
    "API-Review",
    {-1: "API guidelines not followed", 0: "No score", 1: "API guidelines followed"},
)
DEMO_LABELS = (CODE_REVIEW, VERIFIED, API_REVIEW)

COMPUTE = "openstack/compute-api"
BLOCK_STORAGE = "openstack/block-storage-api"
COMPUTE_SPECS = "openstack/compute-specs"
COMPUTE_SPEC_PATH = "api-specs/compute.yaml"
BLOCK_STORAGE_SPEC_PATH = "api-specs/block-storage.yaml"


@dataclass(frozen=True)
class SeedInfo:
    """What a seed created that callers print or use (credentials, names)."""

    bot_username: str = BOT_USERNAME
    bot_password: str = BOT_PASSWORD
    projects: tuple[str, ...] = ()
    tc_group: str | None = None
    tc_liaisons: tuple[tuple[str, str], ...] = ()  # (project, username)


def _data(name: str) -> str:
    return (resources.files("govbot.sandbox") / "data" / name).read_text(encoding="utf-8")


def seed_empty(state: GerritState) -> SeedInfo:
    """Administrator, the bot and the CI account; no projects."""
    people.add_account(
        state,
        "admin",
        "Administrator",
        "admin@example.org",
        password="admin-demo",
        groups=["Administrators"],
    )
    people.add_account(
        state, BOT_USERNAME, "govbot", "govbot@example.org", password=BOT_PASSWORD, service=True
    )
    people.add_account(
        state, "zuul", "Zuul", "zuul@example.org", password="zuul-demo", service=True
    )
    return SeedInfo()


# --- text edits on the real specs ------------------------------------------------------------


KEYPAIR_LAST_USED_FIELD = """\
            last_used_at:
              type:
                - string
                - 'null'
              format: date-time
              description: |-
                The date and time when the keypair was last used to boot a server,
                or `null` if it was never used.


                **New in version 2.97**
"""


def compute_add_optional_field(spec: str) -> str:
    """Change 1: an optional response field on ``GET /os-keypairs/{id}``."""
    anchor = (
        "    Os_KeypairShowResponse:\n      type: object\n      description: Keypair object\n"
        "      properties:\n        keypair:\n          type: object\n          description: |-\n"
        "            Keypair object\n          properties:\n"
    )
    return insert_after(spec, anchor, KEYPAIR_LAST_USED_FIELD)


def compute_remove_operation(spec: str) -> str:
    """Change 2: ``DELETE /os-keypairs/{id}`` removed; it was never deprecated."""
    return cut_in_block(
        spec, "  /v2.1/os-keypairs/{id}:\n", "    delete:\n", "      summary: Delete Keypair\n"
    )


VOLUME_LABELS_PATH = """\
  /v3/{project_id}/volume-labels:
    parameters:
      - $ref: '#/components/parameters/resource_filters_project_id'
    get:
      description: |-
        Lists the labels defined in a project.

        Normal response codes: 200
      operationId: project_id/volume-labels:get
      responses:
        '200':
          description: Ok
          content:
            application/json:
              schema:
                type: array
                items:
                  type: object
                  properties:
                    name:
                      type: string
                      description: The label name.
                    tenantId:
                      type: string
                      format: uuid
                      description: The project that owns the label.
      tags:
        - volume-labels
      x-openstack:
        min-ver: '3.71'
      summary: List volume labels
"""


def block_storage_add_collection(spec: str) -> str:
    """Change 3: a new collection returned as a bare array, with a ``tenantId`` field."""
    return insert_before_in_block(
        spec,
        "  /v3/resource_filters:\n",
        "  /v3/{project_id}/volume-transfers/detail:\n",
        VOLUME_LABELS_PATH,
    )


SNAPSHOT_SCHEDULES_PATH = """\
  /v2.1/servers/{server_id}/snapshot-schedules:
    parameters:
      - name: server_id
        in: path
        required: true
        schema:
          type: string
          format: uuid
        description: The UUID of the server.
    get:
      description: |-
        Lists the snapshot schedules of a server.

        Normal response codes: 200
      operationId: servers/server_id/snapshot-schedules:get
      responses:
        '200':
          description: Ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  snapshot_schedules:
                    type: array
                    items:
                      type: object
                      properties:
                        id:
                          type: string
                          format: uuid
                        cron:
                          type: string
      tags:
        - servers
      summary: List Server Snapshot Schedules (work in progress)
"""


def compute_wip_path(spec: str) -> str:
    """Change 4 (WIP): a new, unfinished sub-resource of servers."""
    return insert_before_in_block(
        spec,
        "  /v2.1/servers/{server_id}/tags/{id}:\n",
        "  /v2.1/servers/{server_id}/topology:\n",
        SNAPSHOT_SCHEDULES_PATH,
    )


TRANSFER_EXPIRES_FIELD = """\
              expires_at:
                type:
                  - string
                  - 'null'
                format: date-time
                description: |-
                  The date and time after which the transfer can no longer be accepted.
"""


def block_storage_add_field(spec: str) -> str:
    """Change 6: a new response field of the volume transfer list (no blueprint cited)."""
    return insert_before_in_block(
        spec,
        "    Volume_TransfersDetailResponse:\n",
        "              destination_project_id:\n",
        TRANSFER_EXPIRES_FIELD,
    )


KEYPAIR_DESCRIPTION_FIELD = """\
            description:
              type: string
              maxLength: 255
              description: |-
                A free-form description of the keypair.
"""


def compute_add_request_field(spec: str) -> str:
    """Change 7: an optional request field on keypair creation."""
    return insert_before_in_block(
        spec, "    Os_KeypairsCreate_292:\n", "            user_id:\n", KEYPAIR_DESCRIPTION_FIELD
    )


# --- design specs (written for govbot, in the nova-specs layout) ------------------------------

SPEC_HEADER = """..
 This work is licensed under a Creative Commons Attribution 3.0 Unported
 License.

 http://creativecommons.org/licenses/by/3.0/legalcode

"""

KEYPAIR_LAST_USED_SPEC = (
    SPEC_HEADER
    + """\
=====================================
Report when a keypair was last used
=====================================

https://blueprints.launchpad.net/nova/+spec/keypair-last-used

Operators and users cannot tell which keypairs are still in use, so old keys
are never cleaned up. This spec adds the time a keypair was last used.

Problem description
===================

A project accumulates keypairs over the years. Nothing in the API tells which
of them still boot servers, so nobody dares to delete any.

Use Cases
---------

* As a cloud user, I want to see when each of my keypairs was last used to
  boot a server, so that I can delete keys that nobody uses any more.
* As an operator auditing a project after a security incident, I want to find
  keypairs that were used recently, so that I can rotate exactly those.

Proposed change
===============

Record the time of the last server boot that injected the keypair and return
it in the keypair show response.

Alternatives
------------

Users could search the server list for each key name; that misses deleted
servers and is slow on large projects.

Data model impact
-----------------

A nullable ``last_used_at`` column on the ``key_pairs`` table.

REST API impact
---------------

A new microversion adds ``last_used_at`` (date-time or ``null``) to the
response of ``GET /os-keypairs/{keypair_name}``. The field is optional; older
microversions do not return it.

Security impact
---------------

None.

Notifications impact
--------------------

None.

Other end user impact
---------------------

python-openstackclient shows the new field.

Performance Impact
------------------

One extra column write per server boot with a keypair.

Other deployer impact
---------------------

None.

Developer impact
----------------

None.

Upgrade impact
--------------

The column is added by an online migration.

Implementation
==============

Assignee(s)
-----------

Primary assignee:
  alice

Feature Liaison
---------------

Feature liaison:
  ana

Work Items
----------

* database column and object field
* API microversion
* client support

Dependencies
============

None.

Testing
=======

Unit and functional tests; a tempest test for the new microversion.

Documentation Impact
====================

API reference for the new microversion.

References
==========

None.

History
=======

.. list-table:: Revisions
   :header-rows: 1

   * - Release Name
     - Description
   * - 2026.2
     - Introduced
"""
)

FLAVOR_SEARCH_SPEC = (
    SPEC_HEADER
    + """\
===================================
Search flavors by their description
===================================

https://blueprints.launchpad.net/nova/+spec/flavor-description-search

Add a ``description`` filter to the flavor list API.

Problem description
===================

The flavor list API can filter by name but not by description.

Use Cases
---------

None

Proposed change
===============

Accept a ``description`` query parameter on ``GET /flavors`` and
``GET /flavors/detail`` that matches a substring of the description.

Alternatives
------------

None.

Data model impact
-----------------

None.

REST API impact
---------------

A new microversion accepts the ``description`` query parameter on
``GET /flavors`` and ``GET /flavors/detail``.

Security impact
---------------

None.

Notifications impact
--------------------

None.

Other end user impact
---------------------

None.

Performance Impact
------------------

A LIKE query on the flavors table.

Other deployer impact
---------------------

None.

Developer impact
----------------

None.

Upgrade impact
--------------

None.

Implementation
==============

Assignee(s)
-----------

Primary assignee:
  bob

Feature Liaison
---------------

Feature liaison:
  None

Work Items
----------

* API microversion

Dependencies
============

None.

Testing
=======

Unit tests.

Documentation Impact
====================

API reference.

References
==========

None.

History
=======

None.
"""
)

README = """\
{name}
{underline}

{what}

This repository is part of the govbot sandbox's ``demo`` seed.
"""


def _readme(name: str, what: str) -> str:
    return README.format(name=name, underline="=" * len(name), what=what)


def seed_demo(state: GerritState) -> SeedInfo:
    """The demo of design.md §6: accounts, four projects, ten open changes."""
    seed_empty(state)
    now = state.now()
    humans = {
        "alice": "Alice Ferreira",
        "bob": "Bob Okafor",
        "carol": "Carol Nguyen",
        "dave": "Dave Kowalski",
        "erin": "Erin Tanaka",
        "ana": "Ana Ribeiro",
        "ben": "Ben Adeyemi",
        "chen": "Chen Wei",
    }
    for username, name in humans.items():
        people.add_account(
            state, username, name, f"{username}@example.org", password=f"{username}-demo"
        )
    people.add_group(
        state,
        "technical-committee",
        ["ana", "ben", "chen"],
        description="The OpenStack Technical Committee",
    )
    people.add_group(state, "compute-api-core", ["ana", "dave"], description="Cores of compute-api")
    people.add_group(
        state, "block-storage-api-core", ["erin"], description="Cores of block-storage-api"
    )
    people.add_group(
        state, "compute-specs-core", ["dave", "ana"], description="Cores of compute-specs"
    )
    people.add_group(state, "nova-core", ["dave", "erin"], description="Cores of nova")

    base_time = now - timedelta(days=30)
    compute_spec = _data("openstack-specs/compute-v2.96.yaml")
    block_spec = _data("openstack-specs/block-storage-v3.70.yaml")
    lifecycle.add_project(
        state,
        COMPUTE,
        {
            COMPUTE_SPEC_PATH: compute_spec,
            "README.rst": _readme(COMPUTE, "The OpenStack Compute API description."),
        },
        labels=DEMO_LABELS,
        cores=["ana", "dave"],
        when=base_time,
        description="OpenStack Compute API (OpenAPI)",
    )
    lifecycle.add_project(
        state,
        BLOCK_STORAGE,
        {
            BLOCK_STORAGE_SPEC_PATH: block_spec,
            "README.rst": _readme(BLOCK_STORAGE, "The OpenStack Block Storage API description."),
        },
        labels=DEMO_LABELS,
        cores=["erin"],
        when=base_time,
        description="OpenStack Block Storage API (OpenAPI)",
    )
    lifecycle.add_project(
        state,
        COMPUTE_SPECS,
        {
            "specs/2027.1-template.rst": _data("nova-specs/2027.1-template.rst"),
            "specs/2026.2/approved/keypair-last-used.rst": KEYPAIR_LAST_USED_SPEC,
            "README.rst": _readme(COMPUTE_SPECS, "Design specs of compute, nova-specs layout."),
        },
        labels=DEMO_LABELS,
        cores=["dave", "ana"],
        when=base_time,
        description="Design specs (blueprints) of the compute API",
    )

    seed_nova.add_nova(state, now, labels=DEMO_LABELS)

    def change1() -> None:
        c = lifecycle.create_change(
            state,
            COMPUTE,
            subject="Add last_used_at to the keypair show response",
            files={COMPUTE_SPEC_PATH: compute_add_optional_field(compute_spec)},
            owner="alice",
            created=now - timedelta(days=1),
            topic="bp/keypair-last-used",
            body="Operators cannot tell which keypairs are still used.\n\n"
            "Implements: blueprint keypair-last-used",
        )
        people.add_reviewer(state, c, "dave", date=now - timedelta(days=1))

    def change2() -> None:
        c = lifecycle.create_change(
            state,
            COMPUTE,
            subject="Remove the delete keypair API",
            files={COMPUTE_SPEC_PATH: compute_remove_operation(compute_spec)},
            owner="bob",
            created=now - timedelta(days=3),
            body="Keypairs are cleaned up by the operator tooling now.\n\n"
            "Implements: blueprint keypair-cleanup",
        )
        people.add_reviewer(state, c, "dave", date=now - timedelta(days=3))

    def change3() -> None:
        c = lifecycle.create_change(
            state,
            BLOCK_STORAGE,
            subject="Add a volume labels API",
            files={BLOCK_STORAGE_SPEC_PATH: block_storage_add_collection(block_spec)},
            owner="carol",
            created=now - timedelta(days=3),
            body="Implements: blueprint volume-labels",
        )
        reviews.vote(
            state,
            c,
            "zuul",
            "Verified",
            1,
            message="Build succeeded.\n\n- openapi-lint SUCCESS in 41s",
            tag="autogenerated:zuul:check",
            date=now - timedelta(days=3) + timedelta(minutes=40),
        )

    def change4() -> None:
        lifecycle.create_change(
            state,
            COMPUTE,
            subject="WIP: Add server snapshot schedules API",
            files={COMPUTE_SPEC_PATH: compute_wip_path(compute_spec)},
            owner="alice",
            created=now - timedelta(days=5),
            wip=True,
            body="Not ready: the schedule format is still under discussion.\n\n"
            "Partial-Implements: blueprint server-snapshot-schedules",
        )

    use_cases_line = FLAVOR_SEARCH_SPEC.splitlines().index("Use Cases") + 4  # its "None"

    def change5() -> None:
        c = lifecycle.create_change(
            state,
            COMPUTE_SPECS,
            subject="Propose flavor description search",
            files={"specs/2027.1/approved/flavor-description-search.rst": FLAVOR_SEARCH_SPEC},
            owner="bob",
            created=now - timedelta(days=2, hours=6),
            body="APIImpact",
        )
        reviews.review(
            state,
            c,
            "dave",
            "Who needs this? The Use Cases section only says None.",
            comments={
                "specs/2027.1/approved/flavor-description-search.rst": [
                    {
                        "line": use_cases_line,
                        "message": "Please describe who needs this filter.",
                        "unresolved": True,
                    }
                ]
            },
            date=now - timedelta(days=1),
        )

    def change6() -> None:
        lifecycle.create_change(
            state,
            BLOCK_STORAGE,
            subject="Return expires_at in the volume transfer list",
            files={BLOCK_STORAGE_SPEC_PATH: block_storage_add_field(block_spec)},
            owner="carol",
            created=now - timedelta(hours=12),
            body="Clients want to know when a pending transfer expires.",
        )

    def change7() -> None:
        c = lifecycle.create_change(
            state,
            COMPUTE,
            subject="Accept a description when creating a keypair",
            files={COMPUTE_SPEC_PATH: compute_add_request_field(compute_spec)},
            owner="alice",
            created=now - timedelta(days=4),
            body="Implements: blueprint keypair-description",
        )
        reviews.vote(
            state,
            c,
            "dave",
            "Code-Review",
            -1,
            message="This needs a new microversion; please bump it and add the field there.",
            date=now - timedelta(days=3),
        )

    # Change numbers follow design.md §6, so they are created in that order.
    for build in (change1, change2, change3, change4, change5, change6, change7):
        build()
    seed_nova.nova_changes(state, now)
    return SeedInfo(
        projects=(COMPUTE, BLOCK_STORAGE, COMPUTE_SPECS, seed_nova.NOVA),
        tc_group="technical-committee",
        tc_liaisons=((COMPUTE, "ana"),),
    )


SEEDS: dict[str, Callable[[GerritState], SeedInfo]] = {"empty": seed_empty, "demo": seed_demo}


def apply_seed(state: GerritState, name: str) -> SeedInfo:
    """Run the seed called ``name`` (``KeyError`` names the known ones)."""
    try:
        seed = SEEDS[name]
    except KeyError:
        raise KeyError(f"unknown seed {name!r} (known: {', '.join(sorted(SEEDS))})") from None
    return seed(state)
