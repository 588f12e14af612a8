#!/usr/bin/env python3
"""Precision and recall of "unjustified" on any labelled set of design specs.

The labels are a CSV with the columns ``path`` (relative to DIR) and ``label``
(``justified``, ``unjustified``; anything else, such as ``template``, ``weak`` or
``contested``, is left out of the measure). Each spec is judged as ``govbot blueprint``
judges it: with the templates found next to it. Disagreements are printed with govbot's
evidence, so that a reader can check who is right.

Usage: python benchmarks/blueprint_labels.py DIR LABELS.csv [--quiet]

tests/blueprints/test_corpora.py runs the same measure on the nova and manila sets.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from govbot.blueprints import BlueprintConfig, Judgement, judge_file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("labels", type=Path)
    parser.add_argument("--quiet", action="store_true", help="print only the figures")
    args = parser.parse_args()
    with args.labels.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    config = BlueprintConfig()
    tp = fp = fn = tn = 0
    for row in rows:
        label = row["label"]
        if label not in ("justified", "unjustified"):
            continue
        _, verdict = judge_file(args.root / row["path"], config, display=row["path"])
        said = verdict.verdict is Judgement.UNJUSTIFIED
        if label == "unjustified":
            tp, fn = tp + said, fn + (not said)
        else:
            fp, tn = fp + said, tn + (not said)
        if said != (label == "unjustified") and not args.quiet:
            print(f"{row['path']}: labelled {label}, govbot {verdict.strength}: {verdict.evidence}")
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    print(
        f"precision {precision:.2f}, recall {recall:.2f} of 'unjustified' "
        f"(tp {tp}, fp {fp}, fn {fn}, tn {tn})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
