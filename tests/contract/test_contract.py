"""What govbot's client expects of Gerrit, on both servers (see conftest.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from contract_support import BOT, Server
from gerrit_support import SPEC, SPEC_TEXT
from real_gerrit import MAX_FILE_SIZE_DOWNLOAD

from govbot.gerrit.changes import ChangeInfo
from govbot.gerrit.client import GerritClient
from govbot.gerrit.errors import ChangeClosed, GerritAuthError, GerritBadRequest, GerritNotFound
from govbot.gerrit.events import GerritEvent
from govbot.gerrit.sources import RevisionReader, change_ref, change_specs
from govbot.policy import EscalationConfig, Policy
from govbot.services.intake import build_query, file_filter
from govbot.services.preflight import group_problems
from govbot.services.stream import COMMAND, connect


def test_the_server_says_its_version(gerrit_server: Server) -> None:
    with gerrit_server.client() as client:
        assert isinstance(client.version(), str) and client.version()


def test_the_bot_reads_itself_and_is_a_service_user(gerrit_server: Server) -> None:
    with gerrit_server.client() as client:
        me = client.account("self")
        assert me.username == gerrit_server.bot[0] and me.account_id is not None


def test_group_members_by_name(gerrit_server: Server) -> None:
    with gerrit_server.client() as client:
        members = client.group_members(gerrit_server.tc_group)
    assert sorted(m.username for m in members) == sorted(gerrit_server.tc)
    assert all(m.account_id for m in members)


def test_a_group_the_bot_cannot_see_is_404(gerrit_server: Server) -> None:
    """gerrit-fidelity #10: a group neither visible to all nor owned is invisible."""
    with gerrit_server.client() as client, pytest.raises(GerritNotFound):
        client.group_members("hidden-core")


def test_an_unknown_change_is_404(gerrit_server: Server) -> None:
    with gerrit_server.client() as client, pytest.raises(GerritNotFound):
        client.change(f"{gerrit_server.project}~999999")


def test_projects_exist_or_not(gerrit_server: Server) -> None:
    with gerrit_server.client() as client:
        assert client.project_exists(gerrit_server.project)
        assert not client.project_exists("no/such-project")


@pytest.mark.parametrize(
    "globs",
    [
        ("api-specs/**/*.yaml",),
        ("api-ref/source/*.inc", "doc/{v2,v3}/*.json"),
        ("specs/**/*.rst", "a+b/c~d@e#f&g<h>.yaml"),
    ],
)
def test_the_poll_query_parses(gerrit_server: Server, globs: tuple[str, ...]) -> None:
    """gerrit-fidelity #3: the file regex, special characters included, is a query both
    Gerrit's parser and Lucene accept (a 400 here would switch the poll's filter off)."""
    query = build_query(gerrit_server.project, "master", files=file_filter(globs))
    with gerrit_server.client() as client:
        changes, more = client.query(query, options=("CURRENT_REVISION",), limit=10)
    assert changes == [] and more is False


def test_the_poll_file_filter_takes_a_dot_literally(gerrit_server: Server) -> None:
    """gerrit-fidelity #3: ``[.]`` survives Gerrit's query lexer, which would turn ``\\.``
    into ``.`` (any character): ``a_yaml`` is not a spec."""
    topic = gerrit_server.new_topic()
    spec = gerrit_server.upload({"api-specs/extra.yaml": "openapi: 3.1.0\n"}, topic=topic)
    gerrit_server.upload({"api-specs/extra_yaml": "not a spec\n"}, topic=topic)
    query = build_query(gerrit_server.project, "master", files=file_filter(["api-specs/**/*.yaml"]))
    with gerrit_server.client() as client:
        changes, _ = client.query(f"{query} topic:{topic}", limit=10)
    assert [c.number for c in changes] == [spec]


