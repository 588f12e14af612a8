"""The index job and backfill: API snapshots of merged states, idempotent, on both databases."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from web_support import (
    BLUEPRINT_GOOD,
    COMPUTE,
    COMPUTE_FILE,
    NOW,
    MemoryTree,
    compute_spec,
    make_app,
)

from govbot.db.documents import contents
from govbot.db.models import (
    ApiDeprecation,
    ApiOperation,
    ApiSnapshot,
    ApiSpec,
    BlueprintVerdict,
    IndexCursor,
    JobLease,
    QueueState,
    SnapshotFinding,
    SpecDocument,
    Waiver,
)
from govbot.db.session import session_scope
from govbot.findings import Audience
from govbot.gerrit.client import GerritClient
from govbot.gerrit.mirror import GitMirror
from govbot.policy import Policy
from govbot.sandbox import Clock, lifecycle, people, running_sandbox
from govbot.services import index_snapshot
from govbot.services.backfill import backfill
from govbot.services.escalation import escalate
from govbot.services.index import (
    index_commit,
    index_heads,
    index_job,
    index_merged,
    record_queue,
)
from govbot.services.index_snapshot import content_digest
from govbot.web.queries.apis import finding_detail, findings_page, operations_page
from govbot.web.queries.common import waived_counts

DAY = dt.timedelta(days=1)


def count(engine: Engine, model: type) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def index(engine: Engine, policy: Policy, files: dict[str, str], commit: str, when: dt.datetime):
    return index_commit(
        engine, MemoryTree(files), COMPUTE, "master", commit, policy=policy, now=NOW, merged_at=when
    )


def test_indexing_a_commit_twice_records_it_once(db_engine: Engine, policy: Policy) -> None:
    """a snapshot is unique per (API, commit); the second run records nothing"""
    first = index(db_engine, policy, {COMPUTE_FILE: compute_spec("1")}, "a" * 40, NOW - DAY)
    again = index(db_engine, policy, {COMPUTE_FILE: compute_spec("1")}, "a" * 40, NOW - DAY)
    assert first.snapshots == [COMPUTE_FILE] and again.snapshots == []
    assert count(db_engine, ApiSnapshot) == 1
    with session_scope(db_engine) as s:
        spec = s.scalars(select(ApiSpec)).one()
        assert (spec.title, spec.version, spec.audience) == ("Compute API", "1", Audience.EXTERNAL)
        assert (spec.ops_external, spec.ops_external_admin, spec.ops_internal) == (4, 1, 0)
        assert spec.deprecated == 2 and spec.next_sunset == dt.date(2026, 4, 1)
        assert spec.errors + spec.warnings + spec.infos == s.scalar(
            select(func.count(SnapshotFinding.id))
        )
        assert s.scalar(select(func.count(ApiOperation.id))) == 5
        admin = s.scalars(select(ApiOperation).where(ApiOperation.path == "/os-hosts")).one()
        assert admin.audience is Audience.EXTERNAL_ADMIN and admin.source.startswith("policy:")
        assert s.scalar(select(func.count()).select_from(SpecDocument)) == 1


def test_operations_are_stored_once_per_content(db_engine: Engine, policy: Policy) -> None:
    """most commits leave every operation as it was: a snapshot whose operation rows
    would be, row for row, an earlier snapshot's reads that one's, and the API page and
    the operations API show them"""
    versions = [
        compute_spec("1"),
        compute_spec("2"),  # the same operations
        compute_spec("3", with_admin=False),  # one fewer
        compute_spec("4"),  # the first version's operations again
    ]
    for n, text in enumerate(versions):
        index(db_engine, policy, {COMPUTE_FILE: text}, "abcd"[n] * 40, NOW - (4 - n) * DAY)
    with session_scope(db_engine) as s:
        snapshots = s.scalars(select(ApiSnapshot).order_by(ApiSnapshot.merged_at)).all()
        first = snapshots[0].id
        assert [x.operations_of for x in snapshots] == [None, first, None, first]
        assert snapshots[0].operations_digest == snapshots[3].operations_digest
        assert snapshots[0].operations_digest != snapshots[2].operations_digest
        assert s.scalar(select(func.count(ApiOperation.id))) == 5 + 4
        spec = s.scalars(select(ApiSpec)).one()
        assert spec.latest_snapshot_id == snapshots[3].id
        paths = [o.path for o in operations_page(s, spec, limit=50, marker=None).items]
        assert len(paths) == 5 and "/os-hosts" in paths
        spec.latest_snapshot_id = snapshots[2].id  # what the third snapshot reads: its own
        third = operations_page(s, spec, limit=50, marker=None).items
        assert len(third) == 4 and "/os-hosts" not in [o.path for o in third]
        s.rollback()
        api_id = spec.id
    with make_app(db_engine, policy).test_client() as client:
        html = client.get(f"/apis/{api_id}").get_data(as_text=True)
        listed = client.get(f"/api/v1/apis/{api_id}/operations").get_json()
    assert "GET /os-hosts" in html
    assert sorted(o["path"] for o in listed["operations"]) == sorted(paths)


def test_findings_are_stored_once_per_content(db_engine: Engine, policy: Policy) -> None:
    """a snapshot whose finding rows would be an earlier snapshot's, row for row, reads
    that one's: the API page, the findings API, the waived counts and a finding's page
    show them as the snapshot's own"""
    versions = [
        compute_spec("1"),
        compute_spec("2"),  # the same findings on the same lines
        compute_spec("3", extra_field="\n        hostName: {type: string}"),  # one more
        compute_spec("4"),  # the first version's findings again
    ]
    for n, text in enumerate(versions):
        index(db_engine, policy, {COMPUTE_FILE: text}, "abcd"[n] * 40, NOW - (4 - n) * DAY)
    with session_scope(db_engine) as s:
        snapshots = s.scalars(select(ApiSnapshot).order_by(ApiSnapshot.merged_at)).all()
        first, third = snapshots[0].id, snapshots[2].id
        assert [x.findings_of for x in snapshots] == [None, first, None, first]
        assert snapshots[0].findings_digest == snapshots[3].findings_digest
        assert snapshots[0].findings_digest != snapshots[2].findings_digest
        own = {
            sid: s.scalars(
                select(SnapshotFinding.fingerprint)
                .where(SnapshotFinding.snapshot_id == sid)
                .order_by(SnapshotFinding.id)
            ).all()
            for sid in (first, third)
        }
        assert len(own[first]) >= 1 and len(own[third]) > len(own[first])
        assert s.scalar(select(func.count(SnapshotFinding.id))) == len(own[first]) + len(own[third])
        assert snapshots[3].errors + snapshots[3].warnings + snapshots[3].infos == len(own[first])
        spec = s.scalars(select(ApiSpec)).one()
        assert spec.latest_snapshot_id == snapshots[3].id
        listed = findings_page(s, spec, limit=100, marker=None).items
        assert [r.finding.fingerprint for r in listed] == own[first]
        # A finding's page shows the latest snapshot when that one reads the row...
        row = s.scalars(select(SnapshotFinding).where(SnapshotFinding.snapshot_id == first)).first()
        assert row is not None
        detail = finding_detail(s, row.id)
        assert detail is not None and detail.snapshot.commit == "d" * 40
        # ...and its own snapshot otherwise.
        only_third = set(own[third]) - set(own[first])
        extra = s.scalars(
            select(SnapshotFinding).where(
                SnapshotFinding.snapshot_id == third,
                SnapshotFinding.fingerprint.in_(only_third),
            )
        ).first()
        assert extra is not None
        detail = finding_detail(s, extra.id)
        assert detail is not None and detail.snapshot.commit == "c" * 40
        s.add(
            Waiver(
                api_id=spec.id,
                fingerprint=row.fingerprint,
                rule=row.rule,
                reason="known",
                created_by="tc",
            )
        )
        severity, api_id = str(row.severity), spec.id
    with session_scope(db_engine) as s:
        assert waived_counts(s, [api_id]) == {api_id: {severity: 1}}
    with make_app(db_engine, policy).test_client() as client:
        api = client.get(f"/api/v1/apis/{api_id}/findings").get_json()
        waived = client.get(f"/api/v1/apis/{api_id}/findings?waived=true").get_json()
        html = client.get(f"/apis/{api_id}").get_data(as_text=True)
    assert len(api["findings"]) == len(own[first])
    assert [f["rule"] for f in waived["findings"]] == [row.rule]
    assert "1 waived" in html


