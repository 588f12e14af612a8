#!/usr/bin/env python3
"""Upload-to-review latency over ``gerrit stream-events`` (real SSH), on the sandbox and
on a real Gerrit 3.10.

govbot runs as ``govbot serve`` runs it (the scheduler's jobs in this process, SQLite),
listening to stream-events over SSH with the host key pinned; the poll runs once an hour,
so only the stream counts. ``--uploads`` new patch sets of one change are uploaded one
after another: on the sandbox through its API, on real Gerrit with ``git push`` over HTTP.
A second stream-events session, the observer, times each one: from the
``patchset-created`` event (the upload is complete on the server) to the
``comment-added`` event of govbot's review of that patch set. Every patch set must get
exactly one review. The settle delay (``GOVBOT_GERRIT_EVENT_SETTLE``, 0.5 s) is included.

The real Gerrit is the tests' (tests/contract/real_gerrit.py): its jars come from Maven
Central (cached in ~/.cache/govbot/gerrit), it needs Java 17, and it starts in tens of
seconds.

Usage: python benchmarks/stream.py [--server sandbox|real|both] [--uploads 20]
                                   [--spec pets|block-storage|compute]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from govbot.db import make_engine, upgrade  # noqa: E402
from govbot.gerrit.client import GerritClient  # noqa: E402
from govbot.jobs import Jobs  # noqa: E402
from govbot.policy import load_policy  # noqa: E402
from govbot.sandbox import Sandbox, lifecycle, people  # noqa: E402
from govbot.sandbox.seed import BOT_PASSWORD, BOT_USERNAME, DEMO_LABELS  # noqa: E402
from govbot.sandbox.ssh import new_key  # noqa: E402
from govbot.services.stream import COMMAND, StreamConfig, connect  # noqa: E402
from govbot.settings import Settings  # noqa: E402
from tests.contract import real_gerrit  # noqa: E402

PROJECT = "bench/api"
SPEC_PATH = "api-specs/api.yaml"
SPECS = {
    "block-storage": "openstack-specs/block-storage-v3.70.yaml",
    "compute": "openstack-specs/compute-v2.96.yaml",
}
PETS = """\
openapi: 3.1.0
info:
  title: Pets
  version: '1.0'
paths:
  /pets:
    get:
      operationId: listPets
      responses:
        '200':
          description: Ok
"""


@dataclass
class Target:
    """A server to measure: its URL, SSH endpoint, and how to upload patch set ``i``."""

    name: str
    url: str
    ssh_port: int
    key_file: Path
    known_hosts: Path
    upload: Callable[[int], None]


class Observer:
    """A stream-events session of its own that timestamps what happens on the server."""

    def __init__(self, config: StreamConfig) -> None:
        self.client = connect(config)
        transport = self.client.get_transport()
        assert transport is not None
        self.channel = transport.open_session(timeout=60)
        self.channel.exec_command(COMMAND)
        self.channel.settimeout(0.2)
        self.created: dict[tuple[int, int], float] = {}
        self.reviewed: dict[tuple[int, int], float] = {}
        self.reviews: Counter[tuple[int, int]] = Counter()
        self.cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        buffer = b""
        while not self._stop.is_set():
            try:
                chunk = self.channel.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return
            now = time.perf_counter()
            *lines, buffer = (buffer + chunk).split(b"\n")
            for line in lines:
                if line.strip():
                    self._note(json.loads(line), now)

    def _note(self, event: dict, now: float) -> None:
        kind = event.get("type")
        change = (event.get("change") or {}).get("number")
        ps = (event.get("patchSet") or {}).get("number")
        if change is None or ps is None:
            return
        key = (int(change), int(ps))
        author = (event.get("author") or {}).get("username")
        with self.cond:
            if kind == "patchset-created":
                self.created[key] = now
            elif (
                kind == "comment-added"
                and author == BOT_USERNAME
                and "API review" in (event.get("comment") or "")
            ):
                self.reviews[key] += 1
                self.reviewed.setdefault(key, now)
            self.cond.notify_all()

    def wait(self, predicate: Callable[[], bool], timeout: float) -> bool:
        with self.cond:
            return self.cond.wait_for(predicate, timeout=timeout)

    def close(self) -> None:
        self._stop.set()
        self.client.close()
        self._thread.join(5)


def measure(target: Target, uploads: int, tmp: Path) -> tuple[list[float], Counter]:
    """Seconds from each upload to govbot's review of it, and reviews per patch set."""
    url = f"sqlite:///{tmp / f'{target.name}.db'}"
    upgrade(url)
    engine = make_engine(url)
    settings = Settings(
        gerrit_url=target.url,
        gerrit_username=BOT_USERNAME,
        gerrit_password=BOT_PASSWORD,
        gerrit_projects=(PROJECT,),
        gerrit_ssh_host="127.0.0.1",
        gerrit_ssh_port=target.ssh_port,
        gerrit_ssh_key_file=str(target.key_file),
        gerrit_ssh_known_hosts=str(target.known_hosts),
        poll_interval=3600.0,
        worker_interval=5.0,
    )
    config = StreamConfig.from_settings(settings)
    assert config is not None
    client = GerritClient.from_settings(settings)
    jobs = Jobs(settings, engine, client, load_policy(ROOT / "policies"))
    observer = Observer(config)
    latencies: list[float] = []
    try:
        jobs.start()
        assert jobs.stream is not None and jobs.stream.wait_connected(120)
        # Gerrit subscribes a session a moment after it connects: the first upload is a
        # warm-up that both sessions must have seen (not timed).
        first = _uploaded(observer, target, 0, timeout=180)
        observer.wait(lambda: first in observer.reviewed, 120)
        for i in range(1, uploads + 1):
            key = _uploaded(observer, target, i, timeout=120)
            if not observer.wait(lambda k=key: k in observer.reviewed, 120):
                raise RuntimeError(f"{target.name}: no review of patch set {key}")
            latencies.append(observer.reviewed[key] - observer.created[key])
        time.sleep(1.0)  # a second review of the last patch set would arrive by now
    finally:
        jobs.shutdown()
        observer.close()
        client.close()
        engine.dispose()
    return latencies, observer.reviews


