#!/usr/bin/env python3
"""Dashboard latency with big data in PostgreSQL, under concurrent load from a second process.

Seeds a dedicated schema (dropped afterwards) of the PostgreSQL at ``--database``
(default: 127.0.0.1:5432, user postgres, database test) with:

* ``--projects`` projects (50), one API each with ``--history`` merged snapshots (12),
  whose latest holds ``--findings`` / projects findings (100,000 in all), 200 operations
  and 20 deprecations;
* ``--changes`` open changes (10,000) spread over the projects, each with a patch set,
  an evaluation and 10 findings (another 100,000 rows), and its review-queue state;
* escalations for 2 % of the changes, cross-service findings, a digest.

The findings are written with COPY in the one seeding transaction (a million take tens
of seconds), then the schema is vacuumed and analysed as autovacuum would.

Then serves the dashboard exactly as ``govbot serve`` does (the werkzeug server of
:class:`govbot.web.WebServer` with ``GOVBOT_WEB_THREADS`` workers, on 127.0.0.1) and starts
a **second process**: a load client whose ``--threads`` threads (8) request the overview
(``/``) and an API page (``/apis/<id>``, a different API each time) in turn, for
``--seconds`` (20) or ``--requests`` (4,000) requests, whichever comes first. Only loopback
is ever contacted. Prints p50/p95/p99 per page, throughput, errors, and the CPU time (user +
system) per request of the server process and of its PostgreSQL backends (read from /proc by
their application_name): on a shared machine wall latency follows the load, CPU per request
does not. Target p95 < 200 ms (``--findings 1000000``).

Usage: python benchmarks/dashboard.py [--projects 50] [--findings 100000] [--changes 10000]
                                      [--threads 8] [--seconds 20] [--requests 4000]
                                      [--database URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import multiprocessing
import os
import random
import resource
import statistics
import sys
import threading
import time
import urllib.request
import uuid
from enum import Enum
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, make_url, text  # noqa: E402

from govbot.db import make_engine, upgrade  # noqa: E402
from govbot.db.models import (  # noqa: E402
    ApiDeprecation,
    ApiOperation,
    ApiSnapshot,
    ApiSpec,
    Change,
    CrossFinding,
    DigestRecord,
    Escalation,
    Evaluation,
    FindingRecord,
    PatchSet,
    Project,
    QueueState,
    SnapshotFinding,
)
from govbot.findings import Audience, Severity  # noqa: E402
from govbot.policy import load_policy  # noqa: E402
from govbot.settings import Settings  # noqa: E402
from govbot.web import WebServer, create_app  # noqa: E402

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
SEVERITIES = (Severity.ERROR, Severity.WARNING, Severity.WARNING, Severity.INFO)
AUDIENCES = (Audience.EXTERNAL, Audience.EXTERNAL, Audience.EXTERNAL_ADMIN, Audience.INTERNAL)
RULES = ("CON001", "CON010", "CON020", "DEP002", "CON044", "CON081")
BATCH = 5000


def _batches(rows: list[dict[str, Any]]) -> Any:
    for i in range(0, len(rows), BATCH):
        yield rows[i : i + BATCH]


def _bulk(connection: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    for chunk in _batches(rows):
        connection.execute(insert(model), chunk)


def _copy_value(value: Any) -> Any:
    # COPY bypasses SQLAlchemy's types: the enum columns store the value ("error").
    return value.value if isinstance(value, Enum) else value


def _copy(connection: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    """``rows`` into ``model``'s table with PostgreSQL's COPY, in the caller's transaction
    (a million findings take minutes as INSERTs, seconds as COPY)."""
    if not rows:
        return
    columns = list(rows[0])
    cursor = connection.connection.driver_connection.cursor()
    names = ", ".join(f'"{c}"' for c in columns)
    with cursor.copy(f'COPY "{model.__tablename__}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([_copy_value(row[c]) for c in columns])


def _seed_api(c: Any, args: argparse.Namespace, rng: random.Random, p: int, project: str) -> int:
    """One API with its history; the latest snapshot holds its share of the findings."""
    per_api = args.findings // args.projects
    api_id = c.execute(
        insert(ApiSpec)
        .values(
            project=project,
            branch="master",
            file=f"api-specs/service-{p:02d}.yaml",
            title=f"Service {p:02d} API",
            version="2.1",
            audience=Audience.INTERNAL if p % 10 == 9 else Audience.EXTERNAL,
            commit="0" * 40,
            merged_at=NOW,
            indexed_at=NOW,
        )
        .returning(ApiSpec.id)
    ).scalar_one()
    latest = 0
    for h in range(args.history):
        merged = NOW - dt.timedelta(days=7 * (args.history - h))
        last = h == args.history - 1
        errors = per_api // 8 if last else rng.randint(50, 400)
        latest = c.execute(
            insert(ApiSnapshot)
            .values(
                api_id=api_id,
                project=project,
                branch="master",
                file=f"api-specs/service-{p:02d}.yaml",
                commit=f"{p:02d}{h:02d}".ljust(40, "a"),
                merged_at=merged,
                change_number=p * 1000 + h,
                indexed_at=NOW,
                title=f"Service {p:02d} API",
                version=f"2.{h}",
                audience=Audience.EXTERNAL,
                ops_external=150 + h,
                ops_external_admin=30,
                ops_internal=20,
                errors=errors,
                warnings=per_api // 2 if last else rng.randint(200, 900),
                infos=per_api - errors - per_api // 2 if last else rng.randint(0, 100),
                deprecated=20,
                policy_digest="bench",
                documents={},
            )
            .returning(ApiSnapshot.id)
        ).scalar_one()
    _copy(c, SnapshotFinding, _snapshot_findings(latest, p, per_api))
    _seed_surface(c, latest)
    _set_latest(c, args, api_id, latest)
    return api_id


def _set_latest(c: Any, args: argparse.Namespace, api_id: int, latest: int) -> None:
    """The API's counts, as the index job copies them from its latest snapshot."""
    per_api = args.findings // args.projects
    c.execute(
        ApiSpec.__table__.update()
        .where(ApiSpec.id == api_id)
        .values(
            latest_snapshot_id=latest,
            ops_external=150 + args.history,
            ops_external_admin=30,
            ops_internal=20,
            errors=per_api // 8,
            warnings=per_api // 2,
            infos=per_api - per_api // 8 - per_api // 2,
            deprecated=20,
            next_sunset=(NOW - dt.timedelta(days=30)).date(),
        )
    )


