#!/usr/bin/env python3
"""Intake at scale: the poll over 10,000 open changes, and upload-to-review latency.

Seeds the sandbox Gerrit (over real HTTP on 127.0.0.1) with one project holding a real
OpenStack spec (block storage v3.70 by default) and ``--changes`` open changes, of
which ``--spec-share`` (1 %) edit the spec and the rest edit source files. Then:

1. **first full pass**: the first poll (no cursor), with Gerrit selecting the changes by
   path (``file:"^regex"``); and again, on a fresh database, without the file filter
   (a host that disables regex search), where every open change is listed and queued;
2. **quiet incremental poll**: the poll right after, when nothing changed;
3. **latency with webhook intake**: govbot as ``govbot serve`` runs it (scheduler jobs,
   web app, webhook wired to the sandbox, poll interval one hour so only the webhook
   counts) while ``--uploads`` new patch sets are uploaded one after another; the time
   from the upload to the sandbox receiving govbot's review of that patch set.

REST calls are the requests the sandbox answered; wall times include the sandbox's own
work (it is in the same process, answering on its own threads), which is shown apart.

Usage: python benchmarks/poll.py [--changes 10000] [--spec-share 0.01] [--uploads 20]
                                 [--spec block-storage|compute] [--database URL]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from govbot.db import make_engine, upgrade  # noqa: E402
from govbot.db.models import utcnow  # noqa: E402
from govbot.gerrit.client import GerritClient  # noqa: E402
from govbot.jobs import Jobs  # noqa: E402
from govbot.policy import load_policy  # noqa: E402
from govbot.sandbox import (  # noqa: E402
    Sandbox,
    lifecycle,
    people,
)
from govbot.sandbox.seed import BOT_PASSWORD, BOT_USERNAME, DEMO_LABELS  # noqa: E402
from govbot.services.intake import PollResult, poll_once  # noqa: E402
from govbot.settings import Settings  # noqa: E402
from govbot.web import WebServer, create_app  # noqa: E402

PROJECT = "bench/api"
SPEC_PATH = "api-specs/api.yaml"
SPECS = {
    "block-storage": "openstack-specs/block-storage-v3.70.yaml",
    "compute": "openstack-specs/compute-v2.96.yaml",
}
SECRET = "bench-secret"
WEEK = dt.timedelta(days=7)


def seed(sandbox: Sandbox, changes: int, share: float, spec: str) -> list[int]:
    """The project and its open changes; the numbers of those that edit the spec."""
    sandbox.seed("empty")
    people.add_account(sandbox, "alice", "Alice", password="alice-pw")
    lifecycle.add_project(
        sandbox, PROJECT, {SPEC_PATH: spec, "src/main.py": "print('hi')\n"}, labels=DEMO_LABELS
    )
    every = max(1, round(1 / share)) if share > 0 else changes + 1
    spec_changes = []
    # Uploads spread over the last week, as on a busy Gerrit (not all in this second).
    start = sandbox.now() - WEEK
    step = WEEK / max(changes, 1)
    for i in range(changes):
        if i % every == 0:
            files = {SPEC_PATH: spec + f"# change {i}\n"}
        else:
            files = {f"src/module_{i}.py": f"VALUE = {i}\n"}
        change = lifecycle.create_change(
            sandbox,
            PROJECT,
            subject=f"Change {i}",
            files=files,
            owner="alice",
            created=start + i * step,
        )
        if i % every == 0:
            spec_changes.append(change.number)
    return spec_changes


def timed_poll(
    sandbox: Sandbox, client: GerritClient, engine, settings: Settings, policy
) -> tuple[PollResult, int, float, float]:
    """(result, REST calls, wall seconds, seconds the sandbox spent answering)."""
    sandbox.clear_requests()
    started = time.perf_counter()
    result = poll_once(client, engine, settings, policy, utcnow())
    wall = time.perf_counter() - started
    with sandbox.lock:
        calls = len(sandbox.requests)
        server = sum(r.seconds for r in sandbox.requests)
    return result, calls, wall, server


def database(url: str | None, tmp: Path, name: str) -> str:
    if url:
        return url
    return f"sqlite:///{tmp / name}"


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def measure_latency(
    sandbox: Sandbox,
    settings: Settings,
    policy,
    spec_changes: list[int],
    spec: str,
    uploads: int,
    tmp: Path,
    db_url: str | None,
) -> list[float]:
    """Seconds from each upload to govbot's review of it arriving at the sandbox."""
    url = database(db_url, tmp, "latency.db")
    upgrade(url)
    engine = make_engine(url)
    client = GerritClient.from_settings(settings)
    posted: dict[tuple[int, int], float] = {}
    arrived = threading.Condition()

    def on_event(event: dict) -> None:
        author = (event.get("author") or {}).get("username")
        if event.get("type") == "comment-added" and author == BOT_USERNAME:
            key = (event["change"]["number"], event["patchSet"]["number"])
            with arrived:
                posted[key] = time.perf_counter()
                arrived.notify_all()

    sandbox.listeners.append(on_event)
    live = dataclasses.replace(settings, poll_interval=3600.0, worker_interval=5.0)
    jobs = Jobs(live, engine, client, policy)
    app = create_app(live, engine, wake=jobs.wake)
    latencies: list[float] = []
    with WebServer(app, "127.0.0.1", 0) as web:
        sandbox.set_webhook(f"{web.url}/hooks/gerrit?secret={SECRET}")
        jobs.start(poll_now=False)
        try:
            for i in range(uploads):
                number = spec_changes[i % len(spec_changes)]
                started = time.perf_counter()
                ps = lifecycle.add_patchset(
                    sandbox, number, {SPEC_PATH: spec + f"# upload {i}\n"}
                ).number
                key = (number, ps)
                with arrived:
                    if not arrived.wait_for(lambda k=key: k in posted, timeout=120):
                        raise RuntimeError(f"no review of change {number} patch set {ps}")
                latencies.append(posted[key] - started)
                time.sleep(0.1)
        finally:
            jobs.shutdown()
            sandbox.set_webhook(None)
            sandbox.listeners.remove(on_event)
            client.close()
            engine.dispose()
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--spec-share", type=float, default=0.01)
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--spec", choices=sorted(SPECS), default="block-storage")
    parser.add_argument("--database", help="database URL (default: SQLite files in a temp dir)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    os.environ.setdefault("GOVBOT_CACHE_DIR", str(ROOT / ".cache" / "bench-govbot"))

    spec = (resources.files("govbot.sandbox") / "data" / SPECS[args.spec]).read_text("utf-8")
    policy = load_policy(ROOT / "policies")
    with tempfile.TemporaryDirectory(prefix="govbot-bench-") as tmp_name, Sandbox() as sandbox:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        spec_changes = seed(sandbox, args.changes, args.spec_share, spec)
        print(
            f"seeded {args.changes} open changes ({len(spec_changes)} edit {SPEC_PATH}, "
            f"{args.spec} spec of {len(spec) // 1024} KiB) in {time.perf_counter() - started:.1f} s"
        )
        settings = Settings(
            gerrit_url=sandbox.url,
            gerrit_username=BOT_USERNAME,
            gerrit_password=BOT_PASSWORD,
            gerrit_projects=(PROJECT,),
            webhook_secret=SECRET,
        )
        client = GerritClient.from_settings(settings)

        def report(label: str, run: Callable[[], tuple[PollResult, int, float, float]]) -> None:
            result, calls, wall, server = run()
            assert result.ok, result.errors
            print(
                f"  {label:<44} {calls:>3} REST calls  {wall * 1000:8.1f} ms wall "
                f"({server * 1000:7.1f} ms in the sandbox)  {len(result.queued):>5} queued"
            )

        print("poll:")
        for name, filtered in (("filtered", True), ("unfiltered", False)):
            url = database(args.database, tmp, f"{name}.db")
            upgrade(url)
            engine = make_engine(url)
            run_settings = dataclasses.replace(settings, gerrit_file_filter=filtered)
            how = "file filter" if filtered else "no file filter"
            report(
                f"first full pass ({how})",
                lambda: timed_poll(sandbox, client, engine, run_settings, policy),  # noqa: B023
            )
            report(
                f"quiet incremental poll ({how})",
                lambda: timed_poll(sandbox, client, engine, run_settings, policy),  # noqa: B023
            )
            engine.dispose()
            if args.database:
                break  # one shared database: the second pass would find everything queued
        client.close()

        if args.uploads:
            latencies = measure_latency(
                sandbox, settings, policy, spec_changes, spec, args.uploads, tmp, args.database
            )
            print(f"upload -> posted review, webhook intake, {len(latencies)} uploads:")
            print(
                f"  p50 {statistics.median(latencies):.3f} s   p95 {quantile(latencies, 0.95):.3f} s"
                f"   min {min(latencies):.3f} s   max {max(latencies):.3f} s"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
