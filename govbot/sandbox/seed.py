"""Seeds for the sandbox: ``empty`` (accounts only) and ``demo`` (README.md, Without a Gerrit).

Both are deterministic apart from the clock: every time is relative to the sandbox's
``now()`` at seeding. The demo's projects carry real specs (``data/README.md``) and a
real subset of nova's api-ref, policy defaults and microversion ledger
(``data/nova-api/README.md``); its ten open changes edit them in ways the governance
rules should notice: the OpenAPI edits are ``seed_openapi.py``, the design specs
``seed_design.py``, nova's projects and changes ``seed_nova.py``; here the people, the
projects and the changes' stories (owners, reviews, votes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources

from govbot.sandbox import lifecycle, people, reviews, seed_nova
from govbot.sandbox.entities import CODE_REVIEW, VERIFIED, LabelType
from govbot.sandbox.seed_design import FLAVOR_SEARCH_SPEC, KEYPAIR_LAST_USED_SPEC
from govbot.sandbox.seed_openapi import (
    block_storage_add_collection,
    block_storage_add_field,
    compute_add_optional_field,
    compute_add_request_field,
    compute_remove_operation,
    compute_wip_path,
)
from govbot.sandbox.state import GerritState

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


README = """\
{name}
{underline}

{what}

This repository is part of the govbot sandbox's ``demo`` seed.
"""

HUMANS = {
    "alice": "Alice Ferreira",
    "bob": "Bob Okafor",
    "carol": "Carol Nguyen",
    "dave": "Dave Kowalski",
    "erin": "Erin Tanaka",
    "ana": "Ana Ribeiro",
    "ben": "Ben Adeyemi",
    "chen": "Chen Wei",
}
# name -> (members, description)
GROUPS = {
    "technical-committee": (["ana", "ben", "chen"], "The OpenStack Technical Committee"),
    "compute-api-core": (["ana", "dave"], "Cores of compute-api"),
    "block-storage-api-core": (["erin"], "Cores of block-storage-api"),
    "compute-specs-core": (["dave", "ana"], "Cores of compute-specs"),
    "nova-core": (["dave", "erin"], "Cores of nova"),
}
FLAVOR_SEARCH_PATH = "specs/2027.1/approved/flavor-description-search.rst"


@dataclass(frozen=True)
class DemoBase:
    """What the demo's changes build on: the seed's now() and the merged specs."""

    now: datetime
    compute_spec: str
    block_spec: str


def _readme(name: str, what: str) -> str:
    return README.format(name=name, underline="=" * len(name), what=what)


def seed_demo(state: GerritState) -> SeedInfo:
    """The demo of README.md, Without a Gerrit: accounts, four projects, ten open changes."""
    seed_empty(state)
    now = state.now()
    _demo_people(state)
    base = _demo_projects(state, now)
    seed_nova.add_nova(state, now, labels=DEMO_LABELS)
    # Change numbers follow README.md, Without a Gerrit, so they are created in that order.
    for build in DEMO_CHANGES:
        build(state, base)
    seed_nova.nova_changes(state, now)
    return SeedInfo(
        projects=(COMPUTE, BLOCK_STORAGE, COMPUTE_SPECS, seed_nova.NOVA),
        tc_group="technical-committee",
        tc_liaisons=((COMPUTE, "ana"),),
    )


def _demo_people(state: GerritState) -> None:
    """The humans (password ``<username>-demo``) and their groups: the TC and the cores."""
    for username, name in HUMANS.items():
        people.add_account(
            state, username, name, f"{username}@example.org", password=f"{username}-demo"
        )
    for group, (members, description) in GROUPS.items():
        people.add_group(state, group, members, description=description)


def _demo_projects(state: GerritState, now: datetime) -> DemoBase:
    """The two OpenAPI projects and the design specs, merged a month before ``now``."""
    base = DemoBase(
        now,
        _data("openstack-specs/compute-v2.96.yaml"),
        _data("openstack-specs/block-storage-v3.70.yaml"),
    )
    projects = (
        (
            COMPUTE,
            {COMPUTE_SPEC_PATH: base.compute_spec},
            "The OpenStack Compute API description.",
            ["ana", "dave"],
            "OpenStack Compute API (OpenAPI)",
        ),
        (
            BLOCK_STORAGE,
            {BLOCK_STORAGE_SPEC_PATH: base.block_spec},
            "The OpenStack Block Storage API description.",
            ["erin"],
            "OpenStack Block Storage API (OpenAPI)",
        ),
        (
            COMPUTE_SPECS,
            {
                "specs/2027.1-template.rst": _data("nova-specs/2027.1-template.rst"),
                "specs/2026.2/approved/keypair-last-used.rst": KEYPAIR_LAST_USED_SPEC,
            },
            "Design specs of compute, nova-specs layout.",
            ["dave", "ana"],
            "Design specs (blueprints) of the compute API",
        ),
    )
    for name, files, what, cores, description in projects:
        lifecycle.add_project(
            state,
            name,
            {**files, "README.rst": _readme(name, what)},
            labels=DEMO_LABELS,
            cores=cores,
            when=now - timedelta(days=30),
            description=description,
        )
    return base


def _change1(state: GerritState, base: DemoBase) -> None:
    """An optional response field, with its blueprint: dave reviews."""
    now = base.now
    c = lifecycle.create_change(
        state,
        COMPUTE,
        subject="Add last_used_at to the keypair show response",
        files={COMPUTE_SPEC_PATH: compute_add_optional_field(base.compute_spec)},
        owner="alice",
        created=now - timedelta(days=1),
        topic="bp/keypair-last-used",
        body="Operators cannot tell which keypairs are still used.\n\n"
        "Implements: blueprint keypair-last-used",
    )
    people.add_reviewer(state, c, "dave", date=now - timedelta(days=1))


def _change2(state: GerritState, base: DemoBase) -> None:
    """An operation removed that was never deprecated."""
    now = base.now
    c = lifecycle.create_change(
        state,
        COMPUTE,
        subject="Remove the delete keypair API",
        files={COMPUTE_SPEC_PATH: compute_remove_operation(base.compute_spec)},
        owner="bob",
        created=now - timedelta(days=3),
        body="Keypairs are cleaned up by the operator tooling now.\n\n"
        "Implements: blueprint keypair-cleanup",
    )
    people.add_reviewer(state, c, "dave", date=now - timedelta(days=3))


def _change3(state: GerritState, base: DemoBase) -> None:
    """A new collection as a bare array; CI passed, no human looked."""
    now = base.now
    c = lifecycle.create_change(
        state,
        BLOCK_STORAGE,
        subject="Add a volume labels API",
        files={BLOCK_STORAGE_SPEC_PATH: block_storage_add_collection(base.block_spec)},
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


def _change4(state: GerritState, base: DemoBase) -> None:
    """Work in progress: not reviewed."""
    lifecycle.create_change(
        state,
        COMPUTE,
        subject="WIP: Add server snapshot schedules API",
        files={COMPUTE_SPEC_PATH: compute_wip_path(base.compute_spec)},
        owner="alice",
        created=base.now - timedelta(days=5),
        wip=True,
        body="Not ready: the schedule format is still under discussion.\n\n"
        "Partial-Implements: blueprint server-snapshot-schedules",
    )


def _change5(state: GerritState, base: DemoBase) -> None:
    """A design spec whose Use Cases say None; dave asks who needs it, on that line."""
    now = base.now
    use_cases_line = FLAVOR_SEARCH_SPEC.splitlines().index("Use Cases") + 4  # its "None"
    c = lifecycle.create_change(
        state,
        COMPUTE_SPECS,
        subject="Propose flavor description search",
        files={FLAVOR_SEARCH_PATH: FLAVOR_SEARCH_SPEC},
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
            FLAVOR_SEARCH_PATH: [
                {
                    "line": use_cases_line,
                    "message": "Please describe who needs this filter.",
                    "unresolved": True,
                }
            ]
        },
        date=now - timedelta(days=1),
    )


def _change6(state: GerritState, base: DemoBase) -> None:
    """A new response field that cites no blueprint."""
    lifecycle.create_change(
        state,
        BLOCK_STORAGE,
        subject="Return expires_at in the volume transfer list",
        files={BLOCK_STORAGE_SPEC_PATH: block_storage_add_field(base.block_spec)},
        owner="carol",
        created=base.now - timedelta(hours=12),
        body="Clients want to know when a pending transfer expires.",
    )


def _change7(state: GerritState, base: DemoBase) -> None:
    """An optional request field; dave's -1 asks for a microversion."""
    now = base.now
    c = lifecycle.create_change(
        state,
        COMPUTE,
        subject="Accept a description when creating a keypair",
        files={COMPUTE_SPEC_PATH: compute_add_request_field(base.compute_spec)},
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


# Changes 1 to 7, in number order; nova's 8 to 10 follow (seed_nova.nova_changes).
DEMO_CHANGES: tuple[Callable[[GerritState, DemoBase], None], ...] = (
    _change1,
    _change2,
    _change3,
    _change4,
    _change5,
    _change6,
    _change7,
)


SEEDS: dict[str, Callable[[GerritState], SeedInfo]] = {"empty": seed_empty, "demo": seed_demo}


def apply_seed(state: GerritState, name: str) -> SeedInfo:
    """Run the seed called ``name`` (``KeyError`` names the known ones)."""
    try:
        seed = SEEDS[name]
    except KeyError:
        raise KeyError(f"unknown seed {name!r} (known: {', '.join(sorted(SEEDS))})") from None
    return seed(state)
