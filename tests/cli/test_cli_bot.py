"""`govbot backfill` and `govbot index`, as real processes on real git repositories, the
sandbox Gerrit and a real database (SQLite, and PostgreSQL when reachable)."""

from __future__ import annotations

import os
import pty
import select as io_select
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from govbot.db import make_engine, session_scope
from govbot.db.models import ApiSnapshot, ApiSpec, BlueprintVerdict, IndexCursor
from govbot.sandbox import lifecycle, running_sandbox
from govbot.sandbox.seed import BLOCK_STORAGE, COMPUTE, COMPUTE_SPECS
from tests.db.conftest import db_url
from tests.web.web_support import compute_spec

__all__ = ["db_url"]

REPO = Path(__file__).resolve().parents[2]
GOVBOT = str(Path(sys.executable).with_name("govbot"))
SPEC = "api-specs/compute.yaml"


def git(repo: Path, *args: str, when: str = "2026-01-01T00:00:00Z") -> None:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
        "HOME": str(repo),
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A compute-api clone: three commits change the spec, one only the README."""
    repo = tmp_path / "compute-api"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    (repo / "api-specs").mkdir()
    steps = [
        (compute_spec("2.90", with_admin=False), "2026-01-01T10:00:00Z"),
        (compute_spec("2.91"), "2026-01-05T10:00:00Z"),
        (None, "2026-01-06T10:00:00Z"),
        (
            compute_spec("2.92", extra_field="\n        name: {type: string}"),
            "2026-01-09T10:00:00Z",
        ),
    ]
    for n, (text, when) in enumerate(steps):
        if text is None:
            (repo / "README.rst").write_text(f"readme {n}\n")
        else:
            (repo / SPEC).write_text(text.lstrip())
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", f"step {n}", when=when)
    return repo


def env(tmp: Path, db: str, **extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    out.update(
        {
            "GOVBOT_CACHE_DIR": str(tmp / "cache"),
            "GOVBOT_DATABASE_URL": db,
            "GOVBOT_POLICY_DIR": str(REPO / "policies"),
            "NO_COLOR": "1",
        }
    )
    out.update(extra)
    return out


def govbot(args: list[str], environ: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GOVBOT, *args], env=environ, cwd=cwd, capture_output=True, text=True, timeout=300
    )


def versions(db: str, project: str = COMPUTE) -> list[str | None]:
    engine = make_engine(db)
    try:
        with session_scope(engine) as s:
            return list(
                s.scalars(
                    select(ApiSnapshot.version)
                    .join(ApiSpec, ApiSpec.id == ApiSnapshot.api_id)
                    .where(ApiSpec.project == project)
                    .order_by(ApiSnapshot.merged_at)
                )
            )
    finally:
        engine.dispose()


def one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("govbot: "), stderr
    return lines[0]


def test_backfill_indexes_the_history_with_a_counter_and_once(clone, tmp_path, db_url):
    """Off a terminal the progress is a counter line; every commit that touched a spec is
    a snapshot; a second run walks only what is new: nothing."""
    e = env(tmp_path, db_url)
    first = govbot(["backfill", COMPUTE, "--repo", str(clone)], e, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout == (
        f"{COMPUTE} master: 3 commits indexed, 3 API snapshots, 0 design spec verdicts, "
        "0 cross-service finding(s)\n"
    )
    assert f"indexing {COMPUTE} master: 3/3 commits" in first.stderr
    assert versions(db_url) == ["2.90", "2.91", "2.92"]
    again = govbot(["backfill", COMPUTE, "--repo", str(clone), "--branch", "master"], e, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "0 commits indexed, 0 API snapshots" in again.stdout
    assert versions(db_url) == ["2.90", "2.91", "2.92"]


def test_backfill_draws_a_progress_bar_on_a_terminal(clone, tmp_path):
    """On a terminal (stderr a tty) click's progress bar is drawn."""
    db = f"sqlite:///{tmp_path / 'govbot.db'}"
    main, side = pty.openpty()
    try:
        proc = subprocess.Popen(
            [GOVBOT, "backfill", COMPUTE, "--repo", str(clone)],
            env=env(tmp_path, db),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=side,
            text=True,
        )
        os.close(side)
        terminal = b""
        while True:
            ready, _, _ = io_select.select([main], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the process closed its end
                break
            if not chunk:
                break
            terminal += chunk
        out, _ = proc.communicate(timeout=60)
    finally:
        os.close(main)
    assert proc.returncode == 0, terminal
    text = terminal.decode()
    assert f"indexing {COMPUTE} master" in text and "[#" in text and "3/3" in text
    assert "commits\n" not in text.replace("\r\n", "\n")  # the bar, not the counter lines
    assert "3 API snapshots" in out


def test_backfill_through_the_git_mirror(clone, tmp_path):
    """Without --repo the branch is fetched into the git mirror (GOVBOT_GIT_MIRROR_DIR)
    from GOVBOT_GIT_URL."""
    db = f"sqlite:///{tmp_path / 'govbot.db'}"
    e = env(
        tmp_path,
        db,
        GOVBOT_GIT_MIRROR_DIR=str(tmp_path / "mirror"),
        GOVBOT_GIT_URL=f"{tmp_path.as_uri()}/compute-api",
    )
    result = govbot(["backfill", COMPUTE], e, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "3 API snapshots" in result.stdout
    assert (tmp_path / "mirror").is_dir()
    assert versions(db) == ["2.90", "2.91", "2.92"]


@pytest.mark.parametrize(
    ("args", "extra", "words"),
    [
        (["backfill", COMPUTE, "--repo", "{clone}", "--branch", "stable/1999"], {}, "stable/1999"),
        (["backfill", COMPUTE, "--repo", "{tmp}"], {}, "not a git repository"),
        (["backfill", COMPUTE, "--repo", "{tmp}/nowhere"], {}, "no such directory"),
        (["backfill", COMPUTE], {}, "backfill needs --repo DIR"),
        (
            ["backfill", COMPUTE],
            {"GOVBOT_GIT_MIRROR_DIR": "{tmp}/mirror", "GOVBOT_GIT_URL": "{tmp_uri}/missing"},
            "git fetch of refs/heads/master",
        ),
        (
            ["backfill", COMPUTE, "--repo", "{clone}"],
            {"GOVBOT_DATABASE_URL": "sqlite:////nonexistent/dir/x.db"},
            "database",
        ),
        (["backfill"], {}, "Missing argument 'PROJECT'"),
        (["index"], {}, "GOVBOT_GERRIT_PROJECTS is not set"),
        (["index"], {"GOVBOT_GERRIT_PROJECTS": COMPUTE}, "index needs GOVBOT_GERRIT_URL"),
    ],
)
def test_cannot_run_is_one_line_exit_2(clone, tmp_path, args, extra, words):
    """What stops backfill or index is one line on stderr and exit code 2."""

    def fill(text: str) -> str:
        return (
            text.replace("{clone}", str(clone))
            .replace("{tmp_uri}", tmp_path.as_uri())
            .replace("{tmp}", str(tmp_path))
        )

    e = env(tmp_path, f"sqlite:///{tmp_path / 'govbot.db'}")
    e.update({k: fill(v) for k, v in extra.items()})
    result = govbot([fill(a) for a in args], e, tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert words in one_line_error(result.stderr)


def test_index_one_pass_over_the_watched_projects(tmp_path, db_url):
    """`govbot index`: the watched branches' heads (through the mirror) and the changes
    merged since the last pass (from its cursor); the design specs get their verdict."""
    with running_sandbox(seed="demo") as demo:
        e = env(
            tmp_path,
            db_url,
            GOVBOT_GERRIT_URL=demo.url,
            GOVBOT_GERRIT_USERNAME="govbot",
            GOVBOT_GERRIT_PASSWORD="govbot-demo",
            GOVBOT_GERRIT_PROJECTS=",".join((COMPUTE, BLOCK_STORAGE, COMPUTE_SPECS)),
            GOVBOT_GIT_MIRROR_DIR=str(tmp_path / "mirror"),
            GOVBOT_GIT_URL=demo.git_url_template,
        )
        result = govbot(["index"], e, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "3 commits indexed, 2 API snapshots, 1 design spec verdict" in result.stdout
        lifecycle.merge(demo, 6)  # block-storage: an API change merged
        again = govbot(["index"], e, tmp_path)
        assert again.returncode == 0, again.stderr
        assert ", 1 API snapshot," in again.stdout
    assert len(versions(db_url, BLOCK_STORAGE)) == 2
    engine = make_engine(db_url)
    try:
        with session_scope(engine) as s:
            assert s.scalar(select(func.count()).select_from(BlueprintVerdict)) == 1
            # A cursor per project that had a merged change to read.
            assert s.scalars(select(IndexCursor.project)).all() == [BLOCK_STORAGE]
    finally:
        engine.dispose()