def test_start_up_names_the_groups_the_bot_cannot_see(gerrit_server: Server) -> None:
    """gerrit-fidelity #10: checked once at start-up, with what to do about it."""
    watched = [(gerrit_server.project, None), ("demo/other", None)]
    hidden = Policy(escalation=EscalationConfig.from_raw({"tc": {"group": "hidden-core"}}))
    with gerrit_server.client() as client:
        fine = group_problems(client, Policy(escalation=EscalationConfig.from_raw({})), watched[:1])
        problems = group_problems(client, hidden, watched)
    assert fine == []  # technical-committee and api-core are visible to all
    assert [(p.group, p.required) for p in problems] == [
        ("hidden-core", True),
        ("other-core", False),
    ]
    assert "'hidden-core' (the technical committee" in problems[0].message
    assert f"not visible to {BOT[0]}" in problems[0].message
    assert "visible to all registered users" in problems[0].message


# --- queries, changes, files --------------------------------------------------------------


def test_queries_page_with_start_and_more_changes(gerrit_server: Server) -> None:
    topic = gerrit_server.new_topic()
    numbers = {gerrit_server.upload(topic=topic) for _ in range(3)}
    with gerrit_server.client() as client:
        first, more = client.query(f"topic:{topic}", limit=2)
        rest, more_after = client.query(f"topic:{topic}", limit=2, start=2)
        every = list(client.query_all(f"topic:{topic}", page_size=2))
    assert len(first) == 2 and more is True
    assert len(rest) == 1 and more_after is False
    assert {c.number for c in every} == numbers and len(every) == 3


def test_change_and_revision_json(gerrit_server: Server) -> None:
    """gerrit-fidelity #7: with CURRENT_REVISION the patch set number is known on any
    server (``current_revision_number`` exists only from 3.10)."""
    number = gerrit_server.upload(subject="Add a pet lookup")
    options = ("CURRENT_REVISION", "CURRENT_COMMIT", "DETAILED_ACCOUNTS", "DETAILED_LABELS")
    with gerrit_server.client() as client:
        info = client.change(f"{gerrit_server.project}~{number}", options=(*options, "MESSAGES"))
        (polled,), _ = client.query(f"change:{number}", options=("CURRENT_REVISION",))
    assert (info.number, info.project, info.branch, info.status) == (
        number,
        gerrit_server.project,
        "master",
        "NEW",
    )
    assert info.owner is not None and info.owner.username == "alice"
    assert not info.work_in_progress and info.change_id.startswith("I")
    current = info.current
    assert current is not None and current.number == 1 and current.sha == info.current_revision
    assert current.ref == change_ref(number, 1)
    assert current.commit is not None and current.commit.subject == "Add a pet lookup"
    assert len(current.commit.parents) == 1
    assert "API-Review" in info.labels and "Code-Review" in info.labels
    assert polled.current is not None and polled.current.number == 1
    bare = dict(polled.revisions)  # as a pre-3.10 server answers: no current_revision_number
    assert (
        ChangeInfo.from_json(
            {
                "_number": number,
                "project": gerrit_server.project,
                "branch": "master",
                "change_id": info.change_id,
                "current_revision": polled.current_revision,
                "revisions": {sha: {"_number": r.number} for sha, r in bare.items()},
            }
        ).current.number
        == 1
    )  # type: ignore[union-attr]


def test_a_wip_change_says_so(gerrit_server: Server) -> None:
    number = gerrit_server.upload(wip=True)
    with gerrit_server.client() as client:
        assert client.change(number).work_in_progress


def test_file_lists_and_contents(gerrit_server: Server) -> None:
    new_text = SPEC_TEXT + "x-extra: 1\n"
    number = gerrit_server.upload({SPEC: new_text, "api-specs/new.yaml": "openapi: 3.1.0\n"})
    with gerrit_server.client() as client:
        files = client.files(number, parent=1)
        head = client.content(number, "current", SPEC)
        base = client.content(number, "current", SPEC, parent=True)
        with pytest.raises(GerritNotFound):
            client.content(number, "current", "api-specs/missing.yaml")
    assert files[SPEC].status == "M" and files["api-specs/new.yaml"].status == "A"
    assert files["/COMMIT_MSG"].is_magic and "README.rst" not in files
    assert head == new_text.encode() and base == SPEC_TEXT.encode()


