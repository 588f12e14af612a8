#!/usr/bin/env python3
"""Measure govbot's breaking-change verdicts on the catalogue, through `govbot check --base`.

The catalogue (``tests/data/breaking/catalogue.yaml``, read by ``tests/rules/catalogue.py``)
holds small spec pairs written from the principle of ``docs/breaking-changes.md``, each
marked breaking or fine. Every pair is written to a temporary directory and checked by
the command line exactly as a user runs it; a pair counts as *reported* when the run has
at least one finding of severity ``error`` (exit code 1). Printed: the recall (breaking
pairs reported as errors), the false alarms (fine pairs with an error), and each miss
with the rules that fired.

Usage: python benchmarks/breaking.py [--fast] [--jobs 2] [--govbot .venv/bin/govbot]
       [--catalogue FILE] [--today 2026-06-01]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.rules import catalogue  # noqa: E402  (the catalogue lives with the tests)


def verdict(govbot: str, pair: catalogue.Pair, today: str) -> tuple[bool, list[str], int]:
    """(reported as an error, the rules of the error findings, exit code) for one pair."""
    with tempfile.TemporaryDirectory() as tmp:
        base, head = catalogue.write(pair, Path(tmp))
        out = subprocess.run(
            [govbot, "check", "--format", "json", "--today", today, "--base", str(base), str(head)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    if out.returncode == 2:
        return False, [f"govbot could not run: {out.stderr.strip()}"], 2
    findings = json.loads(out.stdout or "{}").get("findings", [])
    rules = sorted({f["rule"] for f in findings if f["severity"] == "error"})
    return bool(rules), rules, out.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--govbot", default=str(ROOT / ".venv" / "bin" / "govbot"))
    parser.add_argument("--catalogue", type=Path, default=catalogue.DATA / "catalogue.yaml")
    parser.add_argument("--fast", action="store_true", help="the test suite's selection")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--today", default="2026-06-01")
    args = parser.parse_args()

    pairs = catalogue.pairs(args.catalogue, fast=args.fast)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda p: verdict(args.govbot, p, args.today), pairs))
    seconds = time.perf_counter() - started

    breaking = [(p, r) for p, r in zip(pairs, results, strict=True) if p.breaking]
    fine = [(p, r) for p, r in zip(pairs, results, strict=True) if not p.breaking]
    missed = [(p, r) for p, r in breaking if not r[0]]
    alarms = [(p, r) for p, r in fine if r[0]]
    kinds = len({p.kind for p in pairs})
    print(f"{len(pairs)} changes of {kinds} kinds in {seconds:.1f} s ({args.catalogue.name})")
    hit = len(breaking) - len(missed)
    recall = hit / len(breaking) if breaking else 1.0
    print(f"breaking reported as errors: {hit}/{len(breaking)} ({recall:.1%})")
    print(f"false alarms on non-breaking: {len(alarms)}/{len(fine)}")
    for p, (_, rules, code) in missed:
        print(f"  missed       {p.name} (exit {code}; errors: {', '.join(rules) or 'none'})")
    for p, (_, rules, _code) in alarms:
        print(f"  false alarm  {p.name} ({', '.join(rules)})")
    return 0 if not missed and not alarms else 1


if __name__ == "__main__":
    sys.exit(main())
