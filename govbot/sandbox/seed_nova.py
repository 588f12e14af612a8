"""The demo's OpenStack-layout project: ``openstack/nova``, a real subset of nova's
api-ref, policy defaults and microversion ledger (``data/nova-api/README.md``), one
commit per release, and three open changes on the newest release that the api-ref
rules should notice: an undeprecated operation removed (DEP001), a parameter added
without a microversion (MVR003, MVR001), a policy default narrowed (AUD001).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from importlib import resources
from importlib.resources.abc import Traversable

from govbot.sandbox import lifecycle
from govbot.sandbox.entities import Files, LabelType
from govbot.sandbox.state import GerritState
from govbot.sandbox.textedit import insert_after, insert_before_in_block

NOVA = "openstack/nova"
NOVA_GROUPS_INC = "api-ref/source/os-server-groups.inc"
NOVA_PARAMETERS = "api-ref/source/parameters.yaml"
NOVA_GROUPS_POLICY = "nova/policies/server_groups.py"
# The nova releases of data/nova-api/, oldest first, and how many days before the seed's
# now() each one is merged: one commit per release, inside the dashboard's one-year
# trend window (govbot/web/queries/common.py), so the health chart shows what changed.
NOVA_RELEASES = (
    ("20.0.0", "Train", 330),
    ("21.0.0", "Ussuri", 270),
    ("22.0.0", "Victoria", 210),
    ("23.0.0", "Wallaby", 150),
    ("24.0.0", "Xena", 90),
    ("25.0.0", "Yoga", 30),
)
README = """\
openstack/nova
==============

A subset of nova {version} ({name}): its api-ref, policy defaults and microversion
ledger, unmodified from the nova {version} sdist on PyPI except that ``index.rst`` and
``parameters.yaml`` keep only what the kept pages use. Apache License 2.0 (LICENSE).

This repository is part of the govbot sandbox's ``demo`` seed; each commit of its
history is one nova release.
"""


def _data_dir() -> Traversable:
    return resources.files("govbot.sandbox") / "data" / "nova-api"


def nova_release(version: str) -> dict[str, str]:
    """The files of one nova release of ``data/nova-api/`` by their path in nova's tree."""
    files: dict[str, str] = {}
    pending = [(_data_dir() / version, "")]
    while pending:
        folder, prefix = pending.pop()
        for entry in folder.iterdir():
            if entry.name == "__pycache__":
                continue  # bytecode a Python run may leave beside the data; not nova's files
            if entry.is_dir():
                pending.append((entry, f"{prefix}{entry.name}/"))
            else:
                files[prefix + entry.name] = entry.read_text(encoding="utf-8")
    return files


def nova_history() -> list[tuple[str, str, int, Files]]:
    """Each release as (version, name, days ago, what its commit writes and deletes)."""
    history: list[tuple[str, str, int, Files]] = []
    previous: dict[str, str] = {}
    for version, name, days in NOVA_RELEASES:
        files = nova_release(version)
        files["LICENSE"] = _data_dir().joinpath("LICENSE").read_text(encoding="utf-8")
        files["README.rst"] = README.format(version=version, name=name)
        delta: dict[str, str | None] = {p: None for p in previous.keys() - files.keys()}
        delta.update({p: text for p, text in files.items() if previous.get(p) != text})
        history.append((version, name, days, delta))
        previous = files
    return history


def nova_remove_operation(inc: str) -> str:
    """Change 8: "Show Server Group Details" goes; it was never marked deprecated."""
    title, following = "Show Server Group Details\n", "Delete Server Group\n"
    if inc.count(title) != 1 or inc.count(following) != 1:
        raise ValueError(f"seed anchor not unique: {title!r} or {following!r}")
    kept = inc[: inc.index(title)] + inc[inc.index(following) :]
    return kept.replace("Lists, shows information for, creates,", "Lists, creates,", 1)


SERVER_GROUP_NAME_QUERY = """\
server_group_name_query:
  description: |
    Filters the response by the name of the server group (a substring match).
  in: query
  required: false
  type: string
"""


def nova_add_parameter(inc: str, parameters: str) -> tuple[str, str]:
    """Change 9: a ``name`` filter on ``GET /os-server-groups``, the ledger untouched."""
    inc = insert_after(inc, "  - offset: offset_simple\n", "  - name: server_group_name_query\n")
    return inc, insert_before_in_block(
        parameters, "reserved_query:\n", "sort_dir_flavor:\n", SERVER_GROUP_NAME_QUERY
    )


def nova_narrow_policy(policy: str) -> str:
    """Change 10: listing server groups, open to project readers, becomes admin-only."""
    old = "name=POLICY_ROOT % 'index',\n        check_str=base.PROJECT_READER,"
    if policy.count(old) != 1:
        raise ValueError(f"seed anchor not unique: {old[:60]!r}")
    return policy.replace(old, "name=POLICY_ROOT % 'index',\n        check_str=base.ADMIN,")


def add_nova(state: GerritState, now: datetime, *, labels: Iterable[LabelType]) -> None:
    """openstack/nova: one commit per real release, oldest first, in the past."""
    for number, (version, name, days, files) in enumerate(nova_history()):
        message = (
            f"Import nova {version} ({name})\n\n"
            "api-ref/source, the policy defaults and the microversion ledger of the\n"
            f"nova {version} sdist on PyPI (govbot/sandbox/data/nova-api/README.md)."
        )
        when = now - timedelta(days=days)
        if number == 0:
            lifecycle.add_project(
                state,
                NOVA,
                files,
                labels=labels,
                cores=["dave", "erin"],
                when=when,
                message=message,
                description="OpenStack Compute (nova): api-ref, policy defaults, ledger",
            )
        else:
            lifecycle.push(state, NOVA, files, message=message, when=when)


def nova_changes(state: GerritState, now: datetime) -> None:
    """Changes 8-10 on nova's newest release; recent, so none is escalated yet."""
    tree = nova_release(NOVA_RELEASES[-1][0])
    inc, parameters = tree[NOVA_GROUPS_INC], tree[NOVA_PARAMETERS]
    lifecycle.create_change(
        state,
        NOVA,
        subject="Remove the show server group API",
        files={NOVA_GROUPS_INC: nova_remove_operation(inc)},
        owner="bob",
        created=now - timedelta(hours=20),
        body="The list already returns every field of a server group.",
    )
    new_inc, new_parameters = nova_add_parameter(inc, parameters)
    lifecycle.create_change(
        state,
        NOVA,
        subject="Filter server groups by name",
        files={NOVA_GROUPS_INC: new_inc, NOVA_PARAMETERS: new_parameters},
        owner="alice",
        created=now - timedelta(hours=16),
        body="Projects with many server groups want to find one by its name.",
    )
    lifecycle.create_change(
        state,
        NOVA,
        subject="Make listing server groups admin-only",
        files={NOVA_GROUPS_POLICY: nova_narrow_policy(tree[NOVA_GROUPS_POLICY])},
        owner="carol",
        created=now - timedelta(hours=8),
        body="Server group names can reveal how a project is laid out.",
    )
