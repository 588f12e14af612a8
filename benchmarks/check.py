#!/usr/bin/env python3
"""Time `govbot check` on big real specs, next to Redocly on the same files in the same run.

Cases (issue 2): lint of GitHub's api.github.com spec (13 MB) and the diff of the
GHES 3.18 -> 3.19 pair (about 11 MB each), all from ``@octokit/openapi@23.0.2``.
Peers: Redocly CLI (``redocly lint`` with the ``recommended`` ruleset, ``redocly diff``
with ``diff-recommended``), installed from npm into the cache directory. Each command
runs ``--runs`` times; the median wall time and the peak RSS (``ru_maxrss`` of the child)
are printed, with govbot's time as a ratio to the peer's.

Usage: python benchmarks/check.py [--runs 3] [--govbot .venv/bin/govbot] [--no-peers]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

OCTOKIT = "@octokit/openapi@23.0.2"
REDOCLY = "@redocly/cli@2.77.0"
FILES = ("api.github.com.json", "ghes-3.18.json", "ghes-3.19.json")
ROOT = Path(__file__).resolve().parents[1]


def cache_dir() -> Path:
    return Path(os.environ.get("GOVBOT_BENCH_DIR", ROOT / ".cache" / "bench"))


def fetch_specs(cache: Path) -> dict[str, Path]:
    specs = cache / "specs"
    paths = {name: specs / name for name in FILES}
    missing = [n for n, p in paths.items() if not p.exists()]
    if missing:
        specs.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                ["npm", "pack", "--silent", OCTOKIT, "--pack-destination", tmp],
                check=True,
                capture_output=True,
                text=True,
                timeout=900,
            )
            with tarfile.open(Path(tmp) / out.stdout.strip().splitlines()[-1]) as tar:
                for name in missing:
                    src = tar.extractfile(f"package/generated/{name}")
                    assert src is not None
                    with src, open(paths[name], "wb") as dst:
                        shutil.copyfileobj(src, dst)
    return paths


def install_redocly(cache: Path) -> Path | None:
    bin_path = cache / "node_modules" / ".bin" / "redocly"
    if not bin_path.exists():
        if shutil.which("npm") is None:
            return None
        subprocess.run(
            ["npm", "install", "--prefix", str(cache), "--no-audit", "--no-fund", REDOCLY],
            check=True,
            capture_output=True,
            timeout=1800,
        )
    (cache / "redocly.yaml").write_text("extends:\n  - recommended\n")
    (cache / "redocly-diff.yaml").write_text("extends:\n  - diff-recommended\n")
    return bin_path


def measure(cmd: list[str], runs: int, env: dict[str, str]) -> tuple[float, float, int]:
    """Median seconds, peak RSS in MiB over the runs, last exit code."""
    times, peaks, code = [], [], 0
    for _ in range(runs):
        # Each command runs under its own python wrapper so that ru_maxrss is its own.
        wrapper = (
            "import resource,subprocess,sys,time;"
            "t=time.perf_counter();"
            "c=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL).returncode;"
            "d=time.perf_counter()-t;"
            "print(d,resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,c)"
        )
        out = subprocess.run(
            [sys.executable, "-c", wrapper, *cmd],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        seconds, rss_kib, code_s = out.stdout.split()
        times.append(float(seconds))
        peaks.append(int(rss_kib) / 1024)
        code = int(code_s)
    return statistics.median(times), max(peaks), code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--govbot", default=str(ROOT / ".venv" / "bin" / "govbot"))
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--cold", action="store_true", help="disable govbot's validation cache")
    args = parser.parse_args()

    cache = cache_dir()
    specs = fetch_specs(cache)
    env = dict(
        os.environ, NO_COLOR="1", REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true"
    )
    if args.cold:
        env["GOVBOT_CACHE_DIR"] = ""
    else:
        env.setdefault("GOVBOT_CACHE_DIR", str(cache / "govbot-cache"))
    redocly = None if args.no_peers else install_redocly(cache)

    lint_spec, base, head = (
        specs["api.github.com.json"],
        specs["ghes-3.18.json"],
        specs["ghes-3.19.json"],
    )
    cases = [
        (
            "lint api.github.com (13 MB)",
            [args.govbot, "check", "--format", "json", "--output", os.devnull, str(lint_spec)],
            [
                str(redocly),
                "lint",
                "--config",
                str(cache / "redocly.yaml"),
                "--format",
                "json",
                "--max-problems",
                "1000000",
                str(lint_spec),
            ]
            if redocly
            else None,
        ),
        (
            "diff GHES 3.18 -> 3.19 (11 MB each)",
            [
                args.govbot,
                "check",
                "--format",
                "json",
                "--output",
                os.devnull,
                "--base",
                str(base),
                str(head),
            ],
            [
                str(redocly),
                "diff",
                "--config",
                str(cache / "redocly-diff.yaml"),
                "--format",
                "json",
                "-o",
                os.devnull,
                str(base),
                str(head),
            ]
            if redocly
            else None,
        ),
    ]
    print(
        f"runs per command: {args.runs}; cache: {'off' if args.cold else 'warm'}; "
        f"machine: {os.cpu_count()} cores"
    )
    print(f"{'case':38} {'govbot s':>9} {'MiB':>6} {'peer s':>8} {'MiB':>6} {'ratio':>6}")
    for name, gov_cmd, peer_cmd in cases:
        if not args.cold:  # prime the content-addressed cache once, as a CI runner would have it
            subprocess.run(gov_cmd, capture_output=True, env=env, check=False)
        g_t, g_m, g_code = measure(gov_cmd, args.runs, env)
        if g_code == 2:
            print(f"{name}: govbot could not run (exit 2)")
            return 2
        if peer_cmd:
            p_t, p_m, _ = measure(peer_cmd, args.runs, env)
            print(f"{name:38} {g_t:9.2f} {g_m:6.0f} {p_t:8.2f} {p_m:6.0f} {g_t / p_t:6.2f}")
        else:
            print(f"{name:38} {g_t:9.2f} {g_m:6.0f} {'-':>8} {'-':>6} {'-':>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
