"""Edges only a real Gerrit shows (the sandbox makes neither root nor merge commits, and
does not keep an HTTP log): gerrit-fidelity #1, #2 and #14."""

from __future__ import annotations

import secrets

import pytest
from contract_support import BOT, RealWorld, wait_for
from gerrit_support import SPEC, SPEC_TEXT

import govbot
from govbot.gerrit.client import GerritClient
from govbot.gerrit.errors import GerritBadRequest
from govbot.gerrit.sources import EmptyReader, change_specs

GLOBS = ("api-specs/**/*.yaml",)


def bot(world: RealWorld) -> GerritClient:
    return GerritClient(world.gerrit.url, *BOT, timeout=60, retries=1, backoff=0.01)


def test_a_root_commit_is_all_new_files(real_world: RealWorld) -> None:
    """#1: Gerrit answers 400 to ``parent=1`` for a commit without parents; govbot lists
    its files against nothing and reads an empty base."""
    project = f"demo/root-{secrets.token_hex(3)}"
    real_world.gerrit.rest(
        "PUT", f"projects/{project.replace('/', '%2F')}", json={"create_empty_commit": False}
    )
    alice = real_world.workspace(project)
    sha, change_id = alice.commit({"api-specs/new.yaml": SPEC_TEXT}, "First spec", parents=[])
    number = alice.push_for_review(sha, change_id).number
    with bot(real_world) as client:
        with pytest.raises(GerritBadRequest, match="invalid parent"):
            client.files(number, parent=1)
        specs = change_specs(client, client.change(number), globs=GLOBS)
    assert [(c.status, c.new_path) for c in specs.files] == [("A", "api-specs/new.yaml")]
    assert isinstance(specs.base, EmptyReader) and specs.parent is None
    assert specs.head.read("api-specs/new.yaml") == SPEC_TEXT.encode()


def test_a_merge_takes_comments_only_on_what_it_changes_against_the_auto_merge(
    real_world: RealWorld,
) -> None:
    """#2: a merge's files are listed against parent 1, but Gerrit checks each inline
    comment's path against the auto-merge: a file the merge only brings in from the other
    parent gets 400 "not found in revision", so govbot comments only on the others."""
    admin = real_world.workspace(user="admin")
    master = admin.rev("refs/heads/master")
    side_branch = f"side-{secrets.token_hex(3)}"
    side, _ = admin.commit({"api-specs/side.yaml": SPEC_TEXT}, "Side work")
    admin.push(side, f"refs/heads/{side_branch}")
    alice = real_world.workspace()
    evil = SPEC_TEXT.replace("Pets", "Merged pets")
    sha, change_id = alice.commit(
        {"api-specs/side.yaml": SPEC_TEXT, SPEC: evil}, "Merge side work", parents=[master, side]
    )
    number = alice.push_for_review(sha, change_id).number
    with bot(real_world) as client:
        specs = change_specs(client, client.change(number), globs=GLOBS)
        assert sorted(c.new_path for c in specs.files) == [SPEC, "api-specs/side.yaml"]
        assert sorted(specs.changed) == [SPEC]  # side.yaml is the same as in parent 2
        assert specs.base.read(SPEC) == SPEC_TEXT.encode()  # parent 1
        with pytest.raises(GerritBadRequest, match="not found in revision"):
            client.review(number, sha, {"comments": {"api-specs/side.yaml": [_note(1)]}})
        client.review(
            number,
            sha,
            {
                "notify": "NONE",
                "comments": {SPEC: [_note(3), {**_note(3), "side": "PARENT", "parent": 1}]},
            },
        )
        comments = client.comments(number)[SPEC]
    assert sorted((c.side, c.parent) for c in comments) == [("PARENT", 1), ("REVISION", None)]


def _note(line: int) -> dict[str, object]:
    return {"line": line, "message": "a finding"}


def test_govbot_says_who_it_is(real_world: RealWorld) -> None:
    """#14: every request carries ``User-Agent: govbot/<version>`` (Gerrit's HTTP log)."""
    marker = f"{BOT[0]}-{secrets.token_hex(3)}"
    with bot(real_world) as client:
        assert not client.project_exists(marker)
    logs = real_world.gerrit.site / "logs"

    def logged() -> list[str]:
        # Gerrit writes its HTTP log through an asynchronous appender.
        text = "".join(p.read_text(errors="replace") for p in logs.glob("httpd_log*"))
        return [line for line in text.splitlines() if marker in line]

    wait_for(logged, "the request in httpd_log", timeout=60)
    assert all(f"govbot/{govbot.__version__}" in line for line in logged()), logged()
