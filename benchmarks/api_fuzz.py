#!/usr/bin/env python3
"""The JSON API soaked by schemathesis: a random seed, many examples, every check and phase.

Starts ``govbot demo --web-port 0`` (the sandbox Gerrit, its changes reviewed, the
projects' history indexed, the dashboard served), or uses the govbot at ``--url``, and
runs schemathesis from ``api-specs/govbot.yaml`` against its ``/api``: every check
(``--checks all``), the examples, coverage, fuzzing and stateful phases, ``--examples``
per operation (100) with ``--seed`` (default: a random one, printed, so a failure can be
replayed). Prints the requests made, the time taken and the verdict; exits 1 on any
failure. The test suite runs the same with a fixed seed and 10 examples
(``tests/web/test_fuzz.py``).

Usage: python benchmarks/api_fuzz.py [--seed N] [--examples 100] [--runs 1]
                                     [--url http://127.0.0.1:8080] [--report-dir DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "web"))

from fuzz_support import run_schemathesis  # noqa: E402

GOVBOT = Path(sys.executable).parent / "govbot"


@contextlib.contextmanager
def govbot_demo(workdir: Path, timeout: float = 600) -> Iterator[str]:
    """``govbot demo`` until it serves; its dashboard URL; stopped with Ctrl-C after."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_")}
    env["GOVBOT_CACHE_DIR"] = str(workdir / "cache")
    log = (workdir / "demo.stderr").open("w")
    proc = subprocess.Popen(
        [str(GOVBOT), "demo", "--web-port", "0"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert proc.stdout is not None
        seen = ""
        deadline = time.monotonic() + timeout
        for line in proc.stdout:
            seen += line
            if "Press Ctrl-C" in line or time.monotonic() > deadline:
                break
        found = re.search(r"Open the dashboard: (http://127\.0\.0\.1:\d+)/", seen)
        if not found:
            raise SystemExit(f"govbot demo did not start:\n{seen}")
        yield found.group(1)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, help="default: a random seed (printed)")
    parser.add_argument("--examples", type=int, default=100, help="per operation")
    parser.add_argument("--runs", type=int, default=1, help="runs, each with its own seed")
    parser.add_argument("--url", help="a running govbot (default: start `govbot demo`)")
    parser.add_argument("--report-dir", type=Path, help="where the HAR reports go")
    args = parser.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="govbot-fuzz-") as tmp, contextlib.ExitStack() as stack:
        base = args.url.rstrip("/") if args.url else stack.enter_context(govbot_demo(Path(tmp)))
        reports = args.report_dir or Path(tmp) / "reports"
        print(f"govbot at {base}; reports in {reports}", flush=True)
        for i in range(args.runs):
            seed = (
                args.seed + i if args.seed is not None else random.SystemRandom().randrange(2**31)
            )
            run = run_schemathesis(
                f"{base}/api", seed=seed, max_examples=args.examples, report_dir=reports
            )
            print(run.summary, flush=True)
            if run.returncode != 0:
                failed += 1
                print(run.output[-30_000:], flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