def test_unchanged_content_at_a_new_commit_is_not_a_new_snapshot(
    db_engine: Engine, policy: Policy
) -> None:
    """history has one point per merged change that changed the spec, not per commit"""
    index(
        db_engine, policy, {COMPUTE_FILE: compute_spec("1"), "README": "a"}, "a" * 40, NOW - 3 * DAY
    )
    result = index(
        db_engine, policy, {COMPUTE_FILE: compute_spec("1"), "README": "b"}, "b" * 40, NOW - 2 * DAY
    )
    assert result.snapshots == [] and result.unchanged == [COMPUTE_FILE]
    index(db_engine, policy, {COMPUTE_FILE: compute_spec("2")}, "c" * 40, NOW - DAY)
    assert count(db_engine, ApiSnapshot) == 2


def test_history_kept_in_merge_order_and_an_older_commit_does_not_become_latest(
    db_engine: Engine, policy: Policy
) -> None:
    index(db_engine, policy, {COMPUTE_FILE: compute_spec("3")}, "c" * 40, NOW - DAY)
    index(
        db_engine,
        policy,
        {COMPUTE_FILE: compute_spec("1", with_admin=False)},
        "a" * 40,
        NOW - 9 * DAY,
    )
    with session_scope(db_engine) as s:
        spec = s.scalars(select(ApiSpec)).one()
        assert (spec.version, spec.commit) == ("3", "c" * 40)
        # The deprecation carried from the older snapshot keeps its first date.
        since = s.scalars(
            select(ApiDeprecation.deprecated_since)
            .where(ApiDeprecation.snapshot_id == spec.latest_snapshot_id)
            .order_by(ApiDeprecation.id)
        ).all()
        assert since == [NOW - 9 * DAY, NOW - 9 * DAY]


