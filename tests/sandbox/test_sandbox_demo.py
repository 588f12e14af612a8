"""The demo seed matches README.md, Without a Gerrit, and the sandbox starts from the command
line."""

from __future__ import annotations

import subprocess
import textwrap
import threading
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from gerrit_support import NOW, client
from pygerrit2 import GerritRestAPI

from govbot.gerrit.changes import ChangeInfo
from govbot.sandbox import Sandbox, serve
from govbot.sandbox.seed import BLOCK_STORAGE_SPEC_PATH, COMPUTE_SPEC_PATH
from govbot.sandbox.seed_nova import (
    NOVA,
    NOVA_GROUPS_INC,
    NOVA_GROUPS_POLICY,
    NOVA_PARAMETERS,
    NOVA_RELEASES,
    nova_release,
)


@pytest.fixture(scope="module")
def bot(demo: Sandbox) -> GerritRestAPI:
    return client(demo)


def detail(rest: GerritRestAPI, number: int) -> ChangeInfo:
    return ChangeInfo.from_json(
        rest.get(
            f"/changes/{number}/detail",
            params={"o": ["CURRENT_REVISION", "CURRENT_FILES", "CURRENT_COMMIT"]},
        )
    )


def block(data: bytes, key: str) -> dict:
    """The YAML block under the line ``key`` (e.g. one path or schema), parsed on its own:
    whole compute specs take ~0.5 s each to load, too slow to repeat in every test."""
    lines = data.decode().splitlines()
    start = lines.index(key)
    indent = len(key) - len(key.lstrip())
    end = start + 1
    while end < len(lines) and (
        not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent
    ):
        end += 1
    return yaml.safe_load(textwrap.dedent("\n".join(lines[start:end])))[key.strip()[:-1]]


def after(demo: Sandbox, number: int, path: str, key: str) -> dict:
    return block(demo.change(number).current.files[path], key)


def before(demo: Sandbox, number: int, path: str, key: str) -> dict:
    return block(demo.change(number).current.parent_files[path], key)


def test_accounts_groups_and_projects(demo: Sandbox, bot: GerritRestAPI) -> None:
    assert sorted(a["username"] for a in bot.get("/groups/Service%20Users/members")) == [
        "govbot",
        "zuul",
    ]
    assert [a["username"] for a in bot.get("/groups/technical-committee/members")] == [
        "ana",
        "ben",
        "chen",
    ]
    assert demo.account("ana").id in demo.projects["openstack/compute-api"].cores
    assert sorted(demo.projects) == [
        "openstack/block-storage-api",
        "openstack/compute-api",
        "openstack/compute-specs",
        NOVA,
    ]
    assert (
        "specs/2027.1-template.rst"
        in demo.projects["openstack/compute-specs"].trees[
            demo.projects["openstack/compute-specs"].branches["master"]
        ]
    )


def test_ten_open_changes_one_of_them_wip(demo: Sandbox, bot: GerritRestAPI) -> None:
    open_changes = bot.get("/changes/", params={"q": "status:open"})
    assert sorted(c["_number"] for c in open_changes) == list(range(1, 11))
    nova = bot.get("/changes/", params={"q": f"project:{NOVA} status:open"})
    assert sorted(c["_number"] for c in nova) == [8, 9, 10]
    assert [c["_number"] for c in bot.get("/changes/", params={"q": "is:wip"})] == [4]


def test_change_times_are_relative_to_now(demo: Sandbox, bot: GerritRestAPI) -> None:
    created = {n: detail(bot, n).current.created for n in range(1, 8)}
    assert NOW - created[1] == timedelta(days=1)
    assert NOW - created[2] == timedelta(days=3)
    assert NOW - created[3] == timedelta(days=3)
    assert NOW - created[4] == timedelta(days=5)
    assert NOW - created[5] == timedelta(days=2, hours=6)
    assert NOW - created[6] == timedelta(hours=12)
    # nova's changes are recent: under the two days after which a change is escalated.
    for number in (8, 9, 10):
        assert NOW - detail(bot, number).current.created < timedelta(days=1)


def test_change_1_adds_an_optional_response_field(demo: Sandbox, bot: GerritRestAPI) -> None:
    info = detail(bot, 1)
    assert info.messages[-1].message == "Uploaded patch set 1."  # no review yet
    schema = after(demo, 1, COMPUTE_SPEC_PATH, "    Os_KeypairShowResponse:")
    keypair = schema["properties"]["keypair"]
    assert "last_used_at" in keypair["properties"]
    assert "last_used_at" not in keypair.get("required", [])
    assert "Implements: blueprint keypair-last-used" in info.current.commit.message


def test_change_2_removes_an_operation_never_deprecated(demo: Sandbox) -> None:
    old = before(demo, 2, COMPUTE_SPEC_PATH, "  /v2.1/os-keypairs/{id}:")
    new = after(demo, 2, COMPUTE_SPEC_PATH, "  /v2.1/os-keypairs/{id}:")
    assert "delete" in old and not old["delete"].get("deprecated")
    assert "delete" not in new and "get" in new
    humans = [m for m in demo.change(2).messages if m.author != demo.change(2).owner]
    assert humans == []