def _snapshot_findings(snapshot: int, p: int, n: int) -> list[dict[str, Any]]:
    return [
        {
            "snapshot_id": snapshot,
            "rule": RULES[i % len(RULES)],
            "name": "bench-rule",
            "severity": SEVERITIES[i % 4],
            "audience": AUDIENCES[i % 4],
            "file": f"api-specs/service-{p:02d}.yaml",
            "line": 10 + i,
            "pointer": f"/paths/~1things~1{i}/get",
            "message": f"finding {i} of service {p}: the field `thing_{i}` breaks a rule",
            "fingerprint": f"{p:04x}{i:012x}",
        }
        for i in range(n)
    ]


def _seed_surface(c: Any, snapshot: int) -> None:
    """200 operations of the snapshot, 20 of them deprecated."""
    ops = [
        {
            "snapshot_id": snapshot,
            "key": f"GET /things/{i}",
            "method": "GET",
            "path": f"/things/{i}",
            "operation_id": f"get-thing-{i}",
            "audience": AUDIENCES[i % 4],
            "source": "default",
            "evidence": "no marker or policy rule matched: default external",
            "evidence_file": "",
            "evidence_pointer": "",
            "deprecated": i < 20,
        }
        for i in range(200)
    ]
    _bulk(c, ApiOperation, ops)
    deps = [
        {
            "snapshot_id": snapshot,
            "key": f"GET /things/{i}",
            "operation": f"GET /things/{i}",
            "audience": Audience.EXTERNAL,
            "sunset": (NOW + dt.timedelta(days=10 * i - 30)).date(),
            "sunset_raw": None,
            "replacement": f"GET /v2/things/{i}",
            "deprecated_since": NOW - dt.timedelta(days=200),
        }
        for i in range(20)
    ]
    _bulk(c, ApiDeprecation, deps)