def _uploaded(observer: Observer, target: Target, i: int, *, timeout: float) -> tuple[int, int]:
    """Upload patch set ``i`` (again every 10 s until the observer sees one); its key."""
    seen = set(observer.created)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        target.upload(i)
        if observer.wait(lambda: set(observer.created) - seen, 10):
            return max(set(observer.created) - seen)
    raise RuntimeError(f"{target.name}: the observer saw no upload")


@contextlib.contextmanager
def sandbox_target(tmp: Path, spec: str) -> Iterator[Target]:
    with Sandbox() as sandbox:
        sandbox.seed("empty")
        people.add_account(sandbox, "alice", "Alice", password="alice-pw")
        lifecycle.add_project(sandbox, PROJECT, {SPEC_PATH: spec}, labels=DEMO_LABELS)
        number = lifecycle.create_change(
            sandbox, PROJECT, subject="Bench", files={SPEC_PATH: spec + "# 0\n"}, owner="alice"
        ).number
        ssh = sandbox.start_ssh()
        key = new_key()
        people.add_ssh_key(sandbox, BOT_USERNAME, key.public)
        key_file, known_hosts = tmp / "sandbox_id", tmp / "sandbox_known_hosts"
        key.write(key_file)
        known_hosts.write_text(ssh.known_hosts_line + "\n")

        def upload(i: int) -> None:
            lifecycle.add_patchset(sandbox, number, {SPEC_PATH: spec + f"# upload {i}\n"})

        yield Target("sandbox", sandbox.url, ssh.port, key_file, known_hosts, upload)


@contextlib.contextmanager
def real_target(tmp: Path, spec: str) -> Iterator[Target]:
    java = shutil.which("java")
    if java is None:
        raise SystemExit("benchmarks/stream.py: the real Gerrit needs Java 17 (java on PATH)")
    started = time.perf_counter()
    # Gerrit's default: no download limit (the tests set one to show its 400).
    gerrit = real_gerrit.start(tmp / "site", java, {"change.maxFileSizeDownload": "0"})
    print(f"real Gerrit {real_gerrit.VERSION} started in {time.perf_counter() - started:.1f} s")
    try:
        key = new_key()
        key_file, known_hosts = tmp / "real_id", tmp / "real_known_hosts"
        key.write(key_file)
        known_hosts.write_text(gerrit.known_hosts())
        gerrit.add_account(BOT_USERNAME, BOT_PASSWORD, ssh_key=key.public)
        gerrit.rest("POST", "groups/Service%20Users/members", json={"members": [BOT_USERNAME]})
        gerrit.add_account("alice", "alice-pw")
        gerrit.add_project(PROJECT)
        admin = gerrit.workspace(tmp / "admin.git", PROJECT, real_gerrit.ADMIN)
        admin.push(admin.commit({SPEC_PATH: spec}, "Spec")[0], "refs/heads/master")
        alice = gerrit.workspace(tmp / "alice.git", PROJECT, ("alice", "alice-pw"))
        change_id = "I" + os.urandom(20).hex()

        def upload(i: int) -> None:
            sha, _ = alice.commit(
                {SPEC_PATH: spec + f"# upload {i}\n"}, "Bench", change_id=change_id
            )
            alice.push_for_review(sha, change_id)

        yield Target("real", gerrit.url, gerrit.ssh_port, key_file, known_hosts, upload)
    finally:
        gerrit.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=["sandbox", "real", "both"], default="both")
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--spec", choices=["pets", *sorted(SPECS)], default="block-storage")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    os.environ.setdefault("GOVBOT_CACHE_DIR", str(ROOT / ".cache" / "bench-govbot"))
    if args.spec == "pets":
        spec = PETS
    else:
        data = resources.files("govbot.sandbox") / "data" / SPECS[args.spec]
        spec = data.read_text("utf-8")
    servers = ["sandbox", "real"] if args.server == "both" else [args.server]
    with tempfile.TemporaryDirectory(prefix="govbot-bench-stream-") as tmp_name:
        tmp = Path(tmp_name)
        for name in servers:
            make = sandbox_target if name == "sandbox" else real_target
            with make(tmp, spec) as target:
                latencies, reviews = measure(target, args.uploads, tmp)
            once = all(n == 1 for n in reviews.values())
            print(
                f"{name}: upload -> posted review over stream-events (SSH), {args.spec} spec, "
                f"{len(latencies)} uploads: p50 {statistics.median(latencies):.3f} s   "
                f"p95 {_quantile(latencies, 0.95):.3f} s   min {min(latencies):.3f} s   "
                f"max {max(latencies):.3f} s   one review per patch set: {once}"
            )
            if not once:
                print(f"  reviews per patch set: {dict(reviews)}")
    return 0


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


if __name__ == "__main__":
    sys.exit(main())
