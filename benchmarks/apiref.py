"""Benchmark: ``check --base`` of two nova releases' api-ref, beside a sphinx-build of it.

The full path govbot runs for ``govbot check --base OLD/api-ref/source NEW/api-ref/source``:
read both trees with their projects (the ledger that gives ``info.version``, the policy
defaults that give the audience), classify, diff, every rule, the evaluation. The sources are nova's sdists from PyPI (tests/realdata/sdists.py, cached in
.cache/sdists). Target: at most 1 s wall on the project machine (2 cores, shared); the
CPU time per run and the peak resident memory of the process are printed too, since
the wall time depends on what else the machine runs.

``--sphinx`` also times what a reviewer runs today: ``sphinx-build`` of the head api-ref
with os-api-ref and openstackdocstheme installed from PyPI into a throwaway venv under
.cache/bench (conf.py is the release's own, run by Sphinx there, never by govbot).

Usage: python benchmarks/apiref.py [--base nova==20.0.0] [--head nova==21.0.0] [--runs 5] [--sphinx]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from govbot.apiref.project import facts_of  # noqa: E402
from govbot.apiref.tree import read_api_ref  # noqa: E402
from govbot.policy import load_policy  # noqa: E402
from govbot.services.check import check_files  # noqa: E402
from tests.realdata.sdists import fetch  # noqa: E402

SPHINX_PACKAGES = ["sphinx", "os-api-ref", "openstackdocstheme"]


def one_check(base_tree: Path, head_tree: Path) -> tuple[float, float, float, int, int, int]:
    """(read seconds, total seconds, total CPU seconds, operations, parameters, findings)
    of the full path."""
    policy = load_policy(ROOT / "policies")
    start = time.perf_counter()
    specs = [read_api_ref(tree / "api-ref" / "source") for tree in (base_tree, head_tree)]
    read = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    report = check_files(
        [head_tree / "api-ref" / "source"],
        base_files=[base_tree / "api-ref" / "source"],
        policy=policy,
        today=dt.date(2026, 11, 21),
    )
    total, cpu = time.perf_counter() - start, time.process_time() - cpu
    facts = facts_of(specs[1])
    assert facts is not None and facts.api is not None
    api = facts.api
    return read, total, cpu, len(api.operations), api.parameter_count, len(report.findings)


def sphinx(head_tree: Path) -> None:
    bench = ROOT / ".cache" / "bench"
    env_dir = bench / "sphinx-venv"
    python = env_dir / "bin" / "python"
    if not python.exists():
        venv.create(env_dir, with_pip=True)
        proc = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *SPHINX_PACKAGES],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        if proc.returncode != 0:
            print(f"sphinx-build: cannot install {SPHINX_PACKAGES}: {proc.stderr.strip()[-300:]}")
            return
    with tempfile.TemporaryDirectory(dir=bench) as out:
        start = time.perf_counter()
        proc = subprocess.run(
            [
                str(env_dir / "bin" / "sphinx-build"),
                "-q",
                "-b",
                "html",
                str(head_tree / "api-ref" / "source"),
                out,
            ],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        wall = time.perf_counter() - start
    status = (
        "ok" if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
    )
    print(f"sphinx-build -b html of the head api-ref: {wall:.2f} s wall ({status})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="nova==20.0.0")
    parser.add_argument("--head", default="nova==21.0.0")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sphinx", action="store_true")
    args = parser.parse_args()
    base_tree, head_tree = fetch(args.base), fetch(args.head)
    one_check(base_tree, head_tree)  # warm-up: imports, the policy, the rule registry
    walls, reads, cpus = [], [], []
    for _ in range(args.runs):
        read, total, cpu, ops, params, findings = one_check(base_tree, head_tree)
        walls.append(total)
        reads.append(read)
        cpus.append(cpu)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"check --base {args.base} -> {args.head} api-ref: {ops} operations, {params} "
        f"parameters (head), {findings} findings"
    )
    print(
        f"  wall: median {statistics.median(walls):.3f} s, min {min(walls):.3f} s "
        f"(reading both trees: median {statistics.median(reads):.3f} s); "
        f"CPU median {statistics.median(cpus):.3f} s; {args.runs} runs; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    print(f"  peak resident memory: {peak:.0f} MiB")
    if args.sphinx:
        if shutil.which("git") is None:
            print("note: pbr (os-api-ref's build) may want git")
        sphinx(head_tree)


if __name__ == "__main__":
    main()