def test_change_3_adds_tenant_id_in_a_bare_array_and_only_zuul_spoke(demo: Sandbox) -> None:
    path = after(demo, 3, BLOCK_STORAGE_SPEC_PATH, "  /v3/{project_id}/volume-labels:")
    schema = path["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["type"] == "array" and "tenantId" in schema["items"]["properties"]
    change = demo.change(3)
    authors = {
        demo.accounts[m.author].username for m in change.messages if m.author != change.owner
    }
    assert authors == {"zuul"}


def test_change_5_spec_has_no_use_cases_and_a_human_comment(
    demo: Sandbox, bot: GerritRestAPI
) -> None:
    info = detail(bot, 5)
    [path] = [p for p in info.current.files if p.endswith(".rst")]
    text = demo.change(5).current.files[path].decode()
    assert "Use Cases\n---------\n\nNone\n" in text
    human = info.messages[-1]
    assert human.author.username == "dave" and NOW - human.date == timedelta(days=1)
    assert not info.labels["Code-Review"].all or all(
        a.value == 0 for a in info.labels["Code-Review"].all
    )
    comments = bot.get("/changes/5/comments")
    assert [c["line"] for c in comments[path]] == [text.splitlines().index("None") + 1]


def test_change_6_cites_no_blueprint(demo: Sandbox, bot: GerritRestAPI) -> None:
    info = detail(bot, 6)
    assert "blueprint" not in info.current.commit.message.lower()
    schema = after(demo, 6, BLOCK_STORAGE_SPEC_PATH, "    Volume_TransfersDetailResponse:")
    properties = schema["properties"]["transfers"]["items"]["properties"]
    assert "expires_at" in properties


def test_change_7_waits_on_its_owner(demo: Sandbox, bot: GerritRestAPI) -> None:
    info = detail(bot, 7)
    assert info.labels["Code-Review"].vote_of(demo.account("dave").id) == -1
    assert info.messages[-1].author.username == "dave"
    assert NOW - info.messages[-1].date == timedelta(days=3)
    assert list(info.attention_set) == [demo.account("alice").id]
    request = after(demo, 7, COMPUTE_SPEC_PATH, "    Os_KeypairsCreate_292:")
    assert "description" in request["properties"]["keypair"]["properties"]


def test_nova_history_is_its_real_releases_in_order(demo: Sandbox) -> None:
    """One commit per nova release of data/nova-api/, oldest first, each in the past and
    within a year; each commit's tree is that release's files as released (with nova's
    LICENSE), and what a later release drops (the os-consoles policies) is deleted."""
    project = demo.projects[NOVA]
    git = demo.git_url(NOVA).removeprefix("file://")
    log = subprocess.run(
        ["git", "-C", git, "log", "--first-parent", "--reverse", "--format=%H %ct %s", "master"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    commits = [line.split(" ", 2) for line in log[1:]]  # after "Initial empty repository"
    assert [s for _, _, s in commits] == [f"Import nova {v} ({n})" for v, n, _ in NOVA_RELEASES]
    stamps = [datetime.fromtimestamp(int(t), UTC) for _, t, _ in commits]
    assert [NOW - t for t in stamps] == [timedelta(days=d) for _, _, d in NOVA_RELEASES]
    for (sha, _, _), (version, _, _) in zip(commits, NOVA_RELEASES, strict=True):
        tree = {path: data.decode() for path, data in project.trees[sha].items()}
        release = nova_release(version)
        assert {p: tree[p] for p in release} == release
        assert set(tree) - set(release) == {"LICENSE", "README.rst"}
        assert "Apache License" in tree["LICENSE"] and version in tree["README.rst"]
    first, second = (project.trees[sha] for sha, _, _ in commits[:2])
    assert "nova/policies/consoles.py" in first and "nova/policies/consoles.py" not in second


def test_nova_changes_on_the_newest_release(demo: Sandbox, bot: GerritRestAPI) -> None:
    """8 drops an operation never deprecated, 9 adds a query parameter with the ledger
    untouched, 10 makes a project-reader policy default admin-only."""
    head = nova_release(NOVA_RELEASES[-1][0])
    removed = demo.change(8).current
    assert set(detail(bot, 8).current.files) == {NOVA_GROUPS_INC}
    old, new = removed.parent_files[NOVA_GROUPS_INC].decode(), removed.files[NOVA_GROUPS_INC]
    assert old == head[NOVA_GROUPS_INC]
    get_one = ".. rest_method:: GET /os-server-groups/{server_group_id}"
    assert get_one in old and "DEPRECATED" not in old and "deprecated" not in old
    assert get_one.encode() not in new and b"DELETE /os-server-groups/{server_group_id}" in new

    added = demo.change(9).current
    assert set(detail(bot, 9).current.files) == {NOVA_GROUPS_INC, NOVA_PARAMETERS}
    assert b"  - name: server_group_name_query\n" in added.files[NOVA_GROUPS_INC]
    entry = yaml.safe_load(added.files[NOVA_PARAMETERS])["server_group_name_query"]
    assert entry["in"] == "query" and "min_version" not in entry

    narrowed = demo.change(10).current
    assert set(detail(bot, 10).current.files) == {NOVA_GROUPS_POLICY}
    policy = narrowed.files[NOVA_GROUPS_POLICY].decode()
    index = "name=POLICY_ROOT % 'index',\n        check_str=base.{},"
    assert index.format("PROJECT_READER") in head[NOVA_GROUPS_POLICY]
    assert index.format("ADMIN") in policy


def test_serve_prints_the_url_and_the_bot_credentials(capsys: pytest.CaptureFixture[str]) -> None:
    stop = threading.Event()
    stop.set()
    serve(0, "empty", stop=stop)
    out = capsys.readouterr().out
    assert "Gerrit sandbox (seed empty) at http://127.0.0.1:" in out
    assert "govbot / HTTP password govbot-demo" in out
    assert "GOVBOT_GERRIT_USERNAME=govbot" in out
