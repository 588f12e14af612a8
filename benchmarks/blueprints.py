#!/usr/bin/env python3
"""Time `govbot blueprint` on every design spec of a directory (a specs repository's checkout).

Two measures:

* the command itself, as a user runs it: ``govbot blueprint --format json DIR`` in a
  child process, its wall time and its exit code (0 or 1; 2 or a traceback is a crash);
* each spec in this process (parse, find and read the templates, judge, findings), its
  CPU time, so that the time per spec and the slowest specs are known.

The verdicts are counted, not checked: the labelled sets are measured by the tests
(tests/blueprints/test_corpora.py). Their speed is measured here, never asserted in a
test (a shared machine makes any time limit flaky):
``python benchmarks/blueprints.py tests/data/specs/nova tests/data/specs/manila``.

Usage: python benchmarks/blueprints.py DIR [DIR ...] [--govbot .venv/bin/govbot]

A specs repository from a git mirror: ``git -C MIRROR archive HEAD specs | tar -x -C DIR``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from govbot.blueprints import clear_caches
from govbot.policy import load_policy
from govbot.services.spec_review import check_specs, spec_files

ROOT = Path(__file__).resolve().parents[1]


def run_command(govbot: str, directory: Path) -> tuple[float, int, list[dict[str, object]], str]:
    start = time.perf_counter()
    proc = subprocess.run(
        [govbot, "blueprint", "--format", "json", str(directory)],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    objects = json.loads(proc.stdout) if proc.returncode in (0, 1) and proc.stdout else []
    return elapsed, proc.returncode, objects, proc.stderr


def per_spec(directory: Path) -> list[tuple[float, Path, str]]:
    policy = load_policy(ROOT / "policies")
    clear_caches()
    out = []
    for path in spec_files([directory]):
        start = time.process_time()
        (report,) = check_specs([path], policy)
        out.append((time.process_time() - start, path, report.verdict.verdict.value))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--govbot", default=str(Path(sys.executable).with_name("govbot")))
    args = parser.parse_args()
    crashed = False
    for directory in args.dirs:
        elapsed, code, objects, stderr = run_command(args.govbot, directory)
        crash = code not in (0, 1) or "Traceback" in stderr
        crashed |= crash
        counts = Counter(f"{o['verdict']}/{o['strength']}" for o in objects)
        print(f"== {directory}")
        print(
            f"govbot blueprint --format json: exit {code}{' (CRASH)' if crash else ''}, "
            f"{len(objects)} specs in {elapsed:.2f} s wall "
            f"({1000 * elapsed / max(1, len(objects)):.1f} ms per spec, process start included)"
        )
        if crash:
            print(stderr[-2000:])
        for key, n in sorted(counts.items()):
            print(f"  {n:4d} {key}")
        times = per_spec(directory)
        cpu = [t for t, _, _ in times]
        print(
            f"in process: {len(cpu)} specs, {sum(cpu):.2f} s CPU, median "
            f"{1000 * statistics.median(cpu):.1f} ms, p95 "
            f"{1000 * sorted(cpu)[int(0.95 * (len(cpu) - 1))]:.1f} ms, max {1000 * max(cpu):.1f} ms"
        )
        for t, path, verdict in sorted(times, reverse=True)[:3]:
            print(f"  slowest: {1000 * t:.1f} ms {path.relative_to(directory)} ({verdict})")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