def test_deprecations_record_sunset_and_replacement(db_engine: Engine, policy: Policy) -> None:
    index(db_engine, policy, {COMPUTE_FILE: compute_spec("1")}, "a" * 40, NOW - DAY)
    with session_scope(db_engine) as s:
        rows = s.execute(
            select(
                ApiDeprecation.operation, ApiDeprecation.sunset, ApiDeprecation.replacement
            ).order_by(ApiDeprecation.sunset)
        ).all()
    assert rows == [
        ("DELETE /servers/{server_id}", dt.date(2026, 4, 1), "DELETE /v2/servers/{server_id}"),
        ("GET /os-keypairs", dt.date(2027, 1, 15), None),
    ]


def test_a_spec_that_cannot_be_loaded_is_recorded_with_its_problem(
    db_engine: Engine, policy: Policy
) -> None:
    result = index(db_engine, policy, {COMPUTE_FILE: "openapi: [unclosed"}, "a" * 40, NOW)
    assert result.snapshots == [COMPUTE_FILE] and result.problems
    with session_scope(db_engine) as s:
        spec = s.scalars(select(ApiSpec)).one()
        assert spec.problem and spec.errors >= 1


def test_a_shared_schema_file_is_not_an_api_of_its_own(db_engine: Engine, policy: Policy) -> None:
    main = compute_spec("1").replace(
        "        id: {type: string, format: uuid}", "        id: {$ref: 'common.yaml#/Id'}"
    )
    files = {COMPUTE_FILE: main, "api-specs/common.yaml": "Id: {type: string, format: uuid}\n"}
    result = index(db_engine, policy, files, "a" * 40, NOW)
    assert result.snapshots == [COMPUTE_FILE]
    with session_scope(db_engine) as s:
        [documents] = s.scalars(select(ApiSnapshot.documents)).all()
        assert set(documents) == {COMPUTE_FILE, "api-specs/common.yaml"}


def test_design_specs_get_their_verdict(db_engine: Engine, policy: Policy) -> None:
    tree = MemoryTree({"specs/2026.2/approved/keypair-last-used.rst": BLUEPRINT_GOOD})
    result = index_commit(
        db_engine,
        tree,
        "openstack/compute-specs",
        "master",
        "d" * 40,
        policy=policy,
        now=NOW,
        merged_at=NOW,
    )
    again = index_commit(
        db_engine,
        tree,
        "openstack/compute-specs",
        "master",
        "e" * 40,
        policy=policy,
        now=NOW,
        merged_at=NOW,
    )
    assert result.blueprints and not again.blueprints
    with session_scope(db_engine) as s:
        b = s.scalars(select(BlueprintVerdict)).one()
        assert (b.verdict, b.strength, b.rest_api_impact) == ("justified", "strong", True)
        assert b.title == "Report when a keypair was last used"


# --- backfill over a real git repository --------------------------------------------------------


