"""``govbot backfill`` (govbot/services/backfill.py) on a real git history, both databases:
a re-run walks only the new commits, the progress shows, and a commit whose spec did not
change reuses what the previous snapshot recorded, with the findings a full check gives."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from web_support import BLUEPRINT_GOOD, COMPUTE, COMPUTE_FILE, NOW, compute_spec

from govbot.db import make_engine, upgrade
from govbot.db.models import ApiSnapshot, ApiSpec, BackfillCursor, SnapshotFinding
from govbot.db.session import session_scope
from govbot.policy import Policy
from govbot.services.backfill import backfill
from govbot.services.index import index_commit
from govbot.sources import GitReader

DESIGN = "specs/2026.1/approved/keypair-last-used.rst"


def git(repo: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.org",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.org",
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        ["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text.lstrip())
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Three commits that change the spec."""
    repo = tmp_path / "compute-api"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    for version in ("2.90", "2.91", "2.92"):
        commit(repo, {COMPUTE_FILE: compute_spec(version)}, f"Bump to {version}")
    return repo


def run(engine: Engine, policy: Policy, repo: Path, out: io.StringIO | None = None):
    return backfill(
        engine, repo, COMPUTE, "master", policy=policy, now=NOW, out=out or io.StringIO()
    )


def test_a_rerun_walks_only_the_new_commits(db_engine: Engine, policy: Policy, repo: Path) -> None:
    first = run(db_engine, policy, repo)
    assert (first.commits, first.evaluated, first.snapshots, first.errors) == (3, 3, 3, [])

    head = commit(repo, {COMPUTE_FILE: compute_spec("2.93")}, "Bump to 2.93")
    commit(repo, {DESIGN: BLUEPRINT_GOOD}, "Add a design spec")  # the spec unchanged
    again = run(db_engine, policy, repo)
    # Only the two new commits are walked; only the one that changed the spec is checked.
    assert (again.commits, again.evaluated, again.snapshots, again.blueprints) == (2, 1, 1, 1)

    nothing = run(db_engine, policy, repo)
    assert (nothing.commits, nothing.evaluated, nothing.snapshots) == (0, 0, 0)
    with session_scope(db_engine) as s:
        cursor = s.get(BackfillCursor, (COMPUTE, "master"))
        assert cursor is not None and cursor.finished_at is not None
        assert cursor.head == git(repo, "rev-parse", "HEAD") != head
        assert cursor.planned == cursor.done == 5


def test_a_rewritten_branch_is_walked_again_but_known_content_is_not_checked(
    db_engine: Engine, policy: Policy, repo: Path
) -> None:
    run(db_engine, policy, repo)
    git(repo, "reset", "-q", "--hard", "HEAD~1")  # the last commit replaced (a force push)
    commit(repo, {COMPUTE_FILE: compute_spec("2.92-rc")}, "Bump to 2.92, again")
    again = run(db_engine, policy, repo)
    assert (again.commits, again.evaluated, again.snapshots) == (3, 1, 1)


def test_progress_is_shown_as_lines_or_as_a_bar(
    db_engine: Engine, policy: Policy, repo: Path
) -> None:
    lines = io.StringIO()
    run(db_engine, policy, repo, out=lines)
    assert "indexing openstack/compute-api master: 3/3 commits" in lines.getvalue()

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    commit(repo, {COMPUTE_FILE: compute_spec("2.93")}, "Bump to 2.93")
    bar = Terminal()
    run(db_engine, policy, repo, out=bar)
    assert "indexing openstack/compute-api master" in bar.getvalue()
    assert "1/1" in bar.getvalue()


def stored_findings(engine: Engine, commit: str) -> list[tuple]:
    with session_scope(engine) as s:
        rows = s.execute(
            select(
                SnapshotFinding.rule,
                SnapshotFinding.file,
                SnapshotFinding.line,
                SnapshotFinding.pointer,
                SnapshotFinding.message,
                SnapshotFinding.fingerprint,
            )
            .join(  # a snapshot's rows, or the earlier snapshot's it shares them with
                ApiSnapshot,
                func.coalesce(ApiSnapshot.findings_of, ApiSnapshot.id)
                == SnapshotFinding.snapshot_id,
            )
            .where(ApiSnapshot.commit == commit)
        ).all()
    return sorted(tuple(r) for r in rows)


def test_an_unchanged_spec_reuses_the_verdicts_of_a_full_check(
    db_engine: Engine, policy: Policy, repo: Path, tmp_path: Path
) -> None:
    spec_commit = git(repo, "rev-parse", "HEAD")
    later = commit(repo, {DESIGN: BLUEPRINT_GOOD}, "Add a design spec")
    result = run(db_engine, policy, repo)
    assert (result.commits, result.evaluated) == (4, 3)  # the design-spec commit reused
    with session_scope(db_engine) as s:
        api = s.scalars(select(ApiSpec)).one()
        assert api.commit == spec_commit  # the API's state is the snapshot it reused
    reused = stored_findings(db_engine, spec_commit)
    assert reused  # the compute spec has findings (deprecations without sunset...)

    # The later commit checked on its own, in a fresh database: the same findings.
    url = f"sqlite:///{tmp_path / 'full.db'}"
    upgrade(url)
    full = make_engine(url)
    try:
        checked = index_commit(
            full, GitReader(repo, later), COMPUTE, "master", later, policy=policy, now=NOW
        )
        assert checked.evaluated == 1 and checked.snapshots == [COMPUTE_FILE]
        assert stored_findings(full, later) == reused
    finally:
        full.dispose()