def test_content_gerrit_will_not_give_is_unreadable_not_an_error(gerrit_server: Server) -> None:
    """gerrit-fidelity #9: /content answers 400 for a directory and for a file over
    change.maxFileSizeDownload; the reader calls such a file unreadable and goes on."""
    big = "openapi: 3.1.0\n" + "#" * (MAX_FILE_SIZE_DOWNLOAD + 10) + "\n"
    number = gerrit_server.upload({"api-specs/big.yaml": big})
    with gerrit_server.client() as client:
        for path in ("api-specs", "api-specs/big.yaml"):
            with pytest.raises(GerritBadRequest):
                client.content(number, "current", path)
        reader = RevisionReader(client, number, "current", parent=False)
        with pytest.raises(FileNotFoundError, match=r"unreadable.*too big"):
            reader.read("api-specs/big.yaml")
        with pytest.raises(FileNotFoundError, match=r"unreadable.*director"):
            reader.read("api-specs")
        assert reader.read(SPEC).startswith(b"openapi")
        # The review leaves such a spec out, with a note, and checks the others.
        edited = gerrit_server.upload({"api-specs/big.yaml": big, SPEC: SPEC_TEXT + "# x\n"})
        specs = change_specs(client, client.change(edited), globs=("api-specs/**/*.yaml",))
    assert [c.path for c in specs.files] == [SPEC]
    assert len(specs.notes) == 1 and "api-specs/big.yaml not checked" in specs.notes[0]
    assert "too big" in specs.notes[0]


# --- reviews, reviewers, attention ----------------------------------------------------------


def test_a_review_with_inline_comments_a_vote_and_a_tag(gerrit_server: Server) -> None:
    number = gerrit_server.upload({SPEC: SPEC_TEXT.replace("Pets", "Pet store")})
    review = {
        "message": "govbot API review: 1 warning",
        "tag": "autogenerated:govbot:api-review",
        "notify": "NONE",
        "labels": {"API-Review": 1},
        "omit_duplicate_comments": True,
        "comments": {
            SPEC: [
                {"line": 3, "message": "on the new title", "unresolved": True},
                {"line": 3, "side": "PARENT", "parent": 1, "message": "on the old title"},
            ]
        },
    }
    with gerrit_server.client() as client:
        sha = client.change(number, options=("CURRENT_REVISION",)).current_revision
        assert sha is not None
        client.review(number, sha, review)
        comments = client.comments(number)[SPEC]
        info = client.change(number, options=("MESSAGES", "DETAILED_LABELS", "DETAILED_ACCOUNTS"))
    by_side = {c.side: c for c in comments}
    assert set(by_side) == {"REVISION", "PARENT"}
    assert by_side["REVISION"].line == 3 and by_side["REVISION"].unresolved
    assert by_side["PARENT"].parent == 1 and not by_side["PARENT"].unresolved
    assert all(c.author and c.author.username == BOT[0] and c.patch_set == 1 for c in comments)
    tagged = [m for m in info.messages if m.tag == "autogenerated:govbot:api-review"]
    assert len(tagged) == 1 and "govbot API review" in tagged[0].message
    votes = {a.account.username: a.value for a in info.labels["API-Review"].all if a.account}
    assert votes[BOT[0]] == 1


def test_reviewer_and_attention_in_one_review(gerrit_server: Server) -> None:
    """gerrit-fidelity #4: the escalation's single write: a CC and an attention entry, with
    an explicit notify, in one set-review call."""
    number = gerrit_server.upload()
    reason = "waiting for review since 3 days (govbot)"
    with gerrit_server.client() as client:
        ana = client.account("ana").account_id
        client.review(
            number,
            "current",
            {
                "tag": "autogenerated:govbot:escalation",
                "notify": "OWNER_REVIEWERS",
                "reviewers": [{"reviewer": "ana", "state": "CC"}],
                "add_to_attention_set": [{"user": "ana", "reason": reason}],
                "ignore_automatic_attention_set_rules": True,
            },
        )
        # ``reviewers`` comes only with DETAILED_LABELS.
        info = client.change(number, options=("DETAILED_LABELS", "DETAILED_ACCOUNTS"))
    # The caller of a set-review becomes a CC as well.
    assert sorted(a.username for a in info.reviewers.get("CC", ())) == sorted(["ana", BOT[0]])
    assert ana in info.attention_set and info.attention_set[ana].reason == reason