def git(repo: Path, *args: str, when: str = "2026-01-01T00:00:00Z") -> str:
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
    return subprocess.run(
        ["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def history_repo(tmp_path: Path) -> Path:
    """Four commits on master: three change the spec, one only the README."""
    repo = tmp_path / "compute-api"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "master")
    spec = repo / COMPUTE_FILE
    spec.parent.mkdir(parents=True)
    steps = [
        (compute_spec("2.90", with_admin=False), "Import", "2026-01-01T10:00:00Z"),
        (
            compute_spec("2.91"),
            "Add hosts\n\nReviewed-on: https://review.example.org/c/openstack/compute-api/+/4711",
            "2026-01-05T10:00:00Z",
        ),
        (None, "Docs only", "2026-01-06T10:00:00Z"),
        (
            compute_spec("2.92", extra_field="\n        name: {type: string}"),
            "Add name",
            "2026-01-09T10:00:00Z",
        ),
    ]
    for n, (text, message, when) in enumerate(steps):
        if text is None:
            (repo / "README.rst").write_text(f"readme {n}\n")
        else:
            spec.write_text(text.lstrip())
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", message, when=when)
    return repo


def test_backfill_walks_the_history_with_progress_and_once(
    db_engine: Engine, policy: Policy, history_repo: Path
) -> None:
    out = io.StringIO()
    run = backfill(db_engine, history_repo, COMPUTE, "master", policy=policy, now=NOW, out=out)
    assert (run.commits, run.snapshots, run.errors) == (3, 3, [])
    assert "indexing openstack/compute-api master: 3/3 commits" in out.getvalue()
    with session_scope(db_engine) as s:
        snaps = s.execute(
            select(ApiSnapshot.version, ApiSnapshot.change_number, ApiSnapshot.merged_at).order_by(
                ApiSnapshot.merged_at
            )
        ).all()
    assert [v for v, _, _ in snaps] == ["2.90", "2.91", "2.92"]
    assert snaps[1][1] == 4711
    assert snaps[0][2] == dt.datetime(2026, 1, 1, 10, tzinfo=dt.UTC)
    again = backfill(db_engine, history_repo, COMPUTE, "master", policy=policy, now=NOW, out=out)
    assert again.snapshots == 0 and count(db_engine, ApiSnapshot) == 3


def test_backfill_of_a_missing_branch_says_so(
    db_engine: Engine, policy: Policy, history_repo: Path
) -> None:
    from govbot.errors import SpecError

    with pytest.raises(SpecError, match="stable/1999"):
        backfill(db_engine, history_repo, COMPUTE, "stable/1999", policy=policy, progress=False)


# --- the index job against the sandbox Gerrit ----------------------------------------------------


@pytest.fixture
def gerrit():
    with running_sandbox(seed="empty", clock=Clock(NOW - 10 * DAY)) as sandbox:
        people.add_account(sandbox, "alice", "Alice", password="alice-pw")
        lifecycle.add_project(
            sandbox, COMPUTE, {COMPUTE_FILE: compute_spec("2.90")}, when=NOW - 10 * DAY
        )
        yield sandbox


def merge_change(sandbox, version: str, when: dt.datetime) -> int:
    sandbox.clock.set(when)
    change = lifecycle.create_change(
        sandbox,
        COMPUTE,
        subject=f"Bump to {version}",
        files={COMPUTE_FILE: compute_spec(version)},
        owner="alice",
        created=when,
    )
    lifecycle.merge(sandbox, change, date=when)
    return change.number


@pytest.mark.parametrize("with_mirror", [False, True], ids=["rest", "mirror"])
def test_index_job_records_merged_changes_once(
    db_engine: Engine, policy: Policy, gerrit, tmp_path: Path, with_mirror: bool
) -> None:
    number = merge_change(gerrit, "2.91", NOW - 2 * DAY)
    mirror = GitMirror(tmp_path / "mirror", gerrit.git_url) if with_mirror else None
    client = GerritClient(gerrit.url, "govbot", "govbot-demo", retries=0)
    try:
        run = index_merged(
            db_engine, client, policy=policy, now=NOW, watched=[(COMPUTE, "master")], mirror=mirror
        )
        assert (run.commits, run.snapshots, run.errors) == (1, 1, [])
        with session_scope(db_engine) as s:
            snap = s.scalars(select(ApiSnapshot)).one()
            assert (snap.change_number, snap.version) == (number, "2.91")
            assert snap.merged_at == NOW - 2 * DAY
            assert s.get(IndexCursor, (COMPUTE, "master")) is not None
        again = index_merged(
            db_engine, client, policy=policy, now=NOW, watched=[(COMPUTE, "master")], mirror=mirror
        )
        assert again.snapshots == 0
        merge_change(gerrit, "2.92", NOW - DAY)
        later = index_merged(
            db_engine, client, policy=policy, now=NOW, watched=[(COMPUTE, "master")], mirror=mirror
        )
        assert later.snapshots == 1  # the overlap re-reads the first change: no new snapshot
    finally:
        client.close()


def test_index_heads_scans_branch_tips_through_the_mirror(
    db_engine: Engine, policy: Policy, gerrit, tmp_path: Path
) -> None:
    """a direct push (no change) is seen by the periodic scan of branch heads"""
    mirror = GitMirror(tmp_path / "mirror", gerrit.git_url)
    first = index_heads(db_engine, mirror, policy=policy, now=NOW, watched=[(COMPUTE, None)])
    assert first.snapshots == 1
    lifecycle.push(
        gerrit, COMPUTE, {COMPUTE_FILE: compute_spec("2.99")}, message="Direct push", when=NOW
    )
    second = index_heads(db_engine, mirror, policy=policy, now=NOW, watched=[(COMPUTE, None)])
    third = index_heads(db_engine, mirror, policy=policy, now=NOW, watched=[(COMPUTE, None)])
    assert (second.snapshots, third.snapshots) == (1, 0)


def test_index_job_runs_under_its_lease_and_refreshes_cross_findings(
    db_engine: Engine, policy: Policy, gerrit, tmp_path: Path
) -> None:
    merge_change(gerrit, "2.91", NOW - DAY)
    mirror = GitMirror(tmp_path / "mirror", gerrit.git_url)
    run = index_job(
        db_engine,
        policy=policy,
        now=lambda: NOW,
        watched=[(COMPUTE, "master")],
        owner="test",
        client_factory=lambda: GerritClient(gerrit.url, "govbot", "govbot-demo", retries=0),
        mirror=mirror,
    )
    assert run is not None and run.snapshots >= 1 and run.cross_findings == 0
    with session_scope(db_engine) as s:
        lease = s.get(JobLease, "index")
        assert lease is not None and lease.last_run_at == NOW


def test_record_queue_keeps_the_escalation_pass_view(db_engine: Engine) -> None:
    """on the demo seed, a dry escalation pass says changes 2 and 3 are stale"""
    demo_now = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
    with running_sandbox(seed="demo", clock=Clock(demo_now)) as demo:
        client = GerritClient(demo.url, "govbot", "govbot-demo", retries=0)
        report = escalate(client, db_engine, Policy(), demo_now, dry_run=True)
        client.close()
    assert record_queue(db_engine, report) == len(report.candidates)
    with session_scope(db_engine) as s:
        stale = s.scalars(
            select(QueueState.change_number)
            .where(QueueState.state == "stale")
            .order_by(QueueState.change_number)
        ).all()
    assert stale == [2, 3]
    record_queue(db_engine, report)  # replaces, never duplicates
    assert count(db_engine, QueueState) == len(report.candidates)


def test_the_scheduler_jobs_feed_the_dashboard(
    db_engine: Engine, policy: Policy, tmp_path: Path
) -> None:
    """`govbot serve`'s index job indexes the watched branches (once per slot across
    processes), and its escalate job records the review queue it assessed"""
    from govbot.jobs import Jobs
    from govbot.sandbox.seed import BLOCK_STORAGE, COMPUTE_SPECS
    from govbot.settings import Settings

    demo_now = dt.datetime(2026, 3, 4, 12, 0, tzinfo=dt.UTC)
    with running_sandbox(seed="demo", clock=Clock(demo_now)) as demo:
        settings = Settings(
            gerrit_url=demo.url,
            gerrit_username="govbot",
            gerrit_password="govbot-demo",
            gerrit_projects=(COMPUTE, BLOCK_STORAGE, COMPUTE_SPECS),
            git_mirror_dir=str(tmp_path / "mirror"),
            git_url=demo.git_url_template,
            index_interval=600.0,
        )
        client = GerritClient.from_settings(settings)
        jobs = Jobs(settings, db_engine, client, policy, clock=lambda: demo_now, worker_id="t")
        try:
            jobs.index()
            with session_scope(db_engine) as s:
                assert set(s.scalars(select(ApiSpec.project))) == {COMPUTE, BLOCK_STORAGE}
                assert s.scalar(select(func.count()).select_from(BlueprintVerdict)) == 1
                lease = s.get(JobLease, "index")
                assert lease is not None and lease.slot == dt.datetime(
                    2026, 3, 4, 12, 0, tzinfo=dt.UTC
                )
            lifecycle.push(
                demo, COMPUTE, {COMPUTE_FILE: compute_spec("3.0")}, message="Push", when=demo_now
            )
            jobs.index()  # the same slot: it ran already
            assert count(db_engine, ApiSnapshot) == 2
            jobs.escalate()
        finally:
            client.close()
    with session_scope(db_engine) as s:
        rows = dict(s.execute(select(QueueState.change_number, QueueState.state)).all())
        escalated = s.scalars(
            select(QueueState.change_number).where(QueueState.action == "escalate")
        ).all()
    assert sorted(n for n, state in rows.items() if state == "stale") == [2, 3]
    assert sorted(escalated) == [2, 3]


def test_a_new_version_of_a_spec_is_kept_as_its_difference_from_the_last(
    db_engine: Engine, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each version's bytes are kept; one after a version this process stored is kept as
    the bytes between the start and the end it shares with it, and reads back whole (as
    the finding page's excerpt and the cross-service check read it)."""
    monkeypatch.setattr(index_snapshot, "_STORED", {})
    texts = [compute_spec(v) for v in ("1", "2", "3")]
    for n, text in enumerate(texts):
        index(db_engine, policy, {COMPUTE_FILE: text}, str(n) * 40, NOW - (5 - n) * DAY)
    stored = [MemoryTree({COMPUTE_FILE: t}).read(COMPUTE_FILE) for t in texts]
    digests = [content_digest(b) for b in stored]
    with session_scope(db_engine) as s:
        rows = {r.digest: r for r in s.scalars(select(SpecDocument))}
        assert [rows[d].base for d in digests] == [None, digests[0], digests[1]]
        assert [rows[d].depth for d in digests] == [0, 1, 2]
        assert all(len(rows[d].content) < len(texts[0]) / 10 for d in digests[1:])
        assert [rows[d].size for d in digests] == [len(b) for b in stored]
        assert contents(s, reversed(digests)) == dict(zip(digests, stored, strict=True))
        assert contents(s, ["0" * 64]) == {}
        excerpt = finding_detail(s, s.scalars(select(SnapshotFinding.id)).all()[-1])
        assert excerpt is not None and excerpt.excerpt  # read back through two bases


def test_a_version_is_kept_whole_past_the_bases_allowed_or_when_little_is_shared(
    db_engine: Engine, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_snapshot, "_STORED", {})
    monkeypatch.setattr(index_snapshot, "MAX_BASES", 1)
    texts = [compute_spec(v) for v in ("1", "2", "3")]
    texts.append(compute_spec("4", with_admin=False).replace("servers", "machines"))
    for n, text in enumerate(texts):
        index(db_engine, policy, {COMPUTE_FILE: text}, str(n) * 40, NOW - (5 - n) * DAY)
    stored = [MemoryTree({COMPUTE_FILE: t}).read(COMPUTE_FILE) for t in texts]
    with session_scope(db_engine) as s:
        rows = {r.digest: r for r in s.scalars(select(SpecDocument))}
        bases = [rows[content_digest(b)].base for b in stored]
        assert bases == [None, content_digest(stored[0]), None, None]
        assert contents(s, rows) == {content_digest(b): b for b in stored}


def test_a_version_on_a_base_this_database_lacks_is_kept_whole(
    db_engine: Engine, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the process remembers may be another database's (a test's, a restore)."""
    monkeypatch.setattr(index_snapshot, "_STORED", {})
    index_snapshot._STORED[(COMPUTE, "master", COMPUTE_FILE)] = ("f" * 64, b"{}")
    index(db_engine, policy, {COMPUTE_FILE: compute_spec("1")}, "a" * 40, NOW - DAY)
    with session_scope(db_engine) as s:
        assert s.scalars(select(SpecDocument.base)).all() == [None]


def test_the_digest_of_a_document_is_worked_out_once_per_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Indexing asks for the digest of the bytes a reader gave twice (did the file
    change? then to store it): hashed once; other bytes, even equal ones, again."""
    hashed: list[bytes] = []
    real = hashlib.sha256

    def counting(data: bytes) -> Any:
        hashed.append(data)
        return real(data)

    monkeypatch.setattr(index_snapshot.hashlib, "sha256", counting)
    read = b'{"openapi": "3.1.0"}' * 100
    again = bytes(bytearray(read))  # the same content, another object
    assert content_digest(read) == content_digest(read) == real(read).hexdigest()
    assert len(hashed) == 1
    assert content_digest(again) == content_digest(read)
    assert len(hashed) == 3  # another object, then the first one again