def _seed_changes(
    c: Any, args: argparse.Namespace, rng: random.Random, project_ids: list[int]
) -> None:
    """Open changes with a patch set, a queue state and a review each."""
    changes, patch_sets, queue = [], [], []
    for n in range(1, args.changes + 1):
        p = n % args.projects
        created = NOW - dt.timedelta(hours=rng.randint(1, 24 * 20))
        changes.append(
            {
                "number": n,
                "project_id": project_ids[p],
                "branch": "master",
                "change_id": f"I{n:040x}",
                "subject": f"Change {n}: adjust service {p} <script>x</script>",
                "owner_name": f"dev{n % 300}",
                "status": "NEW" if n % 10 else "MERGED",
                "wip": False,
                "private": False,
                "current_patch_set": 1,
                "created": created,
                "updated": created,
                "synced_at": NOW,
            }
        )
        patch_sets.append(
            {"change_number": n, "number": 1, "revision": f"{n:040x}", "uploaded": created}
        )
        waited = (NOW - created).total_seconds() / 86400
        queue.append(
            {
                "change_number": n,
                "project": f"openstack/service-{p:02d}-api",
                "branch": "master",
                "subject": f"Change {n}",
                "owner": f"dev{n % 300}",
                "state": "stale" if waited > 2 else ("at-risk" if waited > 1.5 else "waiting"),
                "waited_days": waited,
                "clock_start": created,
                "action": "none",
                "reason": "bench",
                "assessed_at": NOW,
            }
        )
    _bulk(c, Change, changes)
    _bulk(c, PatchSet, patch_sets)
    _bulk(c, QueueState, queue)
    _seed_reviews(c, args)


def _seed_reviews(c: Any, args: argparse.Namespace) -> None:
    """An evaluation of each change's patch set, with 10 findings."""
    evaluations = [
        {
            "change_number": n,
            "patch_set_number": 1,
            "policy_digest": "bench",
            "purpose": "api-review",
            "status": "succeeded",
            "started_at": NOW,
            "finished_at": NOW,
            "error_count": 2,
            "warning_count": 6,
            "info_count": 2,
        }
        for n in range(1, args.changes + 1)
    ]
    _bulk(c, Evaluation, evaluations)
    eval_ids = dict(c.execute(text("SELECT change_number, id FROM evaluations")).all())
    change_findings = [
        {
            "evaluation_id": eval_ids[n],
            "rule": RULES[i % len(RULES)],
            "name": "bench-rule",
            "severity": SEVERITIES[i % 4],
            "audience": Audience.EXTERNAL,
            "file": f"api-specs/service-{n % args.projects:02d}.yaml",
            "line": i,
            "pointer": "/paths",
            "message": f"finding {i} on change {n}",
            "fingerprint": f"{n:08x}{i:08x}",
            "side": "head",
            "scope": "new",
        }
        for n in range(1, args.changes + 1)
        for i in range(10)
    ]
    _copy(c, FindingRecord, change_findings)