def test_attention_for_someone_not_on_the_change(gerrit_server: Server) -> None:
    """gerrit-fidelity #15: POST /attention refuses a user who is not on the change (400);
    set-review's add_to_attention_set ignores them."""
    number = gerrit_server.upload()
    with gerrit_server.client() as client:
        erin = client.account("erin").account_id
        with pytest.raises(GerritBadRequest):
            client.add_attention(number, "erin", "please look")
        client.review(
            number,
            "current",
            {"notify": "NONE", "add_to_attention_set": [{"user": "erin", "reason": "look"}]},
        )
        assert erin not in client.change(number, options=("DETAILED_ACCOUNTS",)).attention_set


def test_a_closed_change_is_told_apart_from_other_conflicts(gerrit_server: Server) -> None:
    """gerrit-fidelity #11: 409 is "closed" only when its body says so."""
    number = gerrit_server.upload()
    with gerrit_server.client("alice") as alice:
        alice._json("post", f"changes/{number}/abandon", json={}, change=number)
    with gerrit_server.client() as client, pytest.raises(ChangeClosed, match="closed"):
        client.review(number, "current", {"labels": {"API-Review": 1}, "notify": "NONE"})


# --- error codes -------------------------------------------------------------------------


def test_wrong_credentials_and_bad_queries(gerrit_server: Server) -> None:
    wrong = GerritClient(gerrit_server.url, BOT[0], "wrong", timeout=60, retries=0)
    with wrong, pytest.raises(GerritAuthError):
        wrong.account("self")
    with gerrit_server.client() as client, pytest.raises(GerritBadRequest):
        client.query("status:open nosuchoperator:x", limit=1)


# --- events ------------------------------------------------------------------------------


def test_stream_events_over_ssh(gerrit_server: Server, tmp_path: Path) -> None:
    """``gerrit stream-events`` as the bot, over real SSH with the host key pinned: an
    upload and a review arrive as events govbot parses into the type it queues."""
    ssh = connect(gerrit_server.stream_config(tmp_path))
    uploaded: list[int] = []
    try:
        channel = ssh.get_transport().open_session(timeout=60)  # type: ignore[union-attr]
        channel.exec_command(COMMAND)
        channel.settimeout(0.5)
        # Gerrit subscribes the session a moment after the command starts: an upload made
        # before that is not streamed, so upload again until one is.
        created = _next_event(
            channel,
            lambda e: e.type == "patchset-created" and e.change_number in uploaded,
            retry=lambda: uploaded.append(gerrit_server.upload()),
        )
        number = created.change_number
        with gerrit_server.client() as client:
            client.review(number, "current", {"message": "seen", "tag": "autogenerated:x"})
        commented = _next_event(
            channel, lambda e: e.type == "comment-added" and e.change_number == number
        )
    finally:
        ssh.close()
    assert created.change is not None and created.change.project == gerrit_server.project
    assert created.change.branch == "master" and created.change.owner is not None
    assert created.patch_set is not None and created.patch_set.number == 1
    assert created.actor is not None and created.actor.username == "alice"
    assert created.created_on is not None
    assert commented.actor is not None and commented.actor.username == BOT[0]
    assert commented.comment is not None and "seen" in commented.comment


def _next_event(
    channel: Any,
    wanted: Callable[[GerritEvent], bool],
    *,
    retry: Callable[[], object] | None = None,
    timeout: float = 120.0,
) -> GerritEvent:
    """The first event on ``channel`` that is ``wanted``; ``retry`` runs at once and then
    every 10 seconds while none is."""
    buffer = b""
    deadline = time.monotonic() + timeout
    again = time.monotonic()
    while time.monotonic() < deadline:
        if retry is not None and time.monotonic() >= again:
            retry()
            again = time.monotonic() + 10
        try:
            chunk = channel.recv(65536)
        except TimeoutError:
            continue
        assert chunk, "the stream ended"
        *lines, buffer = (buffer + chunk).split(b"\n")
        for line in lines:
            event = GerritEvent.from_json(json.loads(line)) if line.strip() else None
            if event is not None and wanted(event):
                return event
    raise AssertionError("no such event in time")
