"""schemathesis against a running govbot: the JSON API measured by a client that reads
the same description (``api-specs/govbot.yaml``) and generates requests from it.

Shared by ``tests/web/test_fuzz.py`` (a fixed seed, few examples: CI) and
``benchmarks/api_fuzz.py`` (a random seed, many examples: the soak). Every check runs
(``--checks all``) in every phase (examples, coverage, fuzzing, stateful); the number of
requests is read from the run's HAR report.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DESCRIPTION = REPO / "api-specs" / "govbot.yaml"
SEED = 20261203
PHASES = "examples,coverage,fuzzing,stateful"


@dataclass(frozen=True)
class FuzzRun:
    """One schemathesis run: its exit code and output, requests made, seconds taken."""

    returncode: int
    output: str
    requests: int
    seconds: float
    seed: int
    max_examples: int

    @property
    def summary(self) -> str:
        verdict = "no failure" if self.returncode == 0 else f"FAILED (exit {self.returncode})"
        return (
            f"schemathesis seed {self.seed}, {self.max_examples} examples per operation, "
            f"phases {PHASES}, all checks: {self.requests} requests in {self.seconds:.1f} s, "
            f"{verdict}"
        )


def schemathesis() -> str:
    """The ``st`` command installed next to this Python (the test extras' schemathesis)."""
    beside = Path(sys.executable).parent / "st"
    found = str(beside) if beside.exists() else shutil.which("st")
    if found is None:
        raise RuntimeError("schemathesis is not installed: pip install -e '.[test]'")
    return found


def run_schemathesis(
    api_url: str, *, seed: int, max_examples: int, report_dir: Path, timeout: float = 3600
) -> FuzzRun:
    """Run every phase and check against ``api_url`` (``http://HOST:PORT/api``)."""
    report_dir.mkdir(parents=True, exist_ok=True)
    har = report_dir / f"schemathesis-{seed}.har"
    command = [
        schemathesis(),
        "run",
        str(DESCRIPTION),
        "--url",
        api_url,
        "--checks",
        "all",
        "--phases",
        PHASES,
        "--seed",
        str(seed),
        "--max-examples",
        str(max_examples),
        "--generation-database",
        "none",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "har",
        "--report-har-path",
        str(har),
    ]
    started = time.monotonic()
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, check=False, cwd=report_dir
    )
    seconds = time.monotonic() - started
    requests = len(json.loads(har.read_text())["log"]["entries"]) if har.exists() else 0
    output = done.stdout + done.stderr
    return FuzzRun(done.returncode, output, requests, seconds, seed, max_examples)


__all__ = ["DESCRIPTION", "PHASES", "SEED", "FuzzRun", "run_schemathesis", "schemathesis"]