def _seed_governance(c: Any, args: argparse.Namespace, api_ids: list[int]) -> None:
    """Escalations for 2 % of the changes, cross-service findings, a digest."""
    escalations = [
        {
            "change_number": n,
            "project": f"openstack/service-{n % args.projects:02d}-api",
            "branch": "master",
            "subject": f"Change {n}",
            "owner": "dev",
            "episode_start": NOW - dt.timedelta(days=3),
            "stage": "escalate",
            "assignee": f"tc{n % 9}",
            "reason": "least loaded",
            "waited_days": 3.0,
            "created_at": NOW - dt.timedelta(days=1),
            "acted_at": NOW - dt.timedelta(days=1),
            "detail": {},
        }
        for n in range(1, args.changes + 1, 50)
    ]
    _bulk(c, Escalation, escalations)
    cross = [
        {
            "api_id": api_ids[i % len(api_ids)],
            "rule": "CON081",
            "name": "field-name-variant",
            "severity": Severity.WARNING,
            "audience": Audience.EXTERNAL,
            "file": "x.yaml",
            "line": i,
            "pointer": "/components",
            "message": f"`project_id` is spelled `projectId` ({i})",
            "fingerprint": f"{i:016x}",
            "computed_at": NOW,
        }
        for i in range(1000)
    ]
    _bulk(c, CrossFinding, cross)
    c.execute(
        insert(DigestRecord).values(
            period_start=NOW - dt.timedelta(days=7),
            period_end=NOW,
            created_at=NOW,
            text="digest",
            html="<p>digest</p>",
            data={"headline": {}},
        )
    )


def seed(engine: Any, args: argparse.Namespace) -> list[int]:
    """Fill the schema in one transaction; returns the API ids."""
    rng = random.Random(42)
    api_ids: list[int] = []
    project_ids: list[int] = []
    with engine.begin() as c:
        for p in range(args.projects):
            name = f"openstack/service-{p:02d}-api"
            project_ids.append(
                c.execute(
                    insert(Project).values(name=name, created_at=NOW).returning(Project.id)
                ).scalar_one()
            )
            api_ids.append(_seed_api(c, args, rng, p, name))
        _seed_changes(c, args, rng, project_ids)
        _seed_governance(c, args, api_ids)
    with engine.connect() as c:
        # As autovacuum would after a bulk load: statistics and the visibility map.
        c.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    return api_ids


# --- the load client (the second process) -------------------------------------------------------


def load_client(
    base: str, api_ids: list[int], threads: int, seconds: float, limit: int, out: Any
) -> None:
    """Request the pages from ``threads`` threads; send {page: [latencies]} and errors back."""
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    counter = {"n": 0}
    results: dict[str, list[float]] = {"overview": [], "api": []}
    errors: list[str] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        turn = seed
        while time.monotonic() < deadline:
            with lock:
                if counter["n"] >= limit:
                    return
                counter["n"] += 1
            turn += 1
            page = "overview" if turn % 2 else "api"
            path = "/" if page == "overview" else f"/apis/{rng.choice(api_ids)}"
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(base + path, timeout=30) as response:
                    response.read()
                    ok = response.status == 200
            except Exception as exc:  # counted, reported
                ok = False
                errors.append(f"{path}: {exc}")
            elapsed = time.perf_counter() - start
            if ok:
                with lock:
                    results[page].append(elapsed)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    out.send(
        {
            "results": results,
            "errors": errors[:20],
            "error_count": len(errors),
            "wall": time.perf_counter() - started,
        }
    )
    out.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _backend_cpu(engine: Any, schema: str) -> dict[int, float]:
    """CPU seconds (user + system) so far of each PostgreSQL backend serving the benchmark
    (found by its application_name); empty when the server's /proc is not this machine's."""
    with engine.connect() as c:
        pids = c.execute(
            text("SELECT pid FROM pg_stat_activity WHERE application_name = :a"), {"a": schema}
        ).scalars()
        out = {}
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return out


def _process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _unloaded(base: str, api_ids: list[int]) -> dict[str, list[float]]:
    """One request at a time, 20 per page (after one warm-up request each)."""
    for path in ("/", f"/apis/{api_ids[0]}"):  # warm up (templates, caches)
        urllib.request.urlopen(base + path, timeout=30).read()
    single: dict[str, list[float]] = {"overview": [], "api": []}
    for i in range(20):
        for page, path in (("overview", "/"), ("api", f"/apis/{api_ids[i % len(api_ids)]}")):
            t0 = time.perf_counter()
            urllib.request.urlopen(base + path, timeout=30).read()
            single[page].append(time.perf_counter() - t0)
    return single


def _under_load(
    base: str, api_ids: list[int], args: argparse.Namespace, engine: Any, schema: str
) -> dict[str, Any]:
    """The load client's report, with the CPU the server process and its backends spent."""
    receive, send = multiprocessing.Pipe(duplex=False)
    ctx = multiprocessing.get_context("spawn")
    client = ctx.Process(
        target=load_client,
        args=(base, api_ids, args.threads, args.seconds, args.requests, send),
    )
    db_before = _backend_cpu(engine, schema)
    cpu_before = _process_cpu()
    client.start()
    send.close()
    report = receive.recv()
    # The main thread only waits meanwhile: this process's CPU is the server's.
    report["server_cpu"] = _process_cpu() - cpu_before
    client.join(timeout=60)
    db_after = _backend_cpu(engine, schema)
    report["db_cpu"] = sum(v - db_before.get(pid, 0.0) for pid, v in db_after.items())
    return report


def _print_report(args: argparse.Namespace, single: dict[str, Any], report: dict[str, Any]) -> int:
    print(
        "unloaded (one request at a time, 20 each): "
        + ", ".join(f"{k} p50 {statistics.median(v) * 1000:.1f} ms" for k, v in single.items())
    )
    total = sum(len(v) for v in report["results"].values())
    print(
        f"under load ({args.threads} threads): {total} requests in {report['wall']:.1f} s "
        f"({total / report['wall']:.0f} req/s), {report['error_count']} errors"
    )
    if total:
        print(
            f"  CPU per request: server process {report['server_cpu'] / total * 1000:.1f} ms, "
            f"its PostgreSQL backends {report['db_cpu'] / total * 1000:.1f} ms "
            f"(machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
        )
    worst = 0.0
    for page, values in report["results"].items():
        if not values:
            continue
        p50, p95, p99 = (percentile(values, q) * 1000 for q in (0.5, 0.95, 0.99))
        worst = max(worst, p95)
        print(
            f"  {page:<8} n={len(values):>5}  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  "
            f"p99 {p99:6.1f} ms  max {max(values) * 1000:6.1f} ms"
        )
    for error in report["errors"]:
        print(f"  error: {error}")
    print(f"target p95 < 200 ms: {'met' if worst < 200 else 'NOT met'} (worst p95 {worst:.1f} ms)")
    return 0 if report["error_count"] == 0 else 1


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=12)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--database", default=DEFAULT_DB)
    args = parser.parse_args()
    if not 1 <= args.threads <= 64 or args.seconds > 600 or args.requests > 100_000:
        parser.error("keep the load bounded: 1-64 threads, at most 600 s and 100,000 requests")
    return args


def _count_rows(engine: Any) -> dict[str, int]:
    tables = ("api_specs", "api_snapshots", "snapshot_findings", "changes", "findings")
    with engine.connect() as c:
        return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}


def main() -> int:
    args = _parse_args()
    logging.basicConfig(level=logging.WARNING)
    schema = f"govbot_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(args.database)
    with admin.begin() as c:
        c.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = make_url(args.database).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    )
    url_text = url.render_as_string(hide_password=False)
    engine = make_engine(url_text, pool_size=16, max_overflow=8)
    try:
        upgrade(url_text)
        started, cpu = time.perf_counter(), _process_cpu()
        api_ids = seed(engine, args)
        print(
            f"seeded schema {schema} in {time.perf_counter() - started:.1f} s "
            f"({_process_cpu() - cpu:.1f} s CPU here): {json.dumps(_count_rows(engine))}"
        )
        settings = Settings()
        app = create_app(settings, engine, policy=load_policy(ROOT / "policies"), now=lambda: NOW)
        with WebServer(app, "127.0.0.1", 0, threads=settings.web_threads) as server:
            single = _unloaded(server.url, api_ids)
            report = _under_load(server.url, api_ids, args, engine, schema)
        print(
            f"server: govbot.web.WebServer (werkzeug, {settings.web_threads} worker threads) at "
            f"{server.url}; "
            f"load client: separate process, {args.threads} threads"
        )
        return _print_report(args, single, report)
    finally:
        engine.dispose()
        with admin.begin() as c:
            c.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
